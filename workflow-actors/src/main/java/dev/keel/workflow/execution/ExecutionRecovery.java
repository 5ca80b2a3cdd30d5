package dev.keel.workflow.execution;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.persistence.KeelSerializable;
import dev.keel.persistence.Rejection;
import dev.keel.workflow.execution.WorkflowExecution.Cancelled;
import dev.keel.workflow.execution.WorkflowExecution.Completed;
import dev.keel.workflow.execution.WorkflowExecution.CopiedOp;
import dev.keel.workflow.execution.WorkflowExecution.Event;
import dev.keel.workflow.execution.WorkflowExecution.Failed;
import dev.keel.workflow.execution.WorkflowExecution.RerunStarted;
import dev.keel.workflow.execution.WorkflowExecution.Running;
import dev.keel.workflow.execution.WorkflowExecution.State;
import dev.keel.workflow.execution.WorkflowExecution.StepsCopied;
import dev.keel.workflow.execution.WorkflowExecution.WorkflowRetried;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.pattern.StatusReply;

/**
 * Operators' way out of a failed execution: retry in place and rerun from a step. The decisions
 * (which calls a retry forgets, which a rerun copies) and the pure state changes of their events
 * live here, beside the execution entity that journals them.
 *
 * <p>A retry forgets the call the execution ended on when it ended there (a step out of attempts, a
 * signal that timed out, any call open at a cancel) and runs again from it; every call before keeps
 * its recorded result, so its body does not run again. When the workflow failed outside any call (a
 * bug in its own code), nothing is forgotten: the current code replays from the top.
 */
public final class ExecutionRecovery {

  private ExecutionRecovery() {}

  /** How executions are linked by reruns; empty for the rest. */
  public record Lineage(String rerunOf, List<String> reruns) {
    public static final Lineage NONE = new Lineage(null, List.of());

    public Lineage {
      reruns = reruns == null ? List.of() : List.copyOf(reruns);
    }

    Lineage withRerun(String id) {
      List<String> next = new ArrayList<>(reruns);
      next.add(id);
      return new Lineage(rerunOf, next);
    }
  }

  /** What a rerun starts from: the original's workflow, owner and input, and the copied calls. */
  public record RerunSource(String workflow, String tenantId, JsonNode input, List<CopiedOp> copied)
      implements KeelSerializable {
    public RerunSource {
      input = WorkflowExecution.nonNull(input);
      copied = List.copyOf(copied);
    }
  }

  /** The position a retry of {@code state} (failed or cancelled) runs again from. */
  static int retryFrom(State state) {
    List<RecordedCall> ops = WorkflowExecution.dataOf(state).ops();
    if (ops.isEmpty()) return 0;
    RecordedCall last = ops.get(ops.size() - 1);
    return endedOn(state, last) ? last.seq() : ops.size();
  }

  /** Whether the execution ended on {@code call}: a retry runs it again. */
  private static boolean endedOn(State state, RecordedCall call) {
    if (call instanceof RecordedCall.Step s)
      return s.status() == RecordedCall.StepStatus.FAILED
          || s.status() == RecordedCall.StepStatus.CANCELLED;
    if (call instanceof RecordedCall.Timer t)
      return t.status() == RecordedCall.TimerStatus.CANCELLED;
    RecordedCall.SignalStatus status = ((RecordedCall.SignalWait) call).status();
    return status == RecordedCall.SignalStatus.CANCELLED
        || (state instanceof Failed && status == RecordedCall.SignalStatus.TIMED_OUT);
  }

  /**
   * The calls before step {@code fromStep} as a rerun copies them, or a rejection when this
   * execution never reached a step of that name.
   */
  static StatusReply<RerunSource> rerunSource(State state, String fromStep) {
    ExecutionData d = WorkflowExecution.dataOf(state);
    Optional<RecordedCall> from =
        d.ops().stream()
            .filter(call -> call instanceof RecordedCall.Step && call.name().equals(fromStep))
            .findFirst();
    if (from.isEmpty()) {
      return Rejection.invalid(
          "workflow '" + d.id() + "' never reached a step named '" + fromStep + "'");
    }
    // Calls are recorded one after another, so every call before a reached one has ended.
    List<CopiedOp> copied =
        d.ops().subList(0, from.get().seq()).stream().map(CopiedOp::of).toList();
    return StatusReply.success(new RerunSource(d.workflow(), d.tenantId(), d.input(), copied));
  }

  static boolean handles(Event event) {
    return event instanceof WorkflowRetried
        || event instanceof StepsCopied
        || event instanceof RerunStarted;
  }

  /** The state after one of this class's events: pure, as every event handler. */
  static State apply(State state, Event event) {
    if (event instanceof WorkflowRetried e
        && (state instanceof Failed || state instanceof Cancelled)) {
      ExecutionData d = WorkflowExecution.dataOf(state);
      List<RecordedCall> kept = d.ops().subList(0, Math.min(e.fromSeq(), d.ops().size()));
      return new Running(d.withCalls(kept, e.at()).withPaused(false, e.at()));
    }
    if (event instanceof StepsCopied e && state instanceof Running r) {
      ExecutionData d = r.data();
      List<RecordedCall> ops = new ArrayList<>(d.ops());
      for (CopiedOp c : e.ops()) ops.add(c.call());
      return new Running(
          d.withCalls(ops, d.updatedAt())
              .withLineage(new Lineage(e.rerunOf(), d.lineage().reruns())));
    }
    if (event instanceof RerunStarted e && state instanceof WorkflowExecution.Started started) {
      ExecutionData linked =
          started.data().withLineage(started.data().lineage().withRerun(e.rerunId()));
      if (state instanceof Running) return new Running(linked);
      if (state instanceof Completed c) return new Completed(linked, c.output(), c.completedAt());
      if (state instanceof Failed f) return new Failed(linked, f.error(), f.completedAt());
      if (state instanceof Cancelled c) return new Cancelled(linked, c.reason(), c.completedAt());
    }
    return state;
  }
}
