package dev.keel.registry.alert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.persistence.Rejection;
import dev.keel.registry.alert.AlertRule.Command;
import dev.keel.registry.alert.AlertRule.DeliveryEnded;
import dev.keel.registry.alert.AlertRule.DeliveryFollowFailed;
import dev.keel.registry.alert.AlertRule.DeliveryStartAcknowledged;
import dev.keel.registry.alert.AlertRule.DeliveryStartFailed;
import dev.keel.registry.alert.AlertRule.FollowDelivery;
import dev.keel.registry.alert.AlertRule.PendingDelivery;
import dev.keel.workflow.execution.InvalidInputException;
import dev.keel.workflow.execution.WorkflowOutcomes;
import dev.keel.workflow.execution.WorkflowStarter;
import dev.keel.workflow.execution.WorkflowStarter.StartOutcome;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.typed.javadsl.ActorContext;

/**
 * The delivery side of one {@link AlertRule}, not journaled: it starts the {@value
 * WebhookDeliveryWorkflow#NAME} workflow of a firing and follows it to its end, each time answering
 * the rule with a command (the rule journals what it learns). A start or a follow in flight is not
 * asked again until it answers. Lives as long as the rule's actor.
 */
final class DeliveryOutbox {

  private static final DateTimeFormatter INSTANT_MILLIS =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
  private static final int MAX_WORKFLOW_ID = 128;

  private final String ruleId;
  private final WorkflowStarter starter;
  private final WorkflowOutcomes outcomes;
  private final AlertSettings settings;
  private final ActorContext<Command> context;

  /** Firings whose start is on its way. */
  private final Set<Long> starting = new HashSet<>();

  /** Firings whose delivery workflow is being waited for. */
  private final Set<Long> following = new HashSet<>();

  DeliveryOutbox(
      String ruleId,
      WorkflowStarter starter,
      WorkflowOutcomes outcomes,
      AlertSettings settings,
      ActorContext<Command> context) {
    this.ruleId = ruleId;
    this.starter = starter;
    this.outcomes = outcomes;
    this.settings = settings;
    this.context = context;
  }

  /**
   * The id of the delivery workflow of firing {@code seq}: {@code alert.<ruleId>.<seq>}, a valid
   * client id so that {@code GET /api/v1/workflows/{id}} finds it; for rule ids too long for that,
   * a hash of the rule id stands in for it.
   */
  static String deliveryWorkflowId(String ruleId, long seq) {
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

  /**
   * The {@value WebhookDeliveryWorkflow#NAME} input of a firing: the same for every start of it, so
   * that a repeated start is recognised as the same execution.
   */
  static JsonNode deliveryInput(String ruleId, PendingDelivery d) {
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

  /**
   * Starts the delivery of {@code d}; answers {@link DeliveryStartAcknowledged} or {@link
   * DeliveryStartFailed}.
   */
  void start(PendingDelivery d) {
    if (!starting.add(d.seq())) return;
    CompletionStage<StartOutcome> started;
    try {
      started =
          starter.start(
              d.workflowId(), WebhookDeliveryWorkflow.NAME, deliveryInput(ruleId, d), d.tenantId());
    } catch (RuntimeException e) {
      started = CompletableFuture.failedFuture(e);
    }
    context.pipeToSelf(
        bounded(started, settings.askTimeout().toMillis()),
        (outcome, failure) -> {
          if (failure == null && outcome != null)
            return new DeliveryStartAcknowledged(d.seq(), d.workflowId(), outcome.created());
          return new DeliveryStartFailed(
              d.seq(),
              d.workflowId(),
              failure == null ? "the starter answered nothing" : describe(failure),
              failure != null && isPermanent(failure));
        });
  }

  /** The start of firing {@code seq} answered. */
  void startAnswered(long seq) {
    starting.remove(seq);
  }

  /**
   * Waits up to {@link AlertSettings#deliveryFollowWait()} for the delivery workflow of firing
   * {@code seq} to end; answers {@link DeliveryEnded}, {@link FollowDelivery} (still going: wait
   * again) or {@link DeliveryFollowFailed}.
   */
  void follow(long seq, String workflowId) {
    if (!following.add(seq)) return;
    CompletionStage<Optional<WorkflowOutcomes.Outcome>> ended;
    try {
      ended = outcomes.awaitOutcome(workflowId, settings.deliveryFollowWait());
    } catch (RuntimeException e) {
      ended = CompletableFuture.failedFuture(e);
    }
    long limit = settings.deliveryFollowWait().plus(settings.askTimeout()).toMillis();
    context.pipeToSelf(
        bounded(ended, limit),
        (outcome, failure) -> {
          if (failure == null && outcome != null && outcome.isPresent()) {
            WorkflowOutcomes.Outcome o = outcome.get();
            return new DeliveryEnded(
                seq,
                workflowId,
                o.completed(),
                o.completed()
                    ? null
                    : ("cancelled".equals(o.status())
                            ? "the delivery workflow was cancelled"
                            : "the delivery workflow failed")
                        + (o.error() == null ? "" : ": " + o.error()));
          }
          if (failure == null) return new FollowDelivery(seq);
          if (Rejection.of(failure).map(r -> r.kind() == Rejection.Kind.NOT_FOUND).orElse(false)) {
            return new DeliveryEnded(
                seq, workflowId, false, "the delivery workflow does not exist");
          }
          return new DeliveryFollowFailed(seq, workflowId, describe(failure));
        });
  }

  /** The follow of firing {@code seq} answered. */
  void followAnswered(long seq) {
    following.remove(seq);
  }

  /**
   * An ask that never answers must not hold a firing forever: past {@code millis} it is a failure.
   */
  static <T> CompletionStage<T> bounded(CompletionStage<T> asked, long millis) {
    CompletableFuture<T> result = new CompletableFuture<>();
    asked.whenComplete(
        (value, failure) -> {
          if (failure != null) result.completeExceptionally(failure);
          else result.complete(value);
        });
    return result.orTimeout(millis, TimeUnit.MILLISECONDS);
  }

  /**
   * The same start cannot succeed later: the id belongs to another execution, or the input is
   * refused.
   */
  static boolean isPermanent(Throwable failure) {
    Throwable cause = unwrap(failure);
    if (cause instanceof InvalidInputException) return true;
    Optional<Rejection> rejection = Rejection.of(failure);
    return rejection.isPresent()
        && (rejection.get().kind() == Rejection.Kind.CONFLICT
            || rejection.get().kind() == Rejection.Kind.INVALID);
  }

  private static Throwable unwrap(Throwable failure) {
    Throwable cause = failure;
    while (cause instanceof CompletionException && cause.getCause() != null)
      cause = cause.getCause();
    return cause;
  }

  static String describe(Throwable failure) {
    Throwable cause = unwrap(failure);
    if (cause instanceof TimeoutException) return "no answer within the ask timeout";
    String message = cause.getMessage();
    return message == null || message.isBlank() ? cause.getClass().getSimpleName() : message;
  }
}
