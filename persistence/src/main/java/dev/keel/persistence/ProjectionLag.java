package dev.keel.persistence;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How far each projection instance trails the journal: the age of the newest event it handled, when
 * it handled it. Logged once a minute per instance, and at once when it passes 10 s.
 */
public final class ProjectionLag {

  private static final Logger log = LoggerFactory.getLogger(ProjectionLag.class);
  private static final Duration WARN_OVER = Duration.ofSeconds(10);
  private static final Duration LOG_EVERY = Duration.ofMinutes(1);

  private final Clock clock;
  private final Map<String, Duration> lagByTag = new ConcurrentHashMap<>();
  private final Map<String, Instant> loggedAt = new ConcurrentHashMap<>();

  public ProjectionLag(Clock clock) {
    this.clock = clock;
  }

  public void record(String tag, Instant newestEventAt) {
    Instant now = clock.instant();
    Duration lag = Duration.between(newestEventAt, now);
    lagByTag.put(tag, lag);
    Instant last = loggedAt.get(tag);
    if (lag.compareTo(WARN_OVER) > 0) {
      log.warn("projection lag tag={} lagMillis={}", tag, lag.toMillis());
      loggedAt.put(tag, now);
    } else if (last == null || Duration.between(last, now).compareTo(LOG_EVERY) > 0) {
      log.info("projection lag tag={} lagMillis={}", tag, lag.toMillis());
      loggedAt.put(tag, now);
    }
  }

  /** The last measured lag of every projection instance, by tag. */
  public Map<String, Duration> snapshot() {
    return Map.copyOf(lagByTag);
  }
}
