package dev.keel.workflow.execution;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.keel.workflow.NodeSerialization;
import dev.keel.workflow.execution.WorkflowExecution.CopiedOp;
import dev.keel.workflow.execution.WorkflowExecution.Event;
import dev.keel.workflow.execution.WorkflowExecution.NotStarted;
import dev.keel.workflow.execution.WorkflowExecution.RerunStarted;
import dev.keel.workflow.execution.WorkflowExecution.SignalAwaited;
import dev.keel.workflow.execution.WorkflowExecution.SignalConsumed;
import dev.keel.workflow.execution.WorkflowExecution.SignalReceived;
import dev.keel.workflow.execution.WorkflowExecution.SignalTimedOut;
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
import dev.keel.workflow.execution.WorkflowExecution.WorkflowStarted;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Snapshots hold the execution's state as JSON. {@code stored-shape/workflow-states.json} holds
 * what the version before the engine's sealed protocol (issue 16) wrote for states that cover every
 * kind of recorded call in every status: today's code must read each back to the state the same
 * events give, and write it byte for byte as it was written then.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StoredShapeTest {

  private static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");
  private static final ObjectMapper JSON = new ObjectMapper();

  private NodeSerialization node;

  @BeforeAll
  void start() {
    node = new NodeSerialization("StoredShapeTest");
  }

  @AfterAll
  void stop() {
    node.close();
  }

  /** Each state, built by the event handler from events whose shape is fixed (the journal's). */
  static Map<String, State> states() {
    JsonNode out = TextNode.valueOf("out");
    JsonNode payload = JSON.createObjectNode().put("by", "ops");
    Map<String, State> states = new LinkedHashMap<>();
    List<Event> running =
        List.of(
            new WorkflowStarted("s-1", "shape", 2, "acme", JSON.createObjectNode().put("a", 1), T0),
            new StepStarted(0, "one", 1, at(1)),
            new StepFailed(0, "one", 1, "IllegalStateException: boom", at(5), at(2)),
            new StepStarted(0, "one", 2, at(5)),
            new StepCompleted(0, "one", out, at(6)),
            new StepStarted(1, "caught", 1, at(7)),
            new StepFailed(1, "caught", 1, "no more", null, at(8)),
            new TimerStarted(2, "nap", at(20), at(9)),
            new TimerFired(2, "nap", at(20)),
            new SignalReceived("early", payload, null, at(21)),
            new SignalReceived("early", TextNode.valueOf("second"), null, at(21)),
            new SignalConsumed(3, "early", payload, at(22)),
            new SignalAwaited(4, "late", at(30), at(23)),
            new SignalTimedOut(4, "late", at(30)),
            new SignalAwaited(5, "approve", at(40), at(31)),
            new SignalReceived("approve", payload, 5, at(32)),
            new RerunStarted("s-2", "one", at(33)));
    states.put("running", fold(running));
    states.put("retrying", fold(prefix(running, 3)));
    states.put("sleeping", fold(concat(prefix(running, 8), new WorkflowPaused(at(10)))));
    states.put("waiting", fold(prefix(running, 13)));
    states.put("completed", fold(concat(running, new WorkflowCompleted(out, at(50)))));
    states.put("failed", fold(concat(running, new WorkflowFailed("it broke", at(50)))));
    states.put(
        "cancelled-running",
        fold(
            concat(
                running,
                new StepStarted(6, "open", 1, at(34)),
                new WorkflowCancelled("stop", at(50)))));
    states.put(
        "cancelled-sleeping",
        fold(concat(prefix(running, 8), new WorkflowCancelled("stop", at(10)))));
    states.put(
        "cancelled-waiting",
        fold(concat(prefix(running, 13), new WorkflowCancelled("stop", at(24)))));
    List<CopiedOp> copied =
        List.of(
            new CopiedOp(
                0,
                RecordedCall.Kind.STEP,
                "one",
                RecordedCall.Status.COMPLETED,
                2,
                out,
                "IllegalStateException: boom",
                at(1),
                at(6)),
            new CopiedOp(
                1,
                RecordedCall.Kind.SLEEP,
                "nap",
                RecordedCall.Status.FIRED,
                1,
                null,
                null,
                at(9),
                at(20)),
            new CopiedOp(
                2,
                RecordedCall.Kind.SIGNAL,
                "late",
                RecordedCall.Status.TIMED_OUT,
                1,
                null,
                "timed out",
                at(23),
                at(30)));
    states.put(
        "rerun",
        fold(
            List.of(
                new WorkflowStarted("s-2", "shape", 2, null, null, at(60)),
                new StepsCopied("s-1", "caught", copied, at(60)))));
    return states;
  }

  @Test
  void everyStateReadsBackAndIsWrittenAsTheOldCodeWroteIt() throws Exception {
    JsonNode recorded =
        JSON.readTree(
            getClass().getClassLoader().getResourceAsStream("stored-shape/workflow-states.json"));
    Map<String, State> states = states();
    assertThat(recorded.size()).isEqualTo(states.size());
    for (Map.Entry<String, State> e : states.entrySet()) {
      JsonNode row = recorded.get(e.getKey());
      byte[] bytes = Base64.getDecoder().decode(row.get("payload").asText());
      Object read = node.read(bytes, row.get("serializerId").asInt(), row.get("manifest").asText());
      assertThat(read).as(e.getKey()).isEqualTo(e.getValue());
      assertThat(node.serializerId(e.getValue()))
          .as(e.getKey())
          .isEqualTo(row.get("serializerId").asInt());
      assertThat(node.manifest(e.getValue()))
          .as(e.getKey())
          .isEqualTo(row.get("manifest").asText());
      assertThat(new String(node.bytes(e.getValue()), StandardCharsets.UTF_8))
          .as(e.getKey())
          .isEqualTo(new String(bytes, StandardCharsets.UTF_8));
    }
  }

  private static Instant at(int seconds) {
    return T0.plusSeconds(seconds);
  }

  private static State fold(List<Event> events) {
    State s = new NotStarted();
    for (Event e : events) s = WorkflowExecution.apply(s, e);
    return s;
  }

  private static List<Event> prefix(List<Event> events, int n) {
    return events.subList(0, n);
  }

  private static List<Event> concat(List<Event> events, Event... more) {
    List<Event> all = new ArrayList<>(events);
    all.addAll(List.of(more));
    return all;
  }
}
