package dev.keel.tenant.domain;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * When a pending hostname's TXT record is checked: after each of {@code backoff} in turn (frequent
 * at first), then every {@code every}, until {@code giveUpAfter} from the start of the schedule,
 * with a last check exactly then (Cloudflare's custom-hostname schedule is the model). Check times
 * are offsets from the start, so a check on request or one missed while no node ran the entity does
 * not shift the ones after it.
 */
public record VerificationSchedule(List<Duration> backoff, Duration every, Duration giveUpAfter) {

  public VerificationSchedule {
    backoff = List.copyOf(backoff);
    for (Duration d : backoff) {
      if (d.isNegative() || d.isZero())
        throw new IllegalArgumentException("check-backoff entries must be positive");
    }
    if (every.isNegative() || every.isZero())
      throw new IllegalArgumentException("check-every must be positive");
    if (giveUpAfter.isNegative() || giveUpAfter.isZero())
      throw new IllegalArgumentException("give-up-after must be positive");
  }

  /** The default: 1, 2, 5, 10, 15 and 30 minutes, then hourly, for 7 days. */
  public static VerificationSchedule cloudflareLike() {
    return new VerificationSchedule(
        List.of(
            Duration.ofMinutes(1),
            Duration.ofMinutes(2),
            Duration.ofMinutes(5),
            Duration.ofMinutes(10),
            Duration.ofMinutes(15),
            Duration.ofMinutes(30)),
        Duration.ofHours(1),
        Duration.ofDays(7));
  }

  /** When the schedule that started at {@code startedAt} gives up. */
  public Instant deadline(Instant startedAt) {
    return startedAt.plus(giveUpAfter);
  }

  /**
   * The first check of the schedule started at {@code startedAt} that is strictly after {@code
   * now}; empty when none is left (the last one, at the deadline, is done).
   */
  public Optional<Instant> nextCheckAfter(Instant startedAt, Instant now) {
    Instant deadline = deadline(startedAt);
    if (!now.isBefore(deadline)) return Optional.empty();
    Instant t = startedAt;
    for (Duration d : backoff) {
      t = t.plus(d);
      if (t.isAfter(now)) return Optional.of(t.isAfter(deadline) ? deadline : t);
    }
    // Past the frequent part: jump to the right period instead of stepping through a week of them.
    long periods = Duration.between(t, now).toNanos() / every.toNanos() + 1;
    Instant next = t.plus(every.multipliedBy(periods));
    return Optional.of(next.isAfter(deadline) ? deadline : next);
  }
}
