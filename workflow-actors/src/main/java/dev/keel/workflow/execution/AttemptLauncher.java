package dev.keel.workflow.execution;

import dev.keel.workflow.execution.AttemptProtocol.Attempt;
import dev.keel.workflow.execution.AttemptProtocol.Gate;
import dev.keel.workflow.execution.WorkflowExecution.Command;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.pattern.StatusReply;

/**
 * The live side of one execution entity, none of it journaled: which attempt may record (by {@code
 * runId}, 0 when none runs), its {@link Gate}, who waits for the end, and what comes after each
 * change: launch an attempt, arm the wake-up timer, or plan passivation. Used from the entity's
 * command handlers and their side effects only, so on the entity's thread.
 */
final class AttemptLauncher {

  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final Optional<ActorRef<ClusterSharding.ShardCommand>> shard;
  private final WorkflowDeps deps;
  private final WorkflowTracing tracing;

  /** The attempt allowed to record, 0 when none runs. */
  private long activeRunId;

  private long runCounter;

  /** The latest attempt's gate. */
  private Gate gate = new Gate();

  private final List<ActorRef<StatusReply<ExecutionView>>> finalWatchers = new ArrayList<>();

  AttemptLauncher(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      Optional<ActorRef<ClusterSharding.ShardCommand>> shard,
      WorkflowDeps deps) {
    this.context = context;
    this.timers = timers;
    this.shard = shard;
    this.deps = deps;
    this.tracing = WorkflowTracing.of(context.getSystem());
  }

  /** Whether {@code runId} is the attempt allowed to record. */
  boolean isCurrent(long runId) {
    return runId != 0 && runId == activeRunId;
  }

  /** Attempt {@code runId} has ended (if it is the current one, none runs now). */
  void ended(long runId) {
    if (runId == activeRunId) activeRunId = 0;
  }

  /** The current attempt may record nothing more and starts no new step body. */
  void halt(String why) {
    activeRunId = 0;
    gate.close(why);
  }

  /** The current attempt starts no new step body; it may still record what it finished. */
  void closeGate(String why) {
    gate.close(why);
  }

  /** Whether an attempt was launched but waits for a runner slot. */
  boolean queued() {
    return activeRunId != 0 && !gate.started();
  }

  /** {@code watcher} is answered once the execution is final. */
  void watchFinal(ActorRef<StatusReply<ExecutionView>> watcher) {
    finalWatchers.add(watcher);
  }

  /**
   * Launch an attempt, arm the wake-up timer, or plan passivation: whatever the data now calls for.
   */
  void afterChange(ExecutionData data) {
    if (activeRunId != 0) return;
    if (data.paused()) {
      scheduleIdle();
      return;
    }
    Optional<RecordedCall> suspension = data.suspension();
    if (suspension.isEmpty()) {
      launch(data);
      return;
    }
    Instant due = suspension.get().dueAt();
    if (due == null) {
      scheduleIdle();
      return;
    }
    Duration untilDue = Duration.between(deps.clock().instant(), due);
    if (untilDue.isNegative() || untilDue.isZero()) {
      // A step due for its retry runs at once; a timer or a signal wait needs its event first.
      if (suspension.get() instanceof RecordedCall.Step) {
        launch(data);
      } else {
        context.getSelf().tell(WorkflowExecution.Wake.INSTANCE);
      }
    } else if (untilDue.compareTo(deps.settings().passivateAfter()) <= 0) {
      timers.startSingleTimer("wake", WorkflowExecution.Wake.INSTANCE, untilDue);
    } else {
      // Far off: the wake-up index brings the execution back; no live actor meanwhile.
      scheduleIdle();
    }
  }

  private void launch(ExecutionData data) {
    long runId = ++runCounter;
    activeRunId = runId;
    timers.cancel("idle");
    gate = new Gate();
    deps.runner().submit(new Attempt(runId, data, context.getSelf().narrow(), deps, gate, tracing));
  }

  /** The execution is final: its watchers learn it, and the entity may passivate. */
  void finished(ExecutionView view) {
    finalWatchers.forEach(w -> w.tell(StatusReply.success(view)));
    finalWatchers.clear();
    timers.cancel("wake");
    scheduleIdle();
  }

  void scheduleIdle() {
    timers.startSingleTimer("idle", WorkflowExecution.Idle.INSTANCE, deps.settings().idleTimeout());
  }

  void passivateIfIdle() {
    boolean busy = activeRunId != 0 || !finalWatchers.isEmpty();
    if (!busy) shard.ifPresent(sh -> sh.tell(new ClusterSharding.Passivate<>(context.getSelf())));
  }
}
