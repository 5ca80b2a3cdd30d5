package dev.keel.client;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * An alert rule as Keel keeps it, with its last firings.
 *
 * @param triggered what the rule is currently triggered for (service ids), as Keel sends it
 * @param firings the last firings, oldest first
 */
public record Alert(
    String id,
    String service,
    String condition,
    String webhook,
    Integer cooldownSeconds,
    String tenantId,
    Instant createdAt,
    Instant updatedAt,
    List<JsonNode> triggered,
    List<Firing> firings) {

  public Alert {
    triggered = Copies.list(triggered);
    firings = Copies.list(firings);
  }

  /** The rule as written, to change it and put it back. */
  public AlertRule rule() {
    return new AlertRule(service, condition, webhook, cooldownSeconds);
  }

  /**
   * One firing of the rule: for which service, in which status and with which metrics, and the
   * durable workflow that delivers its webhook.
   */
  public record Firing(Long seq, String service, String status, Map<String, Double> metrics, Instant firedAt,
                       String deliveryWorkflowId) {
    public Firing {
      metrics = Copies.map(metrics);
    }
  }
}
