package dev.keel.workflow.testkit;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.keel.workflow.sdk.ReplayDivergedError;
import dev.keel.workflow.sdk.RetryPolicy;
import dev.keel.workflow.sdk.SignalTimeoutException;
import dev.keel.workflow.sdk.StepBody;
import dev.keel.workflow.sdk.StepFailedException;
import dev.keel.workflow.sdk.Workflow;
import dev.keel.workflow.sdk.WorkflowContext;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;

/**
 * Replays a recorded execution against the current code of its workflow, as Keel does when the
 * execution resumes, and fails with {@link ReplayDivergedError} at the first position where the
 * code asks for another call than the history recorded. Put it in the workflow's test suite with
 * histories of real executions before deploying a change:
 *
 * <pre>{@code
 * String history = Files.readString(Path.of("src/test/resources/histories/order-17.json"));
 * // curl -H "Authorization: Bearer $TOKEN" .../api/v1/workflows/order-17/history > order-17.json
 * WorkflowReplayer.Result r = WorkflowReplayer.replay(new Checkout(), history);
 * assertEquals(5, r.replayedCalls());
 * }</pre>
 *
 * <p>No step body runs: recorded calls return their recorded results, and the replay stops at the
 * first call the history has no record of (the execution would run it next). Calls are matched by
 * position, kind and name, as the engine matches them; {@code ctx.now()} and {@code
 * ctx.randomUuid()} are the steps {@code now#<n>} and {@code uuid#<n>}.
 */
public final class WorkflowReplayer {

  private static final ObjectMapper JSON =
      JsonMapper.builder()
          .addModule(new JavaTimeModule())
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .build();

  private WorkflowReplayer() {}

  /**
   * What a replay found: how many recorded calls the code asked for in order, whether it asked for
   * one the history does not have yet ({@code ranPastHistory}) or returned ({@code returned}).
   */
  public record Result(int replayedCalls, int recordedCalls, boolean returned, Object output) {}

  /** Replays {@code history} (the JSON of {@code GET .../history}) against {@code workflow}. */
  public static <I, O> Result replay(Workflow<I, O> workflow, String history) {
    try {
      return replay(workflow, JSON.readTree(history));
    } catch (IOException e) {
      throw new IllegalArgumentException("the history is not JSON: " + e.getMessage(), e);
    }
  }

  /** As {@link #replay(Workflow, String)}, from the parsed history. */
  public static <I, O> Result replay(Workflow<I, O> workflow, JsonNode history) {
    RecordedHistory recorded = RecordedHistory.of(history);
    if (!recorded.workflow().equals(workflow.name())) {
      throw new IllegalArgumentException(
          "the history is of workflow '"
              + recorded.workflow()
              + "', not '"
              + workflow.name()
              + "'");
    }
    ReplayContext ctx = new ReplayContext(recorded);
    try {
      I input = JSON.treeToValue(recorded.input(), workflow.inputType());
      O output = workflow.run(ctx, input);
      if (ctx.position < recorded.calls().size()) {
        RecordedHistory.Call next = recorded.calls().get(ctx.position);
        throw new ReplayDivergedError(
            "replay diverged at position "
                + ctx.position
                + ": the history has "
                + next.kind()
                + " '"
                + next.name()
                + "' but the code now returns without calling it");
      }
      return new Result(ctx.position, recorded.calls().size(), true, output);
    } catch (EndOfHistory e) {
      return new Result(ctx.position, recorded.calls().size(), false, null);
    } catch (ReplayDivergedError | IllegalArgumentException e) {
      throw e;
    } catch (StepFailedException | SignalTimeoutException e) {
      // The recorded failure ended the execution; the code let it through, as it did then.
      return new Result(ctx.position, recorded.calls().size(), true, null);
    } catch (Exception e) {
      throw new AssertionError("the workflow threw on replay: " + e, e);
    }
  }

  /** Unwinds the workflow at the first call the history has no record of. */
  private static final class EndOfHistory extends Error {
    EndOfHistory() {
      super("end of history", null, false, false);
    }
  }

  private static final class ReplayContext implements WorkflowContext {
    private final RecordedHistory history;
    private int position;

    ReplayContext(RecordedHistory history) {
      this.history = history;
    }

    @Override
    public String workflowId() {
      return history.workflowId();
    }

    @Override
    public Optional<String> tenantId() {
      return Optional.ofNullable(history.tenantId());
    }

    @Override
    public String idempotencyKey() {
      throw new IllegalStateException("idempotencyKey() is only available inside a step body");
    }

    @Override
    public <T> T step(String name, Class<T> resultType, RetryPolicy retry, StepBody<T> body) {
      RecordedHistory.Call call = next("step", name);
      if ("failed".equals(call.status())) throw new StepFailedException(name, call.error());
      return convert(call.output(), resultType);
    }

    @Override
    public void sleep(String name, Duration duration) {
      next("sleep", name);
    }

    @Override
    public <T> T awaitSignal(String name, Class<T> payloadType, Duration timeout) {
      RecordedHistory.Call call = next("signal", name);
      if ("timed_out".equals(call.status())) throw new SignalTimeoutException(name, timeout);
      return convert(call.output(), payloadType);
    }

    @Override
    public Instant now() {
      return step("now#" + position, Instant.class, RetryPolicy.none(), () -> null);
    }

    @Override
    public int version(String changeId, int min, int max) {
      String name = "version:" + changeId;
      if (position < history.calls().size()) {
        RecordedHistory.Call call = history.calls().get(position);
        if (!call.kind().equals("step") || !call.name().equals(name)) return min;
      }
      Integer v = step(name, Integer.class, RetryPolicy.none(), () -> null);
      if (v == null || v < min || v > max)
        throw new ReplayDivergedError(
            "version '" + changeId + "' was recorded as " + v + ", outside " + min + " to " + max);
      return v;
    }

    @Override
    public UUID randomUuid() {
      return step("uuid#" + position, UUID.class, RetryPolicy.none(), () -> null);
    }

    /** The recorded call at the next position, which must be of this kind and name and ended. */
    private RecordedHistory.Call next(String kind, String name) {
      int seq = position;
      if (seq >= history.calls().size() || !history.calls().get(seq).ended()) {
        throw new EndOfHistory();
      }
      RecordedHistory.Call call = history.calls().get(seq);
      if (!call.kind().equals(kind) || !call.name().equals(name)) {
        throw new ReplayDivergedError(
            "replay diverged at position "
                + seq
                + ": the history has "
                + call.kind()
                + " '"
                + call.name()
                + "' but the code now asks for "
                + kind
                + " '"
                + name
                + "'");
      }
      position++;
      return call;
    }

    private static <T> T convert(JsonNode json, Class<T> type) {
      if (json == null || json.isNull()) return null;
      try {
        return JSON.treeToValue(json, type);
      } catch (IOException e) {
        throw new ReplayDivergedError(
            "the recorded result cannot be read as "
                + type.getSimpleName()
                + ": "
                + e.getMessage());
      }
    }
  }
}
