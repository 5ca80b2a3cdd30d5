package dev.keel.workflow.execution;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import dev.keel.workflow.execution.RecordedCall.SignalWait;
import dev.keel.workflow.execution.RecordedCall.Step;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What every started execution has, whatever its lifecycle state: its start, its recorded calls
 * (the memo the attempts replay) and the signals kept for later. Part of every snapshot: the calls
 * are stored in the shape they always had ({@link RecordedCall.Stored}). {@code traceParent}: the
 * trace the execution is traced in ({@link WorkflowExecution.WorkflowStarted#traceParent()});
 * absent with traces off and from snapshots taken before traces existed.
 */
public record ExecutionData(
    String id,
    String workflow,
    int version,
    String tenantId,
    JsonNode input,
    Instant createdAt,
    Instant updatedAt,
    @JsonSerialize(contentConverter = RecordedCall.ToStored.class)
        @JsonDeserialize(contentConverter = RecordedCall.FromStored.class)
        List<RecordedCall> ops,
    Map<String, List<JsonNode>> pendingSignals,
    boolean paused,
    ExecutionRecovery.Lineage lineage,
    @JsonInclude(JsonInclude.Include.NON_NULL) String traceParent) {

  public ExecutionData {
    input = WorkflowExecution.nonNull(input);
    ops = List.copyOf(ops);
    pendingSignals = Collections.unmodifiableMap(new LinkedHashMap<>(pendingSignals));
    // Absent from snapshots taken before reruns existed.
    lineage = lineage == null ? ExecutionRecovery.Lineage.NONE : lineage;
  }

  public ExecutionData(
      String id,
      String workflow,
      int version,
      String tenantId,
      JsonNode input,
      Instant createdAt,
      Instant updatedAt,
      List<RecordedCall> ops,
      Map<String, List<JsonNode>> pendingSignals,
      boolean paused,
      ExecutionRecovery.Lineage lineage) {
    this(
        id,
        workflow,
        version,
        tenantId,
        input,
        createdAt,
        updatedAt,
        ops,
        pendingSignals,
        paused,
        lineage,
        null);
  }

  /** A new execution: no calls yet, no signals, no lineage; traced in {@code traceParent}. */
  static ExecutionData started(
      String id,
      String workflow,
      int version,
      String tenantId,
      JsonNode input,
      Instant at,
      String traceParent) {
    return new ExecutionData(
        id,
        workflow,
        version,
        tenantId,
        input,
        at,
        at,
        List.of(),
        Map.of(),
        false,
        null,
        traceParent);
  }

  /** The call the execution is parked on: its last, when that one waits for a time or signal. */
  Optional<RecordedCall> suspension() {
    if (ops.isEmpty()) return Optional.empty();
    RecordedCall last = ops.get(ops.size() - 1);
    return last.suspends() ? Optional.of(last) : Optional.empty();
  }

  /** The call at {@code seq}, if one is recorded there. */
  Optional<RecordedCall> callAt(int seq) {
    return seq >= 0 && seq < ops.size() ? Optional.of(ops.get(seq)) : Optional.empty();
  }

  /** The step at {@code seq}; the journal only ever holds step events for steps. */
  Step stepAt(int seq) {
    return (Step) ops.get(seq);
  }

  /** The timer at {@code seq}. */
  RecordedCall.Timer timerAt(int seq) {
    return (RecordedCall.Timer) ops.get(seq);
  }

  /** The signal wait at {@code seq}. */
  SignalWait signalWaitAt(int seq) {
    return (SignalWait) ops.get(seq);
  }

  /** The seq of the wait for signal {@code name} that the execution is parked on, if any. */
  Optional<Integer> waitingFor(String name) {
    return suspension()
        .filter(call -> call instanceof SignalWait w && w.waitsFor(name))
        .map(RecordedCall::seq);
  }

  /**
   * Whether the start of attempt {@code attempt} of the step at {@code seq} is still to be
   * journaled: the position is new, or holds an earlier attempt (one that failed and waits for its
   * retry, or one that was in flight at a crash).
   */
  boolean stepStartPending(int seq, int attempt) {
    if (seq > ops.size()) return false;
    if (seq == ops.size()) return true;
    return ops.get(seq) instanceof Step s
        && (s.status() == RecordedCall.StepStatus.RETRYING
            || (s.status() == RecordedCall.StepStatus.RUNNING && s.attempts() < attempt));
  }

  /**
   * Whether an attempt may record the outcome of step {@code name} at {@code seq}: the next free
   * position, or the same step started there and not finished (in flight, or waiting for a retry).
   * An outcome anywhere else would not fit the recorded calls, and is never journaled.
   */
  boolean acceptsStepOutcome(int seq, String name) {
    if (seq == ops.size()) return true;
    return callAt(seq)
        .filter(c -> c instanceof Step s && s.name().equals(name) && s.unfinished())
        .isPresent();
  }

  /** The first start of the step at {@code seq}: an earlier attempt's, when it was retried. */
  Instant firstStartOf(int seq, Instant thisAttempt) {
    return seq < ops.size() ? ops.get(seq).startedAt() : thisAttempt;
  }

  boolean sameStart(String otherWorkflow, JsonNode otherInput, String otherTenant) {
    return workflow.equals(otherWorkflow)
        && Objects.equals(input, otherInput)
        && Objects.equals(tenantId, otherTenant);
  }

  // ---------------------------------------------------------------- changes (pure)

  ExecutionData withCall(RecordedCall call, Instant at) {
    List<RecordedCall> next = new ArrayList<>(ops);
    if (call.seq() < next.size()) next.set(call.seq(), call);
    else next.add(call);
    return changed(at, next, pendingSignals, paused, lineage);
  }

  ExecutionData withCalls(List<RecordedCall> calls, Instant at) {
    return changed(at, calls, pendingSignals, paused, lineage);
  }

  /** Signal {@code name} kept for a later wait. */
  ExecutionData withSignalKept(String name, JsonNode payload, Instant at) {
    Map<String, List<JsonNode>> pending = new LinkedHashMap<>(pendingSignals);
    List<JsonNode> queue = new ArrayList<>(pending.getOrDefault(name, List.of()));
    queue.add(payload);
    pending.put(name, List.copyOf(queue));
    return changed(at, ops, pending, paused, lineage);
  }

  /** The oldest kept signal {@code name}, handed to a wait. */
  ExecutionData withSignalTaken(String name, Instant at) {
    Map<String, List<JsonNode>> pending = new LinkedHashMap<>(pendingSignals);
    List<JsonNode> queue = new ArrayList<>(pending.getOrDefault(name, List.of()));
    if (!queue.isEmpty()) queue.remove(0);
    if (queue.isEmpty()) pending.remove(name);
    else pending.put(name, List.copyOf(queue));
    return changed(at, ops, pending, paused, lineage);
  }

  /** The oldest signal {@code name} kept for a later wait, if any. */
  Optional<JsonNode> keptSignal(String name) {
    return pendingSignals.getOrDefault(name, List.of()).stream().findFirst();
  }

  ExecutionData withPaused(boolean p, Instant at) {
    return changed(at, ops, pendingSignals, p, lineage);
  }

  /** Linked to other executions by reruns; not a change of this one ({@code updatedAt} stays). */
  ExecutionData withLineage(ExecutionRecovery.Lineage next) {
    return changed(updatedAt, ops, pendingSignals, paused, next);
  }

  /**
   * Every call still open (running, retrying, sleeping, waiting) ends as cancelled at {@code at}.
   */
  ExecutionData withOpenCallsCancelled(Instant at) {
    List<RecordedCall> closed =
        ops.stream().map(call -> call.open() ? call.cancelled(at) : call).toList();
    return changed(at, closed, pendingSignals, false, lineage);
  }

  ExecutionData touched(Instant at) {
    return changed(at, ops, pendingSignals, paused, lineage);
  }

  /** The same execution, changed at {@code at}: what it started with stays. */
  private ExecutionData changed(
      Instant at,
      List<RecordedCall> calls,
      Map<String, List<JsonNode>> pending,
      boolean isPaused,
      ExecutionRecovery.Lineage links) {
    return new ExecutionData(
        id,
        workflow,
        version,
        tenantId,
        input,
        createdAt,
        at,
        calls,
        pending,
        isPaused,
        links,
        traceParent);
  }
}
