package dev.keel.client;

import java.time.Instant;

/** {@code GET /api/v1/services/{id}/health}: the service's status and its last heartbeat. */
public record ServiceHealth(String id, ServiceStatus status, Instant lastHeartbeatAt) {

  public boolean isHealthy() {
    return status == ServiceStatus.HEALTHY;
  }
}
