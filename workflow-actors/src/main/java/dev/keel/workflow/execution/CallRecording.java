package dev.keel.workflow.execution;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.workflow.execution.AttemptProtocol.AttemptFinished;
import dev.keel.workflow.execution.AttemptProtocol.AwaitSignal;
import dev.keel.workflow.execution.AttemptProtocol.Completion;
import dev.keel.workflow.execution.AttemptProtocol.Deliver;
import dev.keel.workflow.execution.AttemptProtocol.Directive;
import dev.keel.workflow.execution.AttemptProtocol.FailStep;
import dev.keel.workflow.execution.AttemptProtocol.Halt;
import dev.keel.workflow.execution.AttemptProtocol.Outcome;
import dev.keel.workflow.execution.AttemptProtocol.Proceed;
import dev.keel.workflow.execution.AttemptProtocol.RecordStep;
import dev.keel.workflow.execution.AttemptProtocol.StartTimer;
import dev.keel.workflow.execution.RecordedCall.StepRetry;
import dev.keel.workflow.execution.WorkflowExecution.Event;
import dev.keel.workflow.execution.WorkflowExecution.SignalAwaited;
import dev.keel.workflow.execution.WorkflowExecution.SignalConsumed;
import dev.keel.workflow.execution.WorkflowExecution.StepCompleted;
import dev.keel.workflow.execution.WorkflowExecution.StepFailed;
import dev.keel.workflow.execution.WorkflowExecution.StepStarted;
import dev.keel.workflow.execution.WorkflowExecution.TimerStarted;
import dev.keel.workflow.execution.WorkflowExecution.WorkflowCompleted;
import dev.keel.workflow.execution.WorkflowExecution.WorkflowFailed;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What the execution entity journals, and answers, for the messages of its current attempt ({@link
 * AttemptProtocol}): pure decisions over the recorded calls, beside the entity that persists them.
 *
 * <p>A step's result rides on the attempt's next message, so most writes carry it first: its start
 * unless already journaled, then its result. A result that does not fit the recorded calls is never
 * journaled.
 */
final class CallRecording {

  private CallRecording() {}

  /** What one message writes (maybe nothing) in one atomic write, and the answer once written. */
  record Write(List<Event> events, Directive reply) {
    static Write nothing(Directive reply) {
      return new Write(List.of(), reply);
    }
  }

  /**
   * The carried step result, then the attempt goes on to its next body, unless the execution was
   * paused meanwhile.
   */
  static Write recordStep(ExecutionData data, RecordStep c, Instant now) {
    Completion done = c.completed();
    if (!data.acceptsStepOutcome(done.seq(), done.name()))
      return Write.nothing(new Halt("out of order"));
    return new Write(
        completionEvents(data, done, now),
        data.paused() ? new Halt("paused") : new Proceed(done.attempt()));
  }

  /** A failed attempt of a step, with its start unless already journaled. */
  static Write failStep(ExecutionData data, FailStep c, Instant now) {
    if (!data.acceptsStepOutcome(c.seq(), c.name())) return Write.nothing(new Halt("out of order"));
    List<Event> events = new ArrayList<>(2);
    if (data.stepStartPending(c.seq(), c.attempt()))
      events.add(new StepStarted(c.seq(), c.name(), c.attempt(), c.startedAt()));
    events.add(
        new StepFailed(
            c.seq(), c.name(), c.attempt(), c.error(), StepRetry.retryAt(c.retry()), now));
    return new Write(events, new Proceed(c.attempt()));
  }

  /** The carried step result and a durable timer; the attempt stops until it fires. */
  static Write startTimer(ExecutionData data, StartTimer c, Instant now) {
    return recordThen(
        data,
        c.completed(),
        c.seq(),
        new Write(
            List.of(new TimerStarted(c.seq(), c.name(), now.plusMillis(c.durationMillis()), now)),
            new Halt("sleeping")),
        now);
  }

  /**
   * The carried step result and a wait for a signal: one kept from before is handed over at once,
   * else the attempt stops until the signal comes or the wait times out.
   */
  static Write awaitSignal(ExecutionData data, AwaitSignal c, Instant now) {
    Optional<JsonNode> kept = data.keptSignal(c.name());
    Write next =
        kept.isPresent()
            ? new Write(
                List.of(new SignalConsumed(c.seq(), c.name(), kept.get(), now)),
                new Deliver(kept.get()))
            : new Write(
                List.of(
                    new SignalAwaited(c.seq(), c.name(), now.plusMillis(c.timeoutMillis()), now)),
                new Halt("waiting"));
    return recordThen(data, c.completed(), c.seq(), next, now);
  }

  /**
   * The carried step result (if any) and then {@code next} in one atomic write. A paused execution
   * records the finished step but starts nothing new; a timer or a signal wait is recorded only at
   * the next free position.
   */
  private static Write recordThen(
      ExecutionData data, Completion carried, int seq, Write next, Instant now) {
    if (carried != null && !data.acceptsStepOutcome(carried.seq(), carried.name()))
      return Write.nothing(new Halt("out of order"));
    List<Event> events = new ArrayList<>(3);
    if (carried != null) events.addAll(completionEvents(data, carried, now));
    // Checked against the state after the completion: its step now holds position seq - 1.
    Optional<Halt> halt = haltFor(data, carried, seq);
    if (halt.isPresent()) return new Write(events, halt.get());
    events.addAll(next.events());
    return new Write(events, next.reply());
  }

  /**
   * A new timer or signal wait may be recorded only at the next position, while not paused. A
   * carried completion whose start is journaled in the same write takes its position first.
   */
  private static Optional<Halt> haltFor(ExecutionData data, Completion carried, int seq) {
    if (data.paused()) return Optional.of(new Halt("paused"));
    int recorded = data.ops().size();
    int free = carried == null ? recorded : Math.max(recorded, carried.seq() + 1);
    if (seq > free) return Optional.of(new Halt("out of order"));
    if (seq < recorded) return Optional.of(new Halt("already recorded"));
    return Optional.empty();
  }

  /**
   * What an attempt's end writes: the carried step result, then the execution's completion or
   * failure when the workflow returned or threw. Empty when the result does not fit the recorded
   * calls.
   */
  static Optional<List<Event>> finish(ExecutionData data, AttemptFinished c, Instant now) {
    Completion done = c.completed();
    if (done != null && !data.acceptsStepOutcome(done.seq(), done.name())) return Optional.empty();
    List<Event> events = new ArrayList<>(3);
    if (done != null) events.addAll(completionEvents(data, done, now));
    if (c.outcome() instanceof Outcome.Returned returned)
      events.add(new WorkflowCompleted(returned.output(), now));
    if (c.outcome() instanceof Outcome.Threw threw)
      events.add(new WorkflowFailed(threw.error(), now));
    return Optional.of(events);
  }

  /** A finished step's events: its start unless already journaled, then its result. */
  private static List<Event> completionEvents(ExecutionData data, Completion c, Instant now) {
    List<Event> events = new ArrayList<>(3);
    if (data.stepStartPending(c.seq(), c.attempt()))
      events.add(new StepStarted(c.seq(), c.name(), c.attempt(), c.startedAt()));
    events.add(new StepCompleted(c.seq(), c.name(), c.output(), now));
    return events;
  }
}
