package dev.keel.workflow.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import java.util.ArrayList;
import java.util.List;

/**
 * An execution's calls folded from its journaled events as {@code GET .../history} returns them
 * ({@code [{"seq", "at", "type", "data"}]}): the same fold as the engine's, reduced to what a
 * replay needs (kind, name, how it ended, its result).
 */
record RecordedHistory(
    String workflowId, String workflow, String tenantId, JsonNode input, List<Call> calls) {

  /** One recorded call at its position; {@code status} as the execution view spells it. */
  record Call(String kind, String name, String status, JsonNode output, String error) {
    boolean ended() {
      return switch (status) {
        case "completed", "failed", "fired", "received", "timed_out" -> true;
        default -> false;
      };
    }
  }

  static RecordedHistory of(JsonNode history) {
    if (history == null || !history.isArray() || history.isEmpty())
      throw new IllegalArgumentException("a history is a non-empty JSON array of events");
    JsonNode started = history.get(0).path("data");
    if (!"WorkflowStarted".equals(history.get(0).path("type").asText()))
      throw new IllegalArgumentException("a history starts with WorkflowStarted");
    List<Call> calls = new ArrayList<>();
    for (JsonNode event : history) {
      JsonNode d = event.path("data");
      int seq = d.path("seq").asInt(-1);
      String name = d.path("name").asText(null);
      switch (event.path("type").asText()) {
        case "StepStarted" -> put(calls, seq, new Call("step", name, "running", null, null));
        case "StepCompleted" -> put(calls, seq, new Call("step", name, "completed", out(d), null));
        case "StepFailed" -> {
          boolean last = d.path("retryAt").isNull() || d.path("retryAt").isMissingNode();
          put(calls, seq, new Call("step", name, last ? "failed" : "retrying", null, text(d)));
        }
        case "TimerStarted" -> put(calls, seq, new Call("sleep", name, "sleeping", null, null));
        case "TimerFired" -> put(calls, seq, new Call("sleep", name, "fired", null, null));
        case "SignalAwaited" -> put(calls, seq, new Call("signal", name, "waiting", null, null));
        case "SignalConsumed" ->
            put(calls, seq, new Call("signal", name, "received", d.path("payload"), null));
        case "SignalReceived" -> {
          JsonNode to = d.path("deliveredTo");
          if (to.isInt()) {
            put(calls, to.asInt(), new Call("signal", name, "received", d.path("payload"), null));
          }
        }
        case "SignalTimedOut" -> put(calls, seq, new Call("signal", name, "timed_out", null, null));
        case "StepsCopied" -> {
          for (JsonNode op : d.path("ops")) {
            put(
                calls,
                op.path("seq").asInt(),
                new Call(
                    op.path("kind").asText().toLowerCase(java.util.Locale.ROOT),
                    op.path("name").asText(),
                    op.path("status").asText().toLowerCase(java.util.Locale.ROOT),
                    out(op),
                    op.path("error").asText(null)));
          }
        }
        case "WorkflowRetried" -> {
          int from = d.path("fromSeq").asInt();
          while (calls.size() > from) calls.remove(calls.size() - 1);
        }
        default -> {}
      }
    }
    return new RecordedHistory(
        started.path("workflowId").asText(),
        started.path("workflow").asText(),
        started.path("tenantId").isTextual() ? started.path("tenantId").asText() : null,
        started.has("input") ? started.get("input") : NullNode.getInstance(),
        List.copyOf(calls));
  }

  private static void put(List<Call> calls, int seq, Call call) {
    if (seq < 0) throw new IllegalArgumentException("an event of a call has no seq");
    if (seq < calls.size()) calls.set(seq, call);
    else calls.add(call);
  }

  private static JsonNode out(JsonNode d) {
    return d.has("output") ? d.get("output") : NullNode.getInstance();
  }

  private static String text(JsonNode d) {
    return d.path("error").asText(null);
  }
}
