package dev.keel.workflow.execution;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.util.StdConverter;
import java.time.Instant;

/**
 * One recorded call of the workflow code, at its position {@code seq}: a step, a timer or a signal
 * wait, each with the statuses and fields that mean something for it.
 *
 * <p>Snapshots hold every call in one flat shape, {@link Stored}, written before the three were
 * told apart; {@link ExecutionData} converts at that edge ({@link ToStored}, {@link FromStored}),
 * so what is stored does not change.
 */
public sealed interface RecordedCall
    permits RecordedCall.Step, RecordedCall.Timer, RecordedCall.SignalWait {

  int seq();

  String name();

  Instant startedAt();

  /** When the execution, parked on this call, is due again (wake-up, timeout, next retry). */
  Instant dueAt();

  /** Whether the execution is parked on this call until {@link #dueAt} (or a signal). */
  boolean suspends();

  /** Whether the call has not ended: a cancel ends it as cancelled. */
  boolean open();

  /** This call ended by a cancel at {@code at}. */
  RecordedCall cancelled(Instant at);

  /** This call as snapshots store it. */
  Stored stored();

  enum StepStatus {
    RUNNING,
    RETRYING,
    COMPLETED,
    FAILED,
    CANCELLED
  }

  /** A step's body: run once per attempt; {@code retryAt} is set while it waits for a retry. */
  record Step(
      int seq,
      String name,
      StepStatus status,
      int attempts,
      JsonNode output,
      String error,
      Instant startedAt,
      Instant completedAt,
      Instant retryAt)
      implements RecordedCall {

    public Step {
      output = WorkflowExecution.nonNull(output);
    }

    static Step started(int seq, String name, int attempt, Instant at) {
      return new Step(seq, name, StepStatus.RUNNING, attempt, null, null, at, null, null);
    }

    /** Attempt {@code attempt} runs: an earlier attempt's error stays until it ends. */
    Step startedAgain(int attempt) {
      return new Step(seq, name, StepStatus.RUNNING, attempt, null, error, startedAt, null, null);
    }

    Step completed(JsonNode result, Instant at) {
      return new Step(seq, name, StepStatus.COMPLETED, attempts, result, null, startedAt, at, null);
    }

    /** Attempt {@code attempt} failed: it is retried at {@code nextTry}, or the step has failed. */
    Step failed(int attempt, String why, StepRetry retry, Instant at) {
      return retry instanceof StepRetry.At next
          ? new Step(seq, name, StepStatus.RETRYING, attempt, null, why, startedAt, null, next.at())
          : new Step(seq, name, StepStatus.FAILED, attempt, null, why, startedAt, at, null);
    }

    /** Not ended: in flight (or in flight at a crash), or waiting for its retry. */
    boolean unfinished() {
      return status == StepStatus.RUNNING || status == StepStatus.RETRYING;
    }

    @Override
    public Instant dueAt() {
      return retryAt;
    }

    @Override
    public boolean suspends() {
      return status == StepStatus.RETRYING;
    }

    @Override
    public boolean open() {
      return unfinished();
    }

    @Override
    public Step cancelled(Instant at) {
      return new Step(
          seq, name, StepStatus.CANCELLED, attempts, output, error, startedAt, at, null);
    }

    @Override
    public Stored stored() {
      return new Stored(
          seq,
          Kind.STEP,
          name,
          Status.valueOf(status.name()),
          attempts,
          output,
          error,
          startedAt,
          completedAt,
          retryAt);
    }
  }

  enum TimerStatus {
    SLEEPING,
    FIRED,
    CANCELLED
  }

  /** A durable sleep until {@code wakeAt}. */
  record Timer(
      int seq,
      String name,
      TimerStatus status,
      Instant startedAt,
      Instant completedAt,
      Instant wakeAt)
      implements RecordedCall {

    static Timer started(int seq, String name, Instant wakeAt, Instant at) {
      return new Timer(seq, name, TimerStatus.SLEEPING, at, null, wakeAt);
    }

    Timer fired(Instant at) {
      return new Timer(seq, name, TimerStatus.FIRED, startedAt, at, null);
    }

    @Override
    public Instant dueAt() {
      return wakeAt;
    }

    @Override
    public boolean suspends() {
      return status == TimerStatus.SLEEPING;
    }

    @Override
    public boolean open() {
      return suspends();
    }

    @Override
    public Timer cancelled(Instant at) {
      return new Timer(seq, name, TimerStatus.CANCELLED, startedAt, at, null);
    }

    @Override
    public Stored stored() {
      return new Stored(
          seq,
          Kind.SLEEP,
          name,
          Status.valueOf(status.name()),
          1,
          null,
          null,
          startedAt,
          completedAt,
          wakeAt);
    }
  }

  enum SignalStatus {
    WAITING,
    RECEIVED,
    TIMED_OUT,
    CANCELLED
  }

  /** A wait for signal {@code name} until {@code timeoutAt}; {@code payload} once received. */
  record SignalWait(
      int seq,
      String name,
      SignalStatus status,
      JsonNode payload,
      Instant startedAt,
      Instant completedAt,
      Instant timeoutAt)
      implements RecordedCall {

    /** The error a timed-out wait shows. */
    static final String TIMED_OUT = "timed out";

    public SignalWait {
      payload = WorkflowExecution.nonNull(payload);
    }

    static SignalWait awaited(int seq, String name, Instant timeoutAt, Instant at) {
      return new SignalWait(seq, name, SignalStatus.WAITING, null, at, null, timeoutAt);
    }

    /** A signal kept from before the wait: received as soon as asked for. */
    static SignalWait consumed(int seq, String name, JsonNode payload, Instant at) {
      return new SignalWait(seq, name, SignalStatus.RECEIVED, payload, at, at, null);
    }

    SignalWait received(JsonNode signal, Instant at) {
      return new SignalWait(seq, name, SignalStatus.RECEIVED, signal, startedAt, at, null);
    }

    SignalWait timedOut(Instant at) {
      return new SignalWait(seq, name, SignalStatus.TIMED_OUT, null, startedAt, at, null);
    }

    /** Whether signal {@code signal} is what the execution waits for now. */
    boolean waitsFor(String signal) {
      return status == SignalStatus.WAITING && name.equals(signal);
    }

    @Override
    public Instant dueAt() {
      return timeoutAt;
    }

    @Override
    public boolean suspends() {
      return status == SignalStatus.WAITING;
    }

    @Override
    public boolean open() {
      return suspends();
    }

    @Override
    public SignalWait cancelled(Instant at) {
      return new SignalWait(seq, name, SignalStatus.CANCELLED, payload, startedAt, at, null);
    }

    @Override
    public Stored stored() {
      return new Stored(
          seq,
          Kind.SIGNAL,
          name,
          Status.valueOf(status.name()),
          1,
          payload,
          status == SignalStatus.TIMED_OUT ? TIMED_OUT : null,
          startedAt,
          completedAt,
          timeoutAt);
    }
  }

  /** What comes after a failed step attempt: a retry at a time, or none (the step failed). */
  sealed interface StepRetry {
    /** From the failure's journaled {@code retryAt}, where null means no retry. */
    static StepRetry of(Instant retryAt) {
      return retryAt == null ? new Never() : new At(retryAt);
    }

    /** As the journal holds it: the retry's time, or null for none. */
    static Instant retryAt(StepRetry retry) {
      return retry instanceof At next ? next.at() : null;
    }

    record At(Instant at) implements StepRetry {}

    record Never() implements StepRetry {}
  }

  // ---------------------------------------------------------------- the stored shape

  /** The kind of a call as stored; the names are stored. */
  enum Kind {
    STEP,
    SLEEP,
    SIGNAL
  }

  /**
   * Every status of every kind of call, as stored; the names are stored. {@code CANCELLED}: the
   * execution was cancelled while this call ran, retried, slept or waited.
   */
  enum Status {
    RUNNING,
    RETRYING,
    COMPLETED,
    FAILED,
    SLEEPING,
    FIRED,
    WAITING,
    RECEIVED,
    TIMED_OUT,
    CANCELLED
  }

  /**
   * A call as snapshots store it (and as the API shows it): one shape for all three kinds, where
   * {@code dueAt} is the wake-up, the signal timeout or the next retry.
   */
  record Stored(
      int seq,
      Kind kind,
      String name,
      Status status,
      int attempts,
      JsonNode output,
      String error,
      Instant startedAt,
      Instant completedAt,
      Instant dueAt) {

    public Stored {
      output = WorkflowExecution.nonNull(output);
    }

    /** The call this stored one is. */
    RecordedCall call() {
      return switch (kind) {
        case STEP ->
            new Step(
                seq,
                name,
                StepStatus.valueOf(status.name()),
                attempts,
                output,
                error,
                startedAt,
                completedAt,
                dueAt);
        case SLEEP ->
            new Timer(seq, name, TimerStatus.valueOf(status.name()), startedAt, completedAt, dueAt);
        case SIGNAL ->
            new SignalWait(
                seq,
                name,
                SignalStatus.valueOf(status.name()),
                output,
                startedAt,
                completedAt,
                dueAt);
      };
    }
  }

  /** Jackson: a call written in the stored shape. */
  final class ToStored extends StdConverter<RecordedCall, Stored> {
    @Override
    public Stored convert(RecordedCall call) {
      return call.stored();
    }
  }

  /** Jackson: a call read from the stored shape. */
  final class FromStored extends StdConverter<Stored, RecordedCall> {
    @Override
    public RecordedCall convert(Stored stored) {
      return stored.call();
    }
  }
}
