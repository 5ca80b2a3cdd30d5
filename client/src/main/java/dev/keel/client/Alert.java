package dev.keel.client;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * An alert rule as Keel keeps it. {@link KeelClient#getAlert} has the live parts ({@code triggered}
 * and the last {@code firings}); the items of {@link KeelClient#listAlerts} come from a read model
 * and carry only {@code firingCount} and {@code lastFiredAt} (their lists are empty).
 *
 * @param triggered the services the rule is triggered for now (it fires again for one only after
 *     the condition cleared)
 * @param firingCount how many times the rule has fired
 * @param lastFiredAt when it last fired, or null
 * @param firings the last firings (at most 20), newest first
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
    List<String> triggered,
    Long firingCount,
    Instant lastFiredAt,
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
   *
   * @param delivery how the delivery stands: {@code pending}, {@code started}, then {@code
   *     delivered} or {@code abandoned}
   */
  public record Firing(
      Long seq,
      String service,
      String status,
      Map<String, Double> metrics,
      Instant firedAt,
      String deliveryWorkflowId,
      String delivery) {
    public Firing {
      metrics = Copies.map(metrics);
    }
  }
}
