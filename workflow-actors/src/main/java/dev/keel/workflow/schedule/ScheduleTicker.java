package dev.keel.workflow.schedule;

import dev.keel.workflow.execution.WorkflowStarter;
import dev.keel.workflow.execution.WorkflowStarter.StartOutcome;
import dev.keel.workflow.schedule.Schedule.Active;
import dev.keel.workflow.schedule.Schedule.Command;
import dev.keel.workflow.schedule.Schedule.ScheduleDefinition;
import dev.keel.workflow.schedule.Schedule.State;
import dev.keel.workflow.schedule.Schedule.Tick;
import dev.keel.workflow.schedule.Schedule.TickFailed;
import dev.keel.workflow.schedule.Schedule.TickStarted;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live side of one schedule, none of it journaled: its timers (the next tick, the retry of a
 * tick that could not start) and the start of a tick's workflow, whose outcome comes back to the
 * entity as {@link TickStarted} or {@link TickFailed}. Used from the entity's handlers and their
 * side effects only, so on the entity's thread.
 */
final class ScheduleTicker {

  /** Timers are capped: a far tick is re-armed on the way, so that no timer waits for days. */
  static final Duration MAX_TIMER_DELAY = Duration.ofHours(1);

  private static final String TICK_TIMER = "tick";
  private static final String RETRY_TIMER = "retry";

  private static final Logger log = LoggerFactory.getLogger(Schedule.class);

  private final String scheduleId;
  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final Optional<ActorRef<ClusterSharding.ShardCommand>> shard;
  private final WorkflowStarter starter;
  private final Clock clock;
  private final ScheduleSettings settings;

  ScheduleTicker(
      String scheduleId,
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      Optional<ActorRef<ClusterSharding.ShardCommand>> shard,
      WorkflowStarter starter,
      Clock clock,
      ScheduleSettings settings) {
    this.scheduleId = scheduleId;
    this.context = context;
    this.timers = timers;
    this.shard = shard;
    this.starter = starter;
    this.clock = clock;
    this.settings = settings;
  }

  /**
   * Arms the retry timer while the due tick fails to start, else the tick timer for the next tick
   * still to come; disarms both when there is none.
   */
  void arm(State state) {
    if (!(state instanceof Active active) || active.def().paused()) {
      timers.cancel(TICK_TIMER);
      timers.cancel(RETRY_TIMER);
      return;
    }
    Instant now = clock.instant();
    if (active.failing() != null) {
      timers.cancel(TICK_TIMER);
      Duration wait = Duration.between(now, active.failing().retryAt());
      if (wait.isNegative()) wait = Duration.ZERO;
      timers.startSingleTimer(
          RETRY_TIMER,
          new Tick(active.failing().tick()),
          wait.compareTo(MAX_TIMER_DELAY) > 0 ? MAX_TIMER_DELAY : wait);
      return;
    }
    timers.cancel(RETRY_TIMER);
    Instant target = active.nextRunAt();
    if (target == null || !target.isAfter(now)) {
      // Due already: it is being started, retried or caught up; the timer watches the one after.
      target = ScheduleRules.spec(active).nextAfter(now).orElse(null);
    }
    if (target == null) {
      timers.cancel(TICK_TIMER);
      return;
    }
    Duration delay = Duration.between(now, target);
    timers.startSingleTimer(
        TICK_TIMER,
        new Tick(target),
        delay.compareTo(MAX_TIMER_DELAY) > 0 ? MAX_TIMER_DELAY : delay);
  }

  void passivate() {
    shard.ifPresent(sh -> sh.tell(new ClusterSharding.Passivate<>(context.getSelf())));
  }

  /** A tick started: no retry is due any more. */
  void disarmRetry() {
    timers.cancel(RETRY_TIMER);
  }

  /**
   * Starts the workflow of {@code tick}; its outcome comes back as {@link TickStarted} or {@link
   * TickFailed}.
   */
  void start(ScheduleDefinition def, Instant tick) {
    String workflowId = ScheduleRules.workflowIdFor(scheduleId, tick);
    CompletionStage<StartOutcome> started;
    try {
      started = starter.start(workflowId, def.workflow(), def.input(), def.tenantId());
    } catch (RuntimeException e) {
      started = CompletableFuture.failedFuture(e);
    }
    context.pipeToSelf(
        bounded(started),
        (outcome, failure) -> {
          if (failure == null && outcome != null)
            return new TickStarted(tick, workflowId, outcome.created());
          return new TickFailed(
              tick,
              workflowId,
              failure == null ? "the starter answered nothing" : describe(failure));
        });
  }

  /**
   * A start that never answers must not stall the schedule: past the ask timeout it is a failure.
   */
  private CompletionStage<StartOutcome> bounded(CompletionStage<StartOutcome> started) {
    CompletableFuture<StartOutcome> result = new CompletableFuture<>();
    started.whenComplete(
        (outcome, failure) -> {
          if (failure != null) result.completeExceptionally(failure);
          else result.complete(outcome);
        });
    return result.orTimeout(settings.askTimeout().toMillis(), TimeUnit.MILLISECONDS);
  }

  private String describe(Throwable failure) {
    Throwable cause = failure;
    while (cause instanceof CompletionException && cause.getCause() != null)
      cause = cause.getCause();
    Optional<String> known = TickErrors.describe(cause);
    if (known.isPresent()) return known.get();
    // Shown to clients: never a class name or whatever an unexpected failure's message holds.
    log.warn("schedule tick start failed unexpectedly scheduleId={}", scheduleId, cause);
    return TickErrors.UNEXPECTED;
  }
}
