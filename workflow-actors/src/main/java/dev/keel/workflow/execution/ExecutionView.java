package dev.keel.workflow.execution;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.persistence.KeelSerializable;
import dev.keel.workflow.execution.WorkflowExecution.Cancelled;
import dev.keel.workflow.execution.WorkflowExecution.Completed;
import dev.keel.workflow.execution.WorkflowExecution.Failed;
import dev.keel.workflow.execution.WorkflowExecution.Running;
import dev.keel.workflow.execution.WorkflowExecution.State;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

/** An execution as clients see it (API.md, "An execution"). */
public record ExecutionView(
    String id,
    String workflow,
    int version,
    String tenantId,
    String status,
    boolean queued,
    JsonNode input,
    JsonNode output,
    String error,
    Instant createdAt,
    Instant updatedAt,
    Instant completedAt,
    List<StepView> steps,
    List<String> pendingSignals,
    String rerunOf,
    List<String> reruns)
    implements KeelSerializable {

  public ExecutionView {
    input = WorkflowExecution.nonNull(input);
    output = WorkflowExecution.nonNull(output);
    reruns = reruns == null ? List.of() : List.copyOf(reruns);
  }

  /**
   * One recorded call: a step, a sleep or a signal wait. {@code dueAt}: wake-up, timeout or next
   * retry.
   */
  public record StepView(
      String name,
      String kind,
      String status,
      int attempts,
      JsonNode output,
      String error,
      Instant startedAt,
      Instant completedAt,
      Instant dueAt)
      implements KeelSerializable {
    public StepView {
      output = WorkflowExecution.nonNull(output);
    }
  }

  @com.fasterxml.jackson.annotation.JsonIgnore
  public boolean isFinal() {
    return status.equals("completed") || status.equals("failed") || status.equals("cancelled");
  }

  static ExecutionView of(State state, boolean queued) {
    // A snapshot of a cancellation from before cancelled calls were recorded as such shows them so
    // too.
    ExecutionData d =
        state instanceof Cancelled c
            ? c.data().withOpenCallsCancelled(c.completedAt())
            : WorkflowExecution.dataOf(state);
    JsonNode output = state instanceof Completed c ? c.output() : null;
    String error =
        state instanceof Failed f ? f.error() : state instanceof Cancelled c ? c.reason() : null;
    Instant completedAt =
        state instanceof Completed c
            ? c.completedAt()
            : state instanceof Failed f
                ? f.completedAt()
                : state instanceof Cancelled x ? x.completedAt() : null;
    List<StepView> steps = d.ops().stream().map(ExecutionView::stepView).toList();
    List<String> pending =
        d.pendingSignals().entrySet().stream()
            .flatMap(e -> e.getValue().stream().map(p -> e.getKey()))
            .toList();
    return new ExecutionView(
        d.id(),
        d.workflow(),
        d.version(),
        d.tenantId(),
        statusOf(state),
        queued,
        d.input(),
        output,
        error,
        d.createdAt(),
        d.updatedAt(),
        completedAt,
        steps,
        pending,
        d.lineage().rerunOf(),
        d.lineage().reruns());
  }

  /** The status clients see: the lifecycle, and for a running execution what it waits for. */
  public static String statusOf(State state) {
    if (state instanceof Completed) return "completed";
    if (state instanceof Failed) return "failed";
    if (state instanceof Cancelled) return "cancelled";
    if (state instanceof Running s) {
      if (s.data().paused()) return "paused";
      RecordedCall parkedOn = s.data().suspension().orElse(null);
      if (parkedOn instanceof RecordedCall.Timer) return "sleeping";
      if (parkedOn instanceof RecordedCall.SignalWait) return "waiting";
      return "running";
    }
    return "not_started";
  }

  /** A call as the API shows it: in the shape it is stored in. */
  private static StepView stepView(RecordedCall call) {
    RecordedCall.Stored op = call.stored();
    return new StepView(
        op.name(),
        op.kind().name().toLowerCase(Locale.ROOT),
        op.status().name().toLowerCase(Locale.ROOT),
        op.attempts(),
        op.output(),
        op.error(),
        op.startedAt(),
        op.completedAt(),
        op.dueAt());
  }
}
