package dev.keel.registry.service;

import java.time.Instant;
import java.util.Map;

/**
 * What a service entity knows of its service's health at one instant: its status word ({@code
 * healthy}, {@code degraded}, {@code unhealthy} or {@code stale}) and the metrics of its last
 * heartbeat. {@code tenantId} is null for services registered with the admin token.
 */
public record ServiceObservation(
    String serviceId,
    String tenantId,
    String type,
    String status,
    Map<String, Double> metrics,
    Instant at) {

  public ServiceObservation {
    metrics = metrics == null ? Map.of() : Map.copyOf(metrics);
  }
}
