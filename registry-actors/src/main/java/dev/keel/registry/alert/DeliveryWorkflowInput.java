package dev.keel.registry.alert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.registry.alert.AlertRule.PendingDelivery;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.TreeMap;

/**
 * The {@value WebhookDeliveryWorkflow#NAME} workflow of a firing: its id and its input, each the
 * same for every start of the firing, so that a repeated start is recognised as the same execution.
 */
public final class DeliveryWorkflowInput {

  private static final DateTimeFormatter INSTANT_MILLIS =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
  private static final int MAX_WORKFLOW_ID = 128;

  private DeliveryWorkflowInput() {}

  /**
   * The id of the delivery workflow of firing {@code seq}: {@code alert.<ruleId>.<seq>}, a valid
   * client id so that {@code GET /api/v1/workflows/{id}} finds it; for rule ids too long for that,
   * a hash of the rule id stands in for it.
   */
  public static String workflowId(String ruleId, long seq) {
    String id = "alert." + ruleId + "." + seq;
    if (id.length() <= MAX_WORKFLOW_ID) return id;
    try {
      byte[] hash =
          MessageDigest.getInstance("SHA-256").digest(ruleId.getBytes(StandardCharsets.UTF_8));
      return "alert." + HexFormat.of().formatHex(hash, 0, 20) + "." + seq;
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  /** The workflow's input for firing {@code d}: where to post, what, and its idempotency key. */
  public static JsonNode of(String ruleId, PendingDelivery d) {
    JsonNodeFactory f = JsonNodeFactory.instance;
    ObjectNode payload = f.objectNode();
    payload.put("alert", ruleId);
    payload.put("service", d.serviceId());
    payload.put("condition", d.condition());
    payload.put("status", d.status());
    ObjectNode metrics = payload.putObject("metrics");
    new TreeMap<>(d.metrics()).forEach(metrics::put);
    payload.put("firedAt", INSTANT_MILLIS.format(d.firedAt()));
    ObjectNode input = f.objectNode();
    input.put("url", d.webhook());
    input.set("payload", payload);
    input.put("idempotencyKey", d.workflowId());
    return input;
  }
}
