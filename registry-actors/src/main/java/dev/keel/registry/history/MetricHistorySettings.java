package dev.keel.registry.history;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** {@code keel.services.history}: see {@code keel-services.conf} for what each setting means. */
public record MetricHistorySettings(
    boolean enabled,
    List<Tier> tiers,
    Duration flushInterval,
    Duration coarseFlushInterval,
    int bufferSize,
    int maxMetricsPerService,
    Duration retentionInterval) {

  /** One tier: buckets of {@code resolution} kept for {@code retention}. */
  public record Tier(Duration resolution, Duration retention) {
    public long resolutionSeconds() {
      return resolution.toSeconds();
    }
  }

  public MetricHistorySettings {
    tiers = List.copyOf(tiers);
    if (tiers.isEmpty()) throw new IllegalArgumentException("tiers: at least one is needed");
    Tier previous = null;
    for (Tier t : tiers) {
      long s = t.resolution().toSeconds();
      if (s < 1 || !t.resolution().equals(Duration.ofSeconds(s)))
        throw new IllegalArgumentException("tiers: a resolution must be a whole number of seconds");
      if (t.retention().compareTo(t.resolution()) < 0)
        throw new IllegalArgumentException("tiers: a retention must be at least its resolution");
      if (previous != null
          && (s <= previous.resolutionSeconds() || s % previous.resolutionSeconds() != 0))
        throw new IllegalArgumentException(
            "tiers: each resolution must be a multiple of the previous one, and larger");
      previous = t;
    }
    positive("flush-interval", flushInterval);
    positive("coarse-flush-interval", coarseFlushInterval);
    positive("retention-interval", retentionInterval);
    if (bufferSize < 1) throw new IllegalArgumentException("buffer-size must be positive");
    if (maxMetricsPerService < 1)
      throw new IllegalArgumentException("max-metrics-per-service must be positive");
  }

  /** The finest tier, the one flushed every {@code flushInterval}. */
  public Tier finest() {
    return tiers.get(0);
  }

  /** The longest span any tier keeps. */
  public Duration longestRetention() {
    return tiers.stream().map(Tier::retention).max(Duration::compareTo).orElseThrow();
  }

  /** Reads the {@code keel.services.history} block. */
  public static MetricHistorySettings fromConfig(Config history) {
    List<Tier> tiers = new ArrayList<>();
    for (Config t : history.getConfigList("tiers"))
      tiers.add(new Tier(t.getDuration("resolution"), t.getDuration("retention")));
    return new MetricHistorySettings(
        history.getBoolean("enabled"),
        tiers,
        history.getDuration("flush-interval"),
        history.getDuration("coarse-flush-interval"),
        history.getInt("buffer-size"),
        history.getInt("max-metrics-per-service"),
        history.getDuration("retention-interval"));
  }

  private static void positive(String name, Duration d) {
    if (d.isNegative() || d.isZero())
      throw new IllegalArgumentException(name + " must be positive");
  }
}
