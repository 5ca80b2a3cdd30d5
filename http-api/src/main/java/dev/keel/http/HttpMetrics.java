package dev.keel.http;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Requests and their latency by method, route template ({@link RouteTemplate}) and status. One
 * timer per series, made on first use and then found in a map, so a request costs a lookup and a
 * record.
 */
public final class HttpMetrics {

  private static final Duration[] BUCKETS = {
    Duration.ofMillis(1),
    Duration.ofMillis(5),
    Duration.ofMillis(10),
    Duration.ofMillis(25),
    Duration.ofMillis(50),
    Duration.ofMillis(100),
    Duration.ofMillis(250),
    Duration.ofMillis(500),
    Duration.ofSeconds(1),
    Duration.ofSeconds(5),
    Duration.ofSeconds(30),
    Duration.ofSeconds(60)
  };

  private record Series(String method, String route, int status) {}

  private final MeterRegistry registry;
  private final Map<Series, Timer> timers = new ConcurrentHashMap<>();

  public HttpMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  public void record(String method, String route, int status, long nanos) {
    timers
        .computeIfAbsent(
            new Series(method, route, status),
            s ->
                Timer.builder("keel.http.requests")
                    .description(
                        "requests answered, by method, route template and status; latency until the"
                            + " answer is ready")
                    .tag("method", s.method())
                    .tag("route", s.route())
                    .tag("status", Integer.toString(s.status()))
                    .serviceLevelObjectives(BUCKETS)
                    .register(registry))
        .record(nanos, TimeUnit.NANOSECONDS);
  }

  /** Requests answered so far, every route and status together. */
  public double total() {
    return timers.values().stream().mapToDouble(Timer::count).sum();
  }
}
