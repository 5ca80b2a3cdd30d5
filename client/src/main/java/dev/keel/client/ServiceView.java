package dev.keel.client;

import java.time.Instant;
import java.util.Map;

/**
 * One registered service as Keel knows it ({@code GET /api/v1/services/{id}}), with the metrics and
 * details of its last heartbeat. Fields Keel adds later are ignored; those it leaves out are null.
 */
public record ServiceView(
    String id,
    String name,
    String type,
    String endpoint,
    Map<String, String> metadata,
    ServiceStatus status,
    Instant registeredAt,
    Instant lastHeartbeatAt,
    Map<String, Double> metrics,
    Map<String, String> details,
    Integer ttlSeconds,
    Integer deregisterAfterSeconds,
    Instant statusSince,
    Instant nextHeartbeatBefore,
    String tenantId) {

  public ServiceView {
    metadata = Copies.map(metadata);
    metrics = Copies.map(metrics);
    details = Copies.map(details);
  }
}
