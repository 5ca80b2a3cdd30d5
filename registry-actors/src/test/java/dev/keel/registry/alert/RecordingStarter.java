package dev.keel.registry.alert;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.workflow.execution.WorkflowOutcomes;
import dev.keel.workflow.execution.WorkflowStarter;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.pekko.pattern.StatusReply;

/**
 * A {@link WorkflowStarter} that records every call. Idempotent like the real one: an id started
 * before with the same input answers {@code created} false, with other input a conflict. Answers
 * can be scripted per call, or the whole starter made unavailable.
 */
final class RecordingStarter implements WorkflowStarter, WorkflowOutcomes {

  record Call(String workflowId, String workflow, JsonNode input, String tenantId) {}

  private final List<Call> calls = new CopyOnWriteArrayList<>();
  private final Map<String, JsonNode> started = new ConcurrentHashMap<>();
  private final Deque<Function<Call, CompletionStage<StartOutcome>>> scripted = new ArrayDeque<>();
  private volatile String unavailable;

  @Override
  public CompletionStage<StartOutcome> start(
      String workflowId, String workflow, JsonNode input, String tenantId) {
    Call call = new Call(workflowId, workflow, input, tenantId);
    calls.add(call);
    if (unavailable != null)
      return CompletableFuture.failedFuture(new IllegalStateException(unavailable));
    Function<Call, CompletionStage<StartOutcome>> answer;
    synchronized (scripted) {
      answer = scripted.poll();
    }
    return answer != null ? answer.apply(call) : succeed(call);
  }

  private CompletionStage<StartOutcome> succeed(Call call) {
    JsonNode before = started.putIfAbsent(call.workflowId(), call.input());
    if (before != null && !before.equals(call.input())) {
      return CompletableFuture.failedFuture(
          new StatusReply.ErrorMessage(
              "conflict: workflow id '"
                  + call.workflowId()
                  + "' is already used by an execution with other input"));
    }
    return CompletableFuture.completedFuture(new StartOutcome(call.workflowId(), before == null));
  }

  /** The next {@code times} calls fail, as a rejected start does. */
  void failNext(int times, String reason) {
    synchronized (scripted) {
      for (int i = 0; i < times; i++) {
        scripted.add(call -> CompletableFuture.failedFuture(new IllegalStateException(reason)));
      }
    }
  }

  /** Every call fails with {@code reason} until called again with null. */
  void unavailable(String reason) {
    unavailable = reason;
  }

  /** Marks {@code workflowId} as taken by another execution: its start is a conflict. */
  void takenByAnother(String workflowId) {
    started.put(
        workflowId, com.fasterxml.jackson.databind.node.TextNode.valueOf("another execution"));
  }

  // ---------------------------------------------------------------- outcomes

  private final Map<String, Outcome> ended = new ConcurrentHashMap<>();
  private final Map<String, List<CompletableFuture<Optional<Outcome>>>> waiting =
      new ConcurrentHashMap<>();
  private final List<String> awaited = new CopyOnWriteArrayList<>();
  private final Deque<Throwable> awaitFailures = new ArrayDeque<>();

  /**
   * As the real one: answers once {@link #end} is called for the id, or empty when {@code wait}
   * runs out.
   */
  @Override
  public CompletionStage<Optional<Outcome>> awaitOutcome(String workflowId, Duration wait) {
    awaited.add(workflowId);
    synchronized (awaitFailures) {
      Throwable failure = awaitFailures.poll();
      if (failure != null) return CompletableFuture.failedFuture(failure);
    }
    Outcome outcome = ended.get(workflowId);
    if (outcome != null) return CompletableFuture.completedFuture(Optional.of(outcome));
    CompletableFuture<Optional<Outcome>> answer = new CompletableFuture<>();
    waiting.computeIfAbsent(workflowId, k -> new CopyOnWriteArrayList<>()).add(answer);
    return answer.completeOnTimeout(Optional.empty(), wait.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * Execution {@code workflowId} ends with {@code status} ({@code completed}, {@code failed},
   * {@code cancelled}).
   */
  void end(String workflowId, String status, String error) {
    Outcome outcome = new Outcome(status, error);
    ended.put(workflowId, outcome);
    for (CompletableFuture<Optional<Outcome>> w : waiting.getOrDefault(workflowId, List.of()))
      w.complete(Optional.of(outcome));
  }

  /** The next await fails with {@code failure}. */
  void failNextAwait(Throwable failure) {
    synchronized (awaitFailures) {
      awaitFailures.add(failure);
    }
  }

  /** The ids waited for, one per wait. */
  List<String> awaited() {
    return List.copyOf(awaited);
  }

  List<Call> calls() {
    return List.copyOf(calls);
  }

  List<String> startedIds() {
    return calls.stream().map(Call::workflowId).toList();
  }
}
