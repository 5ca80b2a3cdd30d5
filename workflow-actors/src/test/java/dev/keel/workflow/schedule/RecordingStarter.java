package dev.keel.workflow.schedule;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.workflow.execution.WorkflowStarter;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * A {@link WorkflowStarter} that records every call. Idempotent like the real one: an id it has
 * started before answers {@code created} false. Answers can be scripted per call.
 */
final class RecordingStarter implements WorkflowStarter {

  record Call(String workflowId, String workflow, JsonNode input, String tenantId) {}

  private final List<Call> calls = new CopyOnWriteArrayList<>();
  private final Set<String> started = ConcurrentHashMap.newKeySet();
  private final Deque<Function<Call, CompletionStage<StartOutcome>>> scripted = new ArrayDeque<>();

  @Override
  public CompletionStage<StartOutcome> start(
      String workflowId, String workflow, JsonNode input, String tenantId) {
    Call call = new Call(workflowId, workflow, input, tenantId);
    calls.add(call);
    Function<Call, CompletionStage<StartOutcome>> answer;
    synchronized (scripted) {
      answer = scripted.poll();
    }
    return answer != null ? answer.apply(call) : succeed(call);
  }

  private CompletionStage<StartOutcome> succeed(Call call) {
    return CompletableFuture.completedFuture(
        new StartOutcome(call.workflowId(), started.add(call.workflowId())));
  }

  /** The next {@code times} calls fail, as a rejected start does. */
  void failNext(int times, String reason) {
    synchronized (scripted) {
      for (int i = 0; i < times; i++) {
        scripted.add(call -> CompletableFuture.failedFuture(new IllegalStateException(reason)));
      }
    }
  }

  /** The next {@code times} calls fail with {@code failure}. */
  void failNextWith(int times, Throwable failure) {
    synchronized (scripted) {
      for (int i = 0; i < times; i++) scripted.add(call -> CompletableFuture.failedFuture(failure));
    }
  }

  /** The next call answers when the returned future is completed with {@code true} (created). */
  CompletableFuture<Boolean> holdNext() {
    CompletableFuture<Boolean> release = new CompletableFuture<>();
    synchronized (scripted) {
      scripted.add(
          call ->
              release.thenApply(
                  ok -> {
                    if (!ok) throw new IllegalStateException("released as failed");
                    return new StartOutcome(call.workflowId(), started.add(call.workflowId()));
                  }));
    }
    return release;
  }

  List<Call> calls() {
    return List.copyOf(calls);
  }

  List<String> startedIds() {
    return calls.stream().map(Call::workflowId).toList();
  }
}
