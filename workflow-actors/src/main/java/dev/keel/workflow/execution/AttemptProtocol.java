package dev.keel.workflow.execution;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.persistence.KeelSerializable;
import dev.keel.workflow.execution.RecordedCall.StepRetry;
import java.time.Instant;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * What an execution entity and the attempt running its workflow code say to each other, on one
 * node: the entity hands the node's {@link WorkflowRunner} an {@link Attempt}; the attempt ({@link
 * ReplayingContext}) asks the entity to record each new call ({@link ToEntity}) before it goes on
 * and is answered with a {@link Directive}; at its end it reports an {@link Outcome}.
 *
 * <p>Only the current attempt (by {@code runId}) may record; a stale one is told to halt.
 */
public final class AttemptProtocol {

  private AttemptProtocol() {}

  /** What the entity hands the runner. */
  record Attempt(
      long runId,
      ExecutionData data,
      ActorRef<ToEntity> entity,
      WorkflowDeps deps,
      Gate gate,
      WorkflowTracing tracing) {}

  /**
   * Shared by the entity and its running attempt. Closed by the entity when the execution is paused
   * or cancelled while this attempt runs: the attempt starts no new step body after that (a body is
   * not announced to the entity before it runs, see {@link Completion}, so this is how it learns in
   * time). Marked started by the attempt once it has a runner slot.
   */
  static final class Gate {
    private volatile String halted;
    private volatile boolean started;

    /** The runner gave the attempt a slot: it no longer waits in the queue. */
    void markStarted() {
      started = true;
    }

    boolean started() {
      return started;
    }

    void close(String why) {
      halted = why;
    }

    String halted() {
      return halted;
    }
  }

  // ---------------------------------------------------------------- attempt to entity

  /** A message from the attempt to its entity. */
  public sealed interface ToEntity extends WorkflowExecution.Command
      permits RecordStep, NoteStepStarted, FailStep, StartTimer, AwaitSignal, AttemptFinished {
    /** The attempt that sends it; only the current one may record. */
    long runId();
  }

  /**
   * A step body's result, carried by the attempt's next command so that it is journaled in the same
   * write as what comes next (one atomic write instead of two). Nothing outside the attempt happens
   * between the body's end and that write: only deterministic workflow code runs. The step's start
   * ({@code attempt}, {@code startedAt}) rides along: a body is not announced before it runs, so a
   * quick step costs one write, start and outcome together; a body still running after a moment is
   * announced on its own ({@link NoteStepStarted}).
   */
  public record Completion(int seq, String name, int attempt, Instant startedAt, JsonNode output) {}

  /**
   * Journals a finished step before the attempt runs the next body (its result must be durable
   * first: a body runs at most once, unless it was in flight at a crash). Answered {@link Proceed},
   * or {@link Halt} when the execution was paused or the attempt superseded meanwhile.
   */
  public record RecordStep(long runId, Completion completed, ActorRef<Directive> replyTo)
      implements ToEntity {}

  /**
   * A step body has been running for a while: journal its start now, so that the execution shows it
   * running (and a crash counts it as an attempt), instead of with its outcome.
   */
  public record NoteStepStarted(long runId, int seq, String name, int attempt, Instant startedAt)
      implements ToEntity {}

  /** A step attempt failed; {@code retry} says whether the step runs again, and when. */
  public record FailStep(
      long runId,
      int seq,
      String name,
      int attempt,
      Instant startedAt,
      String error,
      @JsonTypeInfo(use = JsonTypeInfo.Id.NAME)
          @JsonSubTypes({
            @JsonSubTypes.Type(value = StepRetry.At.class, name = "at"),
            @JsonSubTypes.Type(value = StepRetry.Never.class, name = "never")
          })
          StepRetry retry,
      ActorRef<Directive> replyTo)
      implements ToEntity {}

  /** Journals the carried step result (if any) and a durable timer of {@code durationMillis}. */
  public record StartTimer(
      long runId,
      Completion completed,
      int seq,
      String name,
      long durationMillis,
      ActorRef<Directive> replyTo)
      implements ToEntity {}

  /** Journals the carried step result (if any) and a wait for signal {@code name}. */
  public record AwaitSignal(
      long runId,
      Completion completed,
      int seq,
      String name,
      long timeoutMillis,
      ActorRef<Directive> replyTo)
      implements ToEntity {}

  /** The attempt ended, with the result of its last step still to journal (if any). */
  public record AttemptFinished(
      long runId,
      Completion completed,
      @JsonTypeInfo(use = JsonTypeInfo.Id.NAME)
          @JsonSubTypes({
            @JsonSubTypes.Type(value = Outcome.Returned.class, name = "returned"),
            @JsonSubTypes.Type(value = Outcome.Threw.class, name = "threw"),
            @JsonSubTypes.Type(value = Outcome.Suspended.class, name = "suspended"),
            @JsonSubTypes.Type(value = Outcome.Abandoned.class, name = "abandoned")
          })
          Outcome outcome)
      implements ToEntity {}

  /** How an attempt ended. */
  public sealed interface Outcome {
    /** The workflow returned {@code output}: the execution has completed. */
    record Returned(JsonNode output) implements Outcome {}

    /** The workflow threw: the execution has failed with {@code error}. */
    record Threw(String error) implements Outcome {}

    /** The attempt stopped at a call that waits (timer, signal, retry, pause, cancel). */
    record Suspended() implements Outcome {}

    /** The entity did not answer in time (it moved, or the node stops): launch again later. */
    record Abandoned(String why) implements Outcome {}
  }

  // ---------------------------------------------------------------- entity to attempt

  /** What the entity tells the running attempt. */
  public sealed interface Directive extends KeelSerializable {}

  /** Go on: the call is recorded (a step as attempt {@code attempt}). */
  public record Proceed(int attempt) implements Directive {}

  /** The signal the attempt waits for was already there. */
  public record Deliver(JsonNode payload) implements Directive {}

  /** Stop at this boundary: paused, cancelled, suspended or superseded. */
  public record Halt(String why) implements Directive {}
}
