package dev.keel.registry.service;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.util.Map;

/**
 * What service entities count on this node: heartbeats (thousands a second, so one pre-registered
 * counter) and journaled status transitions by the status they lead to.
 */
public final class ServiceMetrics {

  /** Counts into nothing (tests, embedders without a registry). */
  public static final ServiceMetrics NONE = new ServiceMetrics(new CompositeMeterRegistry());

  private final Counter heartbeats;
  private final Map<String, Counter> transitionsTo;
  private final Counter transitionsToOther;

  public ServiceMetrics(MeterRegistry registry) {
    heartbeats =
        Counter.builder("keel.services.heartbeats")
            .description("heartbeats accepted by service entities on this node")
            .register(registry);
    transitionsTo =
        Map.of(
            "healthy", transition(registry, "healthy"),
            "degraded", transition(registry, "degraded"),
            "unhealthy", transition(registry, "unhealthy"),
            "stale", transition(registry, "stale"));
    transitionsToOther = transition(registry, "other");
  }

  private static Counter transition(MeterRegistry registry, String to) {
    return Counter.builder("keel.services.transitions")
        .tag("to", to)
        .description("journaled status changes of services on this node, by new status")
        .register(registry);
  }

  void heartbeat() {
    heartbeats.increment();
  }

  void transition(String to) {
    transitionsTo.getOrDefault(to, transitionsToOther).increment();
  }
}
