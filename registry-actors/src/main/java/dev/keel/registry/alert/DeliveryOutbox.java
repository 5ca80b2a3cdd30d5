package dev.keel.registry.alert;

import static dev.keel.registry.alert.AlertRule.STARTED;

import dev.keel.registry.alert.AlertRule.Active;
import dev.keel.registry.alert.AlertRule.Command;
import dev.keel.registry.alert.AlertRule.DeliveryAbandoned;
import dev.keel.registry.alert.AlertRule.DeliveryCompleted;
import dev.keel.registry.alert.AlertRule.DeliveryEnded;
import dev.keel.registry.alert.AlertRule.DeliveryFollowFailed;
import dev.keel.registry.alert.AlertRule.DeliveryStartAcknowledged;
import dev.keel.registry.alert.AlertRule.DeliveryStartFailed;
import dev.keel.registry.alert.AlertRule.DeliveryStarted;
import dev.keel.registry.alert.AlertRule.Event;
import dev.keel.registry.alert.AlertRule.Firing;
import dev.keel.registry.alert.AlertRule.FollowDelivery;
import dev.keel.registry.alert.AlertRule.PendingDelivery;
import dev.keel.registry.alert.AlertRule.RetryDeliveries;
import dev.keel.registry.alert.AlertRule.State;
import dev.keel.workflow.execution.WorkflowOutcomes;
import dev.keel.workflow.execution.WorkflowStarter;
import dev.keel.workflow.execution.WorkflowStarter.StartOutcome;
import java.time.Clock;
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
import org.slf4j.event.Level;

/**
 * The delivery side of one {@link AlertRule}: it starts the {@value WebhookDeliveryWorkflow#NAME}
 * workflow of a firing and follows it to its end, each time answering the rule with a command, and
 * handles those answers by journaling what they say ({@link DeliveryStarted}, {@link
 * DeliveryCompleted}, {@link DeliveryAbandoned}) or by trying again after {@link
 * AlertSettings#startRetryBackoff()}. A start or a follow in flight is not asked again until it
 * answers. What is in flight is not journaled; it lives as long as the rule's actor.
 */
final class DeliveryOutbox {

  // The rule's logger: operators follow a rule's firings and deliveries under one name.
  private static final Logger log = LoggerFactory.getLogger(AlertRule.class);
  private static final String RETRY_TIMER = "delivery-retry";

  /** The timer key of a delivery followed again after a failed wait. */
  private record FollowTimer(long firingSeq) {}

  private final String ruleId;
  private final WorkflowStarter starter;
  private final WorkflowOutcomes outcomes;
  private final AlertSettings settings;
  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final Clock clock;
  private final EffectFactories<Event, State> effects;

  /** Firings whose start is on its way. */
  private final Set<Long> starting = new HashSet<>();

  /** Firings whose delivery workflow is being waited for. */
  private final Set<Long> following = new HashSet<>();

