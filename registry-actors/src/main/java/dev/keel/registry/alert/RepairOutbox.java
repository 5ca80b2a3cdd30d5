package dev.keel.registry.alert;

import dev.keel.persistence.Rejection;
import dev.keel.registry.alert.AlertRule.Command;
import dev.keel.registry.alert.AlertRule.Firing;
import dev.keel.registry.alert.AlertRule.RepairFollowAnswered;
import dev.keel.registry.alert.AlertRule.RepairStartAnswered;
import dev.keel.workflow.execution.WorkflowOutcomes;
import dev.keel.workflow.execution.WorkflowStarter;
import dev.keel.workflow.execution.WorkflowStarter.StartOutcome;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.javadsl.ActorContext;

/**
 * The repair side of one {@link AlertRule}, not journaled, as {@link DeliveryOutbox} is for
 * webhooks: it starts a firing's repair workflow ({@link AlertRepair}) by its stable id through the
 * idempotent starter, as the rule's tenant, and follows it to its end, each time answering the rule
 * with a command that the rule journals. A start or a follow in flight is not asked again until it
 * answers.
 */
final class RepairOutbox {

  private final String ruleId;
  private final WorkflowStarter starter;
  private final WorkflowOutcomes outcomes;
  private final AlertSettings settings;
  private final ActorContext<Command> context;
  private final Set<Long> starting = new HashSet<>();
  private final Set<Long> following = new HashSet<>();

  RepairOutbox(
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

  /** Starts firing {@code f}'s repair; answers {@link RepairStartAnswered}. */
  void start(Firing f, AlertRepair repair, String tenantId) {
    if (!starting.add(f.seq())) return;
    String id = f.repairWorkflowId();
    CompletionStage<StartOutcome> started;
    try {
      started =
          starter.start(
              id,
              repair.workflow(),
              repair.inputFor(ruleId, f.seq(), f.serviceId(), f.status(), f.metrics(), f.firedAt()),
              tenantId);
    } catch (RuntimeException e) {
      started = CompletableFuture.failedFuture(e);
    }
    context.pipeToSelf(
        DeliveryOutbox.bounded(started, settings.askTimeout().toMillis()),
        (outcome, failure) ->
            failure == null && outcome != null
                ? new RepairStartAnswered(f.seq(), id, null, false)
                : new RepairStartAnswered(
                    f.seq(),
                    id,
                    failure == null
                        ? "the starter answered nothing"
                        : DeliveryOutbox.describe(failure),
                    failure != null && DeliveryOutbox.isPermanent(failure)));
  }

  void startAnswered(long seq) {
    starting.remove(seq);
  }

  /**
   * Waits for firing {@code seq}'s repair to end; answers {@link RepairFollowAnswered} with its
   * status ({@code completed}, {@code failed}, {@code cancelled}), or none when it still runs or
   * the wait failed (with a reason then).
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
        DeliveryOutbox.bounded(ended, limit),
        (outcome, failure) -> {
          if (failure == null && outcome != null && outcome.isPresent()) {
            WorkflowOutcomes.Outcome o = outcome.get();
            String status = o.completed() ? "completed" : o.status();
            return new RepairFollowAnswered(seq, workflowId, status, o.error());
          }
          if (failure == null) return new RepairFollowAnswered(seq, workflowId, null, null);
          if (Rejection.of(failure).map(r -> r.kind() == Rejection.Kind.NOT_FOUND).orElse(false))
            return new RepairFollowAnswered(
                seq, workflowId, "abandoned", "the repair workflow does not exist");
          return new RepairFollowAnswered(seq, workflowId, null, DeliveryOutbox.describe(failure));
        });
  }

  void followAnswered(long seq) {
    following.remove(seq);
  }
}
