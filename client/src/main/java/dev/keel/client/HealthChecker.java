package dev.keel.client;

/**
 * Tells {@link KeelClient#startHeartbeats} how the service is before each heartbeat. Called on the
 * heartbeat thread, so it should be quick. If it throws (or returns null), that heartbeat reports
 * {@code unhealthy} with the exception's message in the details under {@code healthCheckError}.
 *
 * <pre>{@code
 * HealthChecker checker = () -> database.isValid(1)
 *     ? HealthCheck.healthy()
 *     : HealthCheck.of(HealthStatus.DEGRADED, Map.of("database", "not answering"));
 * }</pre>
 */
@FunctionalInterface
public interface HealthChecker {

  HealthCheck check() throws Exception;

  /** Always healthy: the heartbeat itself says the process is alive. */
  static HealthChecker alwaysHealthy() {
    return HealthCheck::healthy;
  }
}
