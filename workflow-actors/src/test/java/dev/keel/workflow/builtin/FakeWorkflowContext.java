package dev.keel.workflow.builtin;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.workflow.sdk.RetryPolicy;
import dev.keel.workflow.sdk.SignalTimeoutException;
import dev.keel.workflow.sdk.StepBody;
import dev.keel.workflow.sdk.StepFailedException;
import dev.keel.workflow.sdk.WorkflowContext;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@link WorkflowContext} for unit tests of workflow code: steps run inline on the calling
 * thread, retried per their policy with no backoff delay; results go through JSON as with the real
 * engine; sleeps are recorded and return at once; signals come from {@link #signal}. Everything is
 * recorded for assertions.
 */
public final class FakeWorkflowContext implements WorkflowContext {

  /** One {@code ctx} call, in order: {@code kind} is step, sleep or signal. */
  public record Call(String kind, String name) {}

  /** What happened to one step: its policy and the error of each failed attempt. */
  public record StepRecord(
      RetryPolicy policy, List<Throwable> failures, int attempts, boolean succeeded) {}

  private final ObjectMapper json = new ObjectMapper();
  private final String workflowId;
  private final List<Call> calls = new ArrayList<>();
  private final Map<String, StepRecord> steps = new LinkedHashMap<>();
  private final Map<String, Duration> sleeps = new LinkedHashMap<>();
  private final Map<String, Duration> signalTimeouts = new LinkedHashMap<>();
  private final Map<String, Object> signals = new HashMap<>();
  private String currentStep;
  private String tenantId;

  public FakeWorkflowContext(String workflowId) {
    this.workflowId = workflowId;
  }

  /** Runs as an execution of {@code tenantId} (by default the admin's own). */
  public FakeWorkflowContext ofTenant(String tenantId) {
    this.tenantId = tenantId;
    return this;
  }

  @Override
  public java.util.Optional<String> tenantId() {
    return java.util.Optional.ofNullable(tenantId);
  }

  /** A signal that the workflow will find waiting; a signal never sent times out. */
  public FakeWorkflowContext signal(String name, Object payload) {
    signals.put(name, payload);
    return this;
  }

  public List<Call> calls() {
    return calls;
  }

  public StepRecord stepRecord(String name) {
    return steps.get(name);
  }

  public Map<String, Duration> sleeps() {
    return sleeps;
  }

  public Map<String, Duration> signalTimeouts() {
    return signalTimeouts;
  }

  @Override
  public String workflowId() {
    return workflowId;
  }

  @Override
  public String idempotencyKey() {
    if (currentStep == null) throw new IllegalStateException("idempotencyKey() outside a step");
    return workflowId + "/" + currentStep;
  }

  @Override
  public <T> T step(String name, Class<T> resultType, RetryPolicy retry, StepBody<T> body) {
    if (retry == null) retry = RetryPolicy.none();
    record(new Call("step", name));
    List<Throwable> failures = new ArrayList<>();
    T result;
    int attempt = 0;
    while (true) {
      attempt++;
      currentStep = name;
      try {
        result = body.run();
        break;
      } catch (Exception e) {
        failures.add(e);
        if (!retry.retries(attempt, e)) {
          steps.put(name, new StepRecord(retry, List.copyOf(failures), attempt, false));
          throw new StepFailedException(name, String.valueOf(e.getMessage()));
        }
      } finally {
        currentStep = null;
      }
    }
    steps.put(name, new StepRecord(retry, List.copyOf(failures), attempt, true));
    // The engine hands back the journaled JSON form, not the object the body returned.
    try {
      return json.readValue(json.writeValueAsBytes(result), resultType);
    } catch (IOException e) {
      throw new IllegalStateException(
          "step '" + name + "' result does not round-trip through JSON", e);
    }
  }

  @Override
  public void sleep(String name, Duration duration) {
    record(new Call("sleep", name));
    sleeps.put(name, duration);
  }

  @Override
  public <T> T awaitSignal(String name, Class<T> payloadType, Duration timeout) {
    record(new Call("signal", name));
    signalTimeouts.put(name, timeout);
    if (!signals.containsKey(name)) throw new SignalTimeoutException(name, timeout);
    return json.convertValue(signals.get(name), payloadType);
  }

  private void record(Call call) {
    boolean reused = calls.stream().anyMatch(c -> c.name().equals(call.name()));
    if (reused)
      throw new IllegalStateException("name '" + call.name() + "' used twice in one execution");
    calls.add(call);
  }
}
