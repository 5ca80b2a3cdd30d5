package dev.keel.workflow.execution;

import dev.keel.persistence.KeelTracing;
import dev.keel.persistence.RequestScope;
import dev.keel.persistence.TraceParent;
import dev.keel.workflow.sdk.StepBody;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import java.time.Instant;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * An execution's spans (issue 19's traces), all in the trace it was started in, which is journaled
 * with it ({@link WorkflowExecution.WorkflowStarted#traceParent()}) so that a node that resumes it
 * after a crash or a long sleep continues the same trace:
 *
 * <ul>
 *   <li>{@code step <name>}: one span per attempt of a step body, made by the runner around the
 *       body, with the body's log lines and outgoing requests in it;
 *   <li>{@code sleep <name>} and {@code signal <name>}: a timer or signal wait, recorded by the
 *       entity when it ends (from when it began, so it may span a node restart).
 * </ul>
 *
 * With traces off every method returns at its first line: no span, nothing journaled.
 */
final class WorkflowTracing {

  static final String WORKFLOW_ID = "keel.workflow.id";

  private final KeelTracing tracing;

  private WorkflowTracing(KeelTracing tracing) {
    this.tracing = tracing;
  }

  static WorkflowTracing of(ActorSystem<?> system) {
    return new WorkflowTracing(KeelTracing.get(system));
  }

  /**
   * The trace a new execution is journaled with: the span it is started in (the entity's handling
   * of the start request), or one of its own when started for no request (a schedule's tick); null
   * with traces off.
   */
  String executionTrace(String workflowId, String workflow) {
    if (!tracing.enabled()) return null;
    Optional<String> current = RequestScope.traceParent();
    if (current.isPresent()) return current.get();
    Span root =
        tracing
            .child("workflow " + workflow, null)
            .setAttribute(WORKFLOW_ID, workflowId)
            .startSpan();
    root.end();
    return TraceParent.of(root.getSpanContext());
  }

  /**
   * Runs attempt {@code attempt} of step {@code name}'s body in a span of the execution's trace,
   * that span in the logging MDC meanwhile (its log lines and outgoing requests name it).
   */
  <T> T step(ExecutionData data, String name, int attempt, StepBody<T> body) throws Exception {
    if (!tracing.enabled() || data.traceParent() == null) return body.run();
    Span span =
        tracing
            .child("step " + name, data.traceParent())
            .setAttribute(WORKFLOW_ID, data.id())
            .setAttribute("keel.step.attempt", attempt)
            .startSpan();
    try (RequestScope.Entered scope = RequestScope.enter(span.getSpanContext())) {
      return body.run();
    } catch (Exception | Error e) {
      span.setStatus(StatusCode.ERROR, String.valueOf(e.getMessage()));
      throw e;
    } finally {
      span.end();
    }
  }

  /**
   * The timer or signal wait {@code call} ended at {@code end} ({@code outcome}: fired, received,
   * timed out).
   */
  void waited(ExecutionData data, RecordedCall call, Instant end, String outcome) {
    if (!tracing.enabled() || data.traceParent() == null) return;
    String kind = call instanceof RecordedCall.Timer ? "sleep " : "signal ";
    tracing
        .child(kind + call.name(), data.traceParent())
        .setStartTimestamp(call.startedAt())
        .setAttribute(WORKFLOW_ID, data.id())
        .setAttribute("keel.wait.outcome", outcome)
        .startSpan()
        .end(end.isBefore(call.startedAt()) ? call.startedAt() : end);
  }
}
