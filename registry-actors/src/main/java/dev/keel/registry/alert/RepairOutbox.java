package dev.keel.registry.alert;

import static dev.keel.registry.alert.AlertRule.ABANDONED;
import static dev.keel.registry.alert.AlertRule.PENDING;
import static dev.keel.registry.alert.AlertRule.STARTED;

import dev.keel.registry.alert.AlertRule.Active;
import dev.keel.registry.alert.AlertRule.Command;
import dev.keel.registry.alert.AlertRule.Event;
import dev.keel.registry.alert.AlertRule.Firing;
import dev.keel.registry.alert.AlertRule.RepairEnded;
import dev.keel.registry.alert.AlertRule.RepairFollowAnswered;
import dev.keel.registry.alert.AlertRule.RepairStartAnswered;
import dev.keel.registry.alert.AlertRule.RepairStarted;
import dev.keel.registry.alert.AlertRule.RetryRepairs;
import dev.keel.registry.alert.AlertRule.State;
import dev.keel.workflow.execution.WorkflowOutcomes;
import dev.keel.workflow.execution.WorkflowStarter;
import dev.keel.workflow.execution.WorkflowStarter.StartOutcome;
import java.time.Clock;
import java.time.Instant;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.persistence.typed.javadsl.EffectFactories;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The repair side of one {@link AlertRule}, as {@link DeliveryOutbox} is for webhooks: it starts a
 * firing's repair workflow ({@link AlertRepair}) by its stable id through the idempotent starter,
 * as the rule's tenant, and follows it to its end, each time answering the rule with a command, and
 * handles those answers by journaling {@link RepairStarted} and {@link RepairEnded} or by trying
 * again after {@link AlertSettings#startRetryBackoff()}. A start or a follow in flight is not asked
 * again until it answers.
 */
final class RepairOutbox {

  // The rule's logger: operators follow a rule's firings and repairs under one name.
  private static final Logger log = LoggerFactory.getLogger(AlertRule.class);
  private static final String RETRY_TIMER = "repair-retry";

  private final String ruleId;
  private final WorkflowStarter starter;
  private final WorkflowOutcomes outcomes;
  private final AlertSettings settings;
  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final Clock clock;
  private final EffectFactories<Event, State> effects;
  private final Set<Long> starting = new HashSet<>();
  private final Set<Long> following = new HashSet<>();

  RepairOutbox(
      String ruleId,
      WorkflowStarter starter,
      WorkflowOutcomes outcomes,
      AlertSettings settings,
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      Clock clock,
      EffectFactories<Event, State> effects) {
    this.ruleId = ruleId;
    this.starter = starter;
    this.outcomes = outcomes;
    this.settings = settings;
    this.context = context;
    this.timers = timers;
    this.clock = clock;
    this.effects = effects;
  }

  /** Starts every shown firing's repair not yet acknowledged, and follows every started one. */
  void resume(Active s) {
    for (Firing f : s.recentFirings()) {
      if (f.repairWorkflowId() == null) continue;
      if (PENDING.equals(f.repair()) && s.def().repair() != null)
        start(f, s.def().repair(), s.def().tenantId());
      else if (STARTED.equals(f.repair())) follow(f.seq(), f.repairWorkflowId());
    }
  }

  /** Starts firing {@code f}'s repair; answers {@link RepairStartAnswered}. */
  private void start(Firing f, AlertRepair repair, String tenantId) {
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
        WorkflowAsks.bounded(started, settings.askTimeout().toMillis()),
        (outcome, failure) ->
            failure == null && outcome != null
                ? new RepairStartAnswered(f.seq(), id, null, false)
                : new RepairStartAnswered(
                    f.seq(),
                    id,
                    failure == null
                        ? "the starter answered nothing"
                        : WorkflowAsks.describe(failure),
                    failure != null && WorkflowAsks.isPermanent(failure)));
  }

  /**
   * Waits for firing {@code seq}'s repair to end; answers {@link RepairFollowAnswered} with its
   * status ({@code completed}, {@code failed}, {@code cancelled}), or none when it still runs or
   * the wait failed (with a reason then).
   */
  private void follow(long seq, String workflowId) {
    if (!following.add(seq)) return;
    CompletionStage<Optional<WorkflowOutcomes.Outcome>> ended;
    try {
      ended = outcomes.awaitOutcome(workflowId, settings.deliveryFollowWait());
    } catch (RuntimeException e) {
      ended = CompletableFuture.failedFuture(e);
    }
    long limit = settings.deliveryFollowWait().plus(settings.askTimeout()).toMillis();
    context.pipeToSelf(
        WorkflowAsks.bounded(ended, limit),
        (outcome, failure) -> {
          if (failure == null && outcome != null && outcome.isPresent()) {
            WorkflowOutcomes.Outcome o = outcome.get();
            String status = o.completed() ? "completed" : o.status();
            return new RepairFollowAnswered(seq, workflowId, status, o.error());
          }
          if (failure == null) return new RepairFollowAnswered(seq, workflowId, null, null);
          if (WorkflowAsks.isNotFound(failure))
            return new RepairFollowAnswered(
                seq, workflowId, ABANDONED, "the repair workflow does not exist");
          return new RepairFollowAnswered(seq, workflowId, null, WorkflowAsks.describe(failure));
        });
  }

  // ------------------------------------------------------------ the answers, as the rule's
  // commands

  ReplyEffect<Event, State> onStartAnswered(Active state, RepairStartAnswered c) {
    starting.remove(c.firingSeq());
    if (repairIn(state, c.firingSeq(), PENDING).isEmpty()) return effects.noReply();
    Instant now = clock.instant();
    if (c.failure() == null) {
      return effects
          .persist(new RepairStarted(c.firingSeq(), c.workflowId(), now))
          .thenRun(
              s -> {
                log.info(
                    "alert repair started alertId={} firingSeq={} repairWorkflowId={} workflow={}",
                    ruleId,
                    c.firingSeq(),
                    c.workflowId(),
                    state.def().repair() == null ? null : state.def().repair().workflow());
                follow(c.firingSeq(), c.workflowId());
              })
          .thenNoReply();
    }
    if (c.permanent()) {
      return effects
          .persist(new RepairEnded(c.firingSeq(), ABANDONED, c.failure(), now))
          .thenRun(
              s ->
                  log.error(
                      "alert repair abandoned alertId={} firingSeq={} repairWorkflowId={}"
                          + " reason={}",
                      ruleId,
                      c.firingSeq(),
                      c.workflowId(),
                      c.failure()))
          .thenNoReply();
    }
    log.warn(
        "alert repair start failed, will retry alertId={} firingSeq={} repairWorkflowId={}"
            + " retryIn={} reason={}",
        ruleId,
        c.firingSeq(),
        c.workflowId(),
        settings.startRetryBackoff(),
        c.failure());
    retryLater();
    return effects.noReply();
  }

  ReplyEffect<Event, State> onFollowAnswered(Active state, RepairFollowAnswered c) {
    following.remove(c.firingSeq());
    if (repairIn(state, c.firingSeq(), STARTED).isEmpty()) return effects.noReply();
    if (c.outcome() != null) {
      return effects
          .persist(new RepairEnded(c.firingSeq(), c.outcome(), c.reason(), clock.instant()))
          .thenRun(
              s ->
                  log.info(
                      "alert repair ended alertId={} firingSeq={} repairWorkflowId={} outcome={}",
                      ruleId,
                      c.firingSeq(),
                      c.workflowId(),
                      c.outcome()))
          .thenNoReply();
    }
    if (c.reason() == null) {
      follow(c.firingSeq(), c.workflowId()); // still running: wait again
    } else {
      log.warn(
          "alert repair not followed, will retry alertId={} firingSeq={} repairWorkflowId={}"
              + " reason={}",
          ruleId,
          c.firingSeq(),
          c.workflowId(),
          c.reason());
      retryLater();
    }
    return effects.noReply();
  }

  private static Optional<Firing> repairIn(Active s, long seq, String repair) {
    return s.recentFirings().stream()
        .filter(f -> f.seq() == seq && repair.equals(f.repair()))
        .findFirst();
  }

  private void retryLater() {
    if (!timers.isTimerActive(RETRY_TIMER))
      timers.startSingleTimer(RETRY_TIMER, RetryRepairs.INSTANCE, settings.startRetryBackoff());
  }
}
