package dev.keel.pipeline;

import java.time.Instant;

/**
 * What the status view shows of one component at one moment. {@code state} is the registry's status
 * word ({@code healthy}, {@code degraded}, {@code unhealthy}, {@code stale}) once the component has
 * registered, else keel run's own ({@code waiting}, {@code starting}, {@code restarting}, {@code
 * finished}, {@code failed}, {@code stopped}).
 */
record ComponentStatus(
    String id, String state, int restarts, Instant lastHeartbeatAt, String keyMetric) {

  /**
   * What counts as a change worth a line: the state and the restarts, not the ever-moving heartbeat
   * and metric.
   */
  String changeKey() {
    return state + "/" + restarts;
  }
}
