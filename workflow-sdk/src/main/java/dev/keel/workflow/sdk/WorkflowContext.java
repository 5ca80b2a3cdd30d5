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
   * Runs {@code body} once (no retries) and journals its result; see {@link #step(String, Class,
   * RetryPolicy, StepBody)}.
   */
  default <T> T step(String name, Class<T> resultType, StepBody<T> body) {
    return step(name, resultType, RetryPolicy.none(), body);
  }

  /**
   * Runs {@code body} and journals its result before returning it. On replay a recorded step
   * returns its recorded result without running the body. A failing body is retried per {@code
   * retry} (the backoff is a durable timer); when the attempts run out this throws {@link
   * StepFailedException}, which fails the workflow unless the workflow catches it.
   *
   * <p>The returned value is the result as read back from its JSON form, on the first run as on
   * every replay, so the workflow sees the same thing either way.
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
