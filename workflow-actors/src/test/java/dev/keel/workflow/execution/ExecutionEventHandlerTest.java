package dev.keel.workflow.execution;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.keel.workflow.execution.WorkflowExecution.Completed;
import dev.keel.workflow.execution.WorkflowExecution.Event;
import dev.keel.workflow.execution.WorkflowExecution.NotStarted;
import dev.keel.workflow.execution.WorkflowExecution.RerunStarted;
import dev.keel.workflow.execution.WorkflowExecution.SignalAwaited;
import dev.keel.workflow.execution.WorkflowExecution.SignalConsumed;
import dev.keel.workflow.execution.WorkflowExecution.SignalReceived;
import dev.keel.workflow.execution.WorkflowExecution.SignalTimedOut;
import dev.keel.workflow.execution.WorkflowExecution.SnapshotRequested;
import dev.keel.workflow.execution.WorkflowExecution.State;
import dev.keel.workflow.execution.WorkflowExecution.StepCompleted;
import dev.keel.workflow.execution.WorkflowExecution.StepFailed;
import dev.keel.workflow.execution.WorkflowExecution.StepStarted;
import dev.keel.workflow.execution.WorkflowExecution.StepsCopied;
import dev.keel.workflow.execution.WorkflowExecution.TimerFired;
import dev.keel.workflow.execution.WorkflowExecution.TimerStarted;
import dev.keel.workflow.execution.WorkflowExecution.WorkflowCancelled;
import dev.keel.workflow.execution.WorkflowExecution.WorkflowCompleted;
import dev.keel.workflow.execution.WorkflowExecution.WorkflowFailed;
import dev.keel.workflow.execution.WorkflowExecution.WorkflowPaused;
import dev.keel.workflow.execution.WorkflowExecution.WorkflowResumed;
import dev.keel.workflow.execution.WorkflowExecution.WorkflowRetried;
import dev.keel.workflow.execution.WorkflowExecution.WorkflowStarted;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Java 17 has no pattern {@code switch} (a preview there), so the compiler cannot tell that the
 * event handler handles every event type: this test does. Each type of {@link Event} is applied
 * once, in a journal that could have been written, and each but {@link SnapshotRequested} must
 * change the state. A new event type fails here until it is handled and added.
 */
class ExecutionEventHandlerTest {

  private static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");

  @Test
  void everyEventTypeChangesTheStateItIsJournaledOn() {
    List<Event> journal =
        List.of(
            new WorkflowStarted("e-1", "w", 1, null, JsonNodeFactory.instance.objectNode(), at(0)),
            new SnapshotRequested(at(0)),
            new StepStarted(0, "a", 1, at(1)),
            new StepFailed(0, "a", 1, "boom", at(3), at(2)),
            new StepStarted(0, "a", 2, at(3)),
            new StepCompleted(0, "a", TextNode.valueOf("ok"), at(4)),
            new TimerStarted(1, "nap", at(9), at(5)),
            new TimerFired(1, "nap", at(9)),
            new SignalReceived("early", TextNode.valueOf("p"), null, at(10)),
            new SignalConsumed(2, "early", TextNode.valueOf("p"), at(11)),
            new SignalAwaited(3, "go", at(20), at(12)),
            new SignalReceived("go", TextNode.valueOf("q"), 3, at(13)),
            new SignalAwaited(4, "late", at(20), at(14)),
            new SignalTimedOut(4, "late", at(20)),
            new WorkflowPaused(at(21)),
            new WorkflowResumed(at(22)),
            new RerunStarted("e-2", "a", at(23)),
            new WorkflowFailed("it broke", at(24)),
            new WorkflowRetried(4, "again", at(25)),
            new StepsCopied("e-0", "a", List.of(), at(26)),
            new WorkflowCancelled("stop", at(27)));

    State state = new NotStarted();
    for (Event event : journal) {
      State next = WorkflowExecution.apply(state, event);
      if (event instanceof SnapshotRequested) assertThat(next).isEqualTo(state);
      else assertThat(next).as("after %s", event).isNotEqualTo(state);
      state = next;
    }
    Event completed = new WorkflowCompleted(TextNode.valueOf("done"), at(30));
    State running = WorkflowExecution.apply(state, new WorkflowRetried(5, "again", at(29)));
    assertThat(WorkflowExecution.apply(running, completed)).isInstanceOf(Completed.class);

    List<Class<?>> applied =
        java.util.stream.Stream.concat(journal.stream(), java.util.stream.Stream.of(completed))
            .<Class<?>>map(Object::getClass)
            .distinct()
            .toList();
    assertThat(applied)
        .containsExactlyInAnyOrderElementsOf(Arrays.asList(Event.class.getPermittedSubclasses()));
  }

  private static Instant at(int seconds) {
    return T0.plusSeconds(seconds);
  }
}
