package dev.keel.registry.service;

import dev.keel.registry.service.RegisteredService.Registered;
import dev.keel.registry.service.RegisteredService.ServiceDefinition;
import dev.keel.registry.service.RegisteredService.ServiceView;
import java.time.Instant;
import java.util.Map;

/**
 * A service as the API shows it: its journaled state with what its heartbeats left in memory (none
 * for audit's past views, heartbeats are not journaled).
 */
final class ServiceViews {

  private ServiceViews() {}

  static ServiceView of(
      String serviceId,
      Registered s,
      Instant lastHeartbeatAt,
      Map<String, Double> metrics,
      Map<String, String> details,
      Instant nextHeartbeatBefore) {
    ServiceDefinition d = s.def();
    return new ServiceView(
        serviceId,
        d.name(),
        d.type(),
        d.endpoint(),
        d.metadata(),
        s.status(),
        s.registeredAt(),
        lastHeartbeatAt,
        metrics,
        details,
        d.ttlSeconds(),
        d.deregisterAfterSeconds(),
        s.statusSince(),
        nextHeartbeatBefore,
        d.tenantId(),
        s.updatedAt());
  }
}
