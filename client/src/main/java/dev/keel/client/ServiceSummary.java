package dev.keel.client;

import java.time.Instant;
import java.util.Map;

/** One service of a list ({@code GET /api/v1/services}): what the read model holds, no metrics. */
public record ServiceSummary(
    String id,
    String name,
    String type,
    String endpoint,
    Map<String, String> metadata,
    ServiceStatus status,
    Instant registeredAt,
    Instant statusSince,
    Instant lastHeartbeatAt,
    String tenantId) {

  public ServiceSummary {
    metadata = Copies.map(metadata);
  }
}
