package dev.keel.workflow.sdk;

import java.time.Duration;

/**
 * What a running workflow can ask of Keel. Every call is journaled; see {@link Workflow} for the
 * determinism rule. Names identify calls within one execution and must be unique in it (they are
 * also the step part of {@link #idempotencyKey()}).
 */
public interface WorkflowContext {

  /** The execution's id. */
  String workflowId();

  /**
   * The tenant the execution belongs to, or empty for the admin's own executions and Keel's. A
   * workflow that calls other systems where its input says should send such requests as {@code
   * OutboundHttp.Requester.TENANT} when this is present, so that the outbound rule holds.
   */
  java.util.Optional<String> tenantId();

  /**
   * Inside a step body: a key stable across retries and replays of that step ({@code
   * <workflowId>/<stepName>}), for calls to other systems that deduplicate. Outside a step it
   * throws {@link IllegalStateException}.
   */
  String idempotencyKey();

  /**
   * Runs {@code body} with the node's default retry policy ({@code keel.workflows.default-retry}:
   * one attempt, no retry, unless the node sets one) and journals its result; see {@link
   * #step(String, Class, RetryPolicy, StepBody)}. Pass {@link RetryPolicy#none()} to be sure a step
   * is never retried whatever the node says.
   */
  default <T> T step(String name, Class<T> resultType, StepBody<T> body) {
    return step(name, resultType, null, body);
  }

  /**
   * A step with no result, e.g. {@code ctx.run("send-welcome", () -> mail.send(account))}:
   * journaled as a step whose output is null, run once per execution like any step, with the node's
   * default retry policy.
   */
  default void run(String name, StepAction body) {
    run(name, null, body);
  }

  /** As {@link #run(String, StepAction)}, retried per {@code retry}. */
  default void run(String name, RetryPolicy retry, StepAction body) {
    step(
        name,
        Void.class,
        retry,
        () -> {
          body.run();
          return null;
        });
  }

  /**
   * The current time, journaled at this position: the first run reads the clock, every replay
   * returns the recorded instant. Use it instead of {@code Instant.now()} outside steps (inside a
   * step body, read the clock directly: calls do not nest). Shown as a step named {@code now#<n>}.
   */
  default java.time.Instant now() {
    throw new UnsupportedOperationException("this WorkflowContext does not journal now()");
  }

  /**
   * Which side of a code change this execution is on, for changing a workflow while executions
   * started on the old code still run (as Temporal's {@code getVersion}):
   *
   * <pre>{@code
   * if (ctx.version("fraud-check", 1, 2) >= 2) ctx.step("fraud-check", Boolean.class, () -> ...);
   * }</pre>
   *
   * <p>An execution that reaches this call for the first time records {@code max} at this position
   * (shown as a step {@code version:<changeId>}) and gets it on every replay. An execution whose
   * history already has another call at this position recorded it before the change: it gets {@code
   * min}, nothing is recorded and the position is not used, so its history replays as it was. Keep
   * the call (with its old branch) while such executions may still run; raise {@code min} and drop
   * the old branch once none can.
   */
  default int version(String changeId, int min, int max) {
    throw new UnsupportedOperationException("this WorkflowContext does not journal version()");
  }

  /**
   * A random UUID, journaled at this position as {@link #now()} is; shown as a step named {@code
   * uuid#<n>}.
   */
  default java.util.UUID randomUuid() {
    throw new UnsupportedOperationException("this WorkflowContext does not journal randomUuid()");
  }

  /**
   * Runs {@code body} and journals its result before returning it. On replay a recorded step
   * returns its recorded result without running the body. A failing body is retried per {@code
   * retry} (the backoff is a durable timer); when the attempts run out this throws {@link
   * StepFailedException}, which fails the workflow unless the workflow catches it.
   *
   * <p>The returned value is the result as read back from its JSON form, on the first run as on
   * every replay, so the workflow sees the same thing either way. {@code retry} null means the
   * node's default policy; a policy given here always wins over it.
   */
  <T> T step(String name, Class<T> resultType, RetryPolicy retry, StepBody<T> body);

  /**
   * A durable timer: the execution shows {@code sleeping} and resumes after {@code duration},
   * across restarts.
   */
  void sleep(String name, Duration duration);

  /**
   * Waits for the signal {@code name} (sent with {@code POST .../signals/{name}}) and returns its
   * JSON body as {@code payloadType}. A signal sent before the workflow waits for it is kept and
   * returned at once. Throws {@link SignalTimeoutException} when {@code timeout} passes first.
   */
  <T> T awaitSignal(String name, Class<T> payloadType, Duration timeout);
}
