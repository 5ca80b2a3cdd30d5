package dev.keel.client;

import java.util.Map;
import java.util.Objects;

/**
 * The outcome of a {@link HealthChecker}: a status and details that explain it.
 *
 * @param status what to report
 * @param details free key/value pairs shown with the service (say, which dependency is down)
 */
public record HealthCheck(HealthStatus status, Map<String, String> details) {

  public HealthCheck {
    Objects.requireNonNull(status, "status");
    details = Copies.map(details);
  }

  public static HealthCheck healthy() {
    return new HealthCheck(HealthStatus.HEALTHY, Map.of());
  }

  public static HealthCheck of(HealthStatus status) {
    return new HealthCheck(status, Map.of());
  }

  public static HealthCheck of(HealthStatus status, Map<String, String> details) {
    return new HealthCheck(status, details);
  }
}
