package dev.keel.client;

import java.util.Map;

/**
 * Gives the metrics of each heartbeat of {@link KeelClient#startHeartbeats}. Called on the
 * heartbeat thread, so it should be quick. If it throws, that heartbeat reports {@code unhealthy}
 * with the exception's message in the details under {@code metricsError}.
 *
 * <pre>{@code
 * MetricsProvider metrics = () -> Map.of("lag_seconds", consumer.lagSeconds(), "queue_depth", (double) queue.size());
 * }</pre>
 */
@FunctionalInterface
public interface MetricsProvider {

  /** The metrics now, by name; null or empty for none. */
  Map<String, Double> metrics() throws Exception;

  /** Reports no metrics. */
  static MetricsProvider none() {
    return Map::of;
  }
}