  DeliveryOutbox(
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

  /** Starts every firing not yet acknowledged and follows every started one: after recovery. */
  void resume(Active state) {
    startAll(state);
    for (Firing f : state.recentFirings()) {
      if (STARTED.equals(f.delivery())) follow(f.seq(), f.deliveryWorkflowId());
    }
  }

  /** Starts every firing not yet acknowledged: on {@link RetryDeliveries}, and a last time. */
  void startAll(Active state) {
    for (PendingDelivery d : state.undelivered()) start(d);
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
              d.workflowId(),
              WebhookDeliveryWorkflow.NAME,
              DeliveryWorkflowInput.of(ruleId, d),
              d.tenantId());
    } catch (RuntimeException e) {
      started = CompletableFuture.failedFuture(e);
    }
    context.pipeToSelf(
        WorkflowAsks.bounded(started, settings.askTimeout().toMillis()),
        (outcome, failure) -> {
          if (failure == null && outcome != null)
            return new DeliveryStartAcknowledged(d.seq(), d.workflowId(), outcome.created());
          return new DeliveryStartFailed(
              d.seq(),
              d.workflowId(),
              failure == null ? "the starter answered nothing" : WorkflowAsks.describe(failure),
              failure != null && WorkflowAsks.isPermanent(failure));
        });
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
        WorkflowAsks.bounded(ended, limit),
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
          if (WorkflowAsks.isNotFound(failure)) {
            return new DeliveryEnded(
                seq, workflowId, false, "the delivery workflow does not exist");
          }
          return new DeliveryFollowFailed(seq, workflowId, WorkflowAsks.describe(failure));
        });
  }

  // ------------------------------------------------------------ the answers, as the rule's
  // commands

  ReplyEffect<Event, State> onStarted(Active state, DeliveryStartAcknowledged c) {
    starting.remove(c.firingSeq());
    if (!undelivered(state, c.firingSeq())) return effects.noReply();
    return effects
        .persist(new DeliveryStarted(c.firingSeq(), c.workflowId(), clock.instant()))
        .thenRun(
            s -> {
              log.info(
                  "alert delivery started alertId={} firingSeq={} deliveryWorkflowId={} created={}",
                  ruleId,
                  c.firingSeq(),
                  c.workflowId(),
                  c.created());
              if (followed((Active) s, c.firingSeq())) follow(c.firingSeq(), c.workflowId());
            })
        .thenNoReply();
  }

  ReplyEffect<Event, State> onStartFailed(Active state, DeliveryStartFailed c) {
    starting.remove(c.firingSeq());
    if (!undelivered(state, c.firingSeq())) return effects.noReply();
    if (c.permanent()) return abandon(c.firingSeq(), c.workflowId(), c.reason(), Level.ERROR);
    log.warn(
        "alert delivery start failed, will retry alertId={} firingSeq={} deliveryWorkflowId={}"
            + " retryIn={} reason={}",
        ruleId,
        c.firingSeq(),
        c.workflowId(),
        settings.startRetryBackoff(),
        c.reason());
    if (!timers.isTimerActive(RETRY_TIMER)) {
      timers.startSingleTimer(RETRY_TIMER, RetryDeliveries.INSTANCE, settings.startRetryBackoff());
    }
    return effects.noReply();
  }

  /** A wait that ran out, or the timer after a failed one: wait again if it is still followed. */
  ReplyEffect<Event, State> onFollowAgain(Active state, FollowDelivery c) {
    following.remove(c.firingSeq());
    state.recentFirings().stream()
        .filter(f -> f.seq() == c.firingSeq() && STARTED.equals(f.delivery()))
        .findFirst()
        .ifPresent(f -> follow(f.seq(), f.deliveryWorkflowId()));
    return effects.noReply();
  }

  ReplyEffect<Event, State> onEnded(Active state, DeliveryEnded c) {
    following.remove(c.firingSeq());
    if (!followed(state, c.firingSeq())) return effects.noReply();
    if (c.delivered()) {
      return effects
          .persist(new DeliveryCompleted(c.firingSeq(), clock.instant()))
          .thenRun(
              s ->
                  log.info(
                      "alert delivered alertId={} firingSeq={} deliveryWorkflowId={}",
                      ruleId,
                      c.firingSeq(),
                      c.workflowId()))
          .thenNoReply();
    }
    return abandon(c.firingSeq(), c.workflowId(), c.reason(), Level.WARN);
  }

  /**
   * The delivery of firing {@code seq} will not happen: logged as an error when its start was
   * refused for good (nothing was sent), as a warning when its workflow failed or was cancelled.
   */
  private ReplyEffect<Event, State> abandon(
      long seq, String workflowId, String reason, Level level) {
    return effects
        .persist(new DeliveryAbandoned(seq, reason, clock.instant()))
        .thenRun(
            s ->
                log.atLevel(level)
                    .log(
                        "alert delivery abandoned alertId={} firingSeq={} deliveryWorkflowId={}"
                            + " reason={}",
                        ruleId,
                        seq,
                        workflowId,
                        reason))
        .thenNoReply();
  }

  ReplyEffect<Event, State> onFollowFailed(Active state, DeliveryFollowFailed c) {
    following.remove(c.firingSeq());
    if (!followed(state, c.firingSeq())) return effects.noReply();
    log.warn(
        "alert delivery not followed, will retry alertId={} firingSeq={} deliveryWorkflowId={}"
            + " retryIn={} reason={}",
        ruleId,
        c.firingSeq(),
        c.workflowId(),
        settings.startRetryBackoff(),
        c.reason());
    timers.startSingleTimer(
        new FollowTimer(c.firingSeq()),
        new FollowDelivery(c.firingSeq()),
        settings.startRetryBackoff());
    return effects.noReply();
  }

  private static boolean undelivered(Active state, long seq) {
    return state.undelivered().stream().anyMatch(d -> d.seq() == seq);
  }

  /** Whether firing {@code seq} is one the view shows, started and not yet ended. */
  private static boolean followed(Active state, long seq) {
    return state.recentFirings().stream()
        .anyMatch(f -> f.seq() == seq && STARTED.equals(f.delivery()));
  }
}
