package dev.keel.workflow.execution;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import dev.keel.persistence.grammar.Durations;
import dev.keel.persistence.grammar.InvalidValueException;
import dev.keel.workflow.execution.WorkflowExecution.Command;
import dev.keel.workflow.execution.WorkflowExecution.Deliver;
import dev.keel.workflow.execution.WorkflowExecution.Directive;
import dev.keel.workflow.execution.WorkflowExecution.ExecutionData;
import dev.keel.workflow.execution.WorkflowExecution.Halt;
import dev.keel.workflow.execution.WorkflowExecution.Op;
import dev.keel.workflow.execution.WorkflowExecution.OpKind;
import dev.keel.workflow.execution.WorkflowExecution.Outcome;
import dev.keel.workflow.execution.WorkflowExecution.Proceed;
import dev.keel.workflow.sdk.ReplayDivergedError;
import dev.keel.workflow.sdk.RetryPolicy;
import dev.keel.workflow.sdk.SignalTimeoutException;
import dev.keel.workflow.sdk.StepBody;
import dev.keel.workflow.sdk.StepFailedException;
import dev.keel.workflow.sdk.Workflow;
import dev.keel.workflow.sdk.WorkflowContext;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One attempt at running a workflow: replays the recorded {@link Op}s and records each new call
 * through the execution entity before going on. Runs on the {@link WorkflowRunner}'s pool.
 *
 * <p>An attempt ends when the workflow returns or throws (the entity records completion or
 * failure), or when it reaches a call that must wait — a timer, a signal, a retry backoff, a pause,
 * a cancel — where it unwinds with {@link Suspend} and the entity relaunches it when the wait is
 * over. Replay from the top is cheap: recorded calls return their journaled results at once.
 */
final class ReplayingContext implements WorkflowContext {

  private static final Logger log = LoggerFactory.getLogger(ReplayingContext.class);

  /** What the entity hands the runner. */
  record Attempt(
      long runId,
      ExecutionData data,
      ActorRef<Command> entity,
      WorkflowDeps deps,
      Gate gate,
      WorkflowTracing tracing) {}

  /**
   * Shared by the entity and its running attempt. Closed by the entity when the execution is paused
   * or cancelled while this attempt runs: the attempt starts no new step body after that (a body is
   * not announced to the entity before it runs, see {@link WorkflowExecution.Completion}, so this
   * is how it learns in time). Marked started by the attempt once it has a runner slot.
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

  /**
   * Unwinds the workflow's stack when the attempt must stop at a boundary; not an exception
   * workflows should see.
   */
  static final class Suspend extends Error {
    Suspend(String why) {
      super(why, null, false, false);
    }
  }

  /**
   * The entity did not answer in time (it moved, or the node is stopping); the entity relaunches
   * later.
   */
  static final class Abandon extends Error {
    Abandon(String why) {
      super(why, null, false, false);
    }
  }

  private final Attempt attempt;
  private final List<Op> recorded;
  private final Set<String> namesSeen = new HashSet<>();
  private int position;
  private String currentStep;

  /**
   * The last step's result, not yet journaled: it rides on the next command (see
   * WorkflowExecution.Completion).
   */
  private WorkflowExecution.Completion pending;

  private boolean suspended;

  private ReplayingContext(Attempt attempt) {
    this.attempt = attempt;
    this.recorded = attempt.data().ops();
  }

  static void run(Attempt a) {
    // Read by the entity's view (queued or not), without a message.
    a.gate().markStarted();
    WorkflowDeps deps = a.deps();
    ReplayingContext ctx = new ReplayingContext(a);
    Outcome outcome;
    JsonNode output = null;
    String error = null;
    try {
      Workflow<?, ?> workflow =
          deps.registry()
              .find(a.data().workflow())
              .orElseThrow(
                  () ->
                      new IllegalStateException(
                          "workflow '" + a.data().workflow() + "' is not registered on this node"));
      Object result = runTyped(workflow, ctx, a.data().input(), deps);
      if (ctx.suspended) {
        outcome = Outcome.SUSPENDED;
      } else {
        outcome = Outcome.COMPLETED;
        output = result == null ? NullNode.getInstance() : deps.mapper().valueToTree(result);
      }
    } catch (Suspend s) {
      outcome = Outcome.SUSPENDED;
    } catch (Abandon e) {
      log.warn("workflow attempt abandoned id={} reason={}", a.data().id(), e.getMessage());
      // Tell the entity (if it hears it) so that it may relaunch; otherwise it waits for this
      // attempt forever.
      a.entity()
          .tell(
              new WorkflowExecution.AttemptFinished(
                  a.runId(), null, Outcome.ABANDONED, null, null));
      return;
    } catch (Throwable t) {
      if (ctx.suspended) {
        // The workflow caught our unwinding and threw something else: still only a suspension.
        outcome = Outcome.SUSPENDED;
      } else {
        outcome = Outcome.FAILED;
        error = describe(t);
      }
    }
    a.entity()
        .tell(
            new WorkflowExecution.AttemptFinished(
                a.runId(), ctx.takePending(), outcome, output, error));
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static Object runTyped(
      Workflow workflow, ReplayingContext ctx, JsonNode input, WorkflowDeps deps) throws Exception {
    Object typedInput = deps.mapper().treeToValue(input, workflow.inputType());
    return workflow.run(ctx, typedInput);
  }

  static String describe(Throwable t) {
    if (t instanceof StepFailedException
        || t instanceof ReplayDivergedError
        || t instanceof SignalTimeoutException
        || t instanceof InvalidValueException
        || t instanceof dev.keel.workflow.outbound.OutboundRefusedException) {
      return t.getMessage();
    }
    String message = t.getMessage();
    return t.getClass().getSimpleName() + (message == null ? "" : ": " + message);
  }

  // ---------------------------------------------------------------- WorkflowContext

  @Override
  public String workflowId() {
    return attempt.data().id();
  }

  @Override
  public java.util.Optional<String> tenantId() {
    return java.util.Optional.ofNullable(attempt.data().tenantId());
  }

  @Override
  public String idempotencyKey() {
    if (currentStep == null) {
      throw new IllegalStateException("idempotencyKey() is only available inside a step body");
    }
    return workflowId() + "/" + currentStep;
  }

  @Override
  public java.time.Instant now() {
    return step(
        "now#" + position,
        java.time.Instant.class,
        RetryPolicy.none(),
        () -> attempt.deps().clock().instant());
  }

  @Override
  public int version(String changeId, int min, int max) {
    if (min > max) throw new IllegalArgumentException("version: min " + min + " > max " + max);
    String name = "version:" + changeId;
    if (position < recorded.size()) {
      Op op = recorded.get(position);
      // Recorded before the change: the old code's branch, and the position stays that call's.
      if (op.kind() != OpKind.STEP || !op.name().equals(name)) return min;
    }
    Integer v = step(name, Integer.class, RetryPolicy.none(), () -> max);
    if (v == null || v < min || v > max) {
      throw new ReplayDivergedError(
          "version '"
              + changeId
              + "' was recorded as "
              + v
              + ", outside the supported range "
              + min
              + " to "
              + max);
    }
    return v;
  }

  @Override
  public java.util.UUID randomUuid() {
    return step("uuid#" + position, java.util.UUID.class, RetryPolicy.none(), randomUuidBody());
  }

  /** From the node's random source, so that tests that fix it fix the UUIDs too. */
  private StepBody<java.util.UUID> randomUuidBody() {
    return () -> {
      java.util.random.RandomGenerator random = attempt.deps().random();
      long most = (random.nextLong() & ~0xF000L) | 0x4000L; // version 4
      long least = (random.nextLong() & ~(0x3L << 62)) | (0x2L << 62); // IETF variant
      return new java.util.UUID(most, least);
    };
  }

  @Override
  public <T> T step(String name, Class<T> resultType, RetryPolicy retry, StepBody<T> body) {
    // No policy given: the node's default (keel.workflows.default-retry); a given one wins.
    RetryPolicy policy = retry != null ? retry : attempt.deps().settings().defaultRetry();
    int seq = next(name, OpKind.STEP);
    Op op = seq < recorded.size() ? recorded.get(seq) : null;
    if (op != null) {
      switch (op.status()) {
        case COMPLETED:
          return convert(op.output(), resultType);
        case FAILED:
          throw new StepFailedException(name, op.error());
        default:
          break; // RUNNING (the node died during the body) or RETRYING: run it again
      }
    }
    // The previous step's result must be journaled before this body runs (a body runs at most
    // once, unless in flight at a crash). This body's start is not announced first: it is journaled
    // with its outcome, or by the start notes once the body has run for a while.
    WorkflowExecution.Completion carried = takePending();
    if (carried != null) {
      Directive recorded = ask(r -> new WorkflowExecution.RecordStep(attempt.runId(), carried, r));
      if (!(recorded instanceof Proceed)) throw suspend(recorded);
    }
    String halted = attempt.gate().halted();
    if (halted != null) throw suspend(new Halt(halted));
    int attemptNo = op == null ? 1 : op.attempts() + 1;
    Instant startedAt = attempt.deps().clock().instant();
    T value;
    currentStep = name;
    StepStartNotes.Running note =
        attempt
            .deps()
            .runner()
            .startNotes()
            .watch(
                () ->
                    attempt
                        .entity()
                        .tell(
                            new WorkflowExecution.NoteStepStarted(
                                attempt.runId(), seq, name, attemptNo, startedAt)));
    try {
      value = attempt.tracing().step(attempt.data(), name, attemptNo, body);
    } catch (Suspend | Abandon e) {
      throw e;
    } catch (Throwable t) {
      currentStep = null;
      note.done();
      boolean again = policy.retries(attemptNo, t);
      Instant retryAt =
          again
              ? attempt
                  .deps()
                  .clock()
                  .instant()
                  .plus(policy.backoffAfter(attemptNo, attempt.deps().random().nextDouble()))
              : null;
      Directive failed =
          ask(
              r ->
                  new WorkflowExecution.FailStep(
                      attempt.runId(), seq, name, attemptNo, startedAt, describe(t), retryAt, r));
      if (failed instanceof Halt h) throw suspend(h);
      if (!again) throw new StepFailedException(name, describe(t));
      // The backoff is a durable timer: unwind, and the entity relaunches at retryAt.
      throw suspend(new Halt("retrying at " + retryAt));
    } finally {
      currentStep = null;
      note.done();
    }
    JsonNode json =
        value == null ? NullNode.getInstance() : attempt.deps().mapper().valueToTree(value);
    pending = new WorkflowExecution.Completion(seq, name, attemptNo, startedAt, json);
    return convert(json, resultType);
  }

  @Override
  public void sleep(String name, Duration duration) {
    timer("sleep '" + name + "'", duration, false);
    int seq = next(name, OpKind.SLEEP);
    Op op = seq < recorded.size() ? recorded.get(seq) : null;
    if (op != null) {
      if (op.status() == WorkflowExecution.OpStatus.FIRED) return;
      throw suspend(new Halt("sleeping"));
    }
    WorkflowExecution.Completion carried = takePending();
    Directive d =
        ask(
            r ->
                new WorkflowExecution.StartTimer(
                    attempt.runId(), carried, seq, name, duration.toMillis(), r));
    throw suspend(d);
  }

  @Override
  public <T> T awaitSignal(String name, Class<T> payloadType, Duration timeout) {
    timer("awaitSignal '" + name + "' timeout", timeout, true);
    int seq = next(name, OpKind.SIGNAL);
    Op op = seq < recorded.size() ? recorded.get(seq) : null;
    if (op != null) {
      switch (op.status()) {
        case RECEIVED:
          return convert(op.output(), payloadType);
        case TIMED_OUT:
          throw new SignalTimeoutException(name, timeout);
        default:
          throw suspend(new Halt("waiting"));
      }
    }
    WorkflowExecution.Completion carried = takePending();
    Directive d =
        ask(
            r ->
                new WorkflowExecution.AwaitSignal(
                    attempt.runId(), carried, seq, name, timeout.toMillis(), r));
    if (d instanceof Deliver deliver) return convert(deliver.payload(), payloadType);
    throw suspend(d);
  }

  // ---------------------------------------------------------------- plumbing

  /**
   * Refuses a timer the entity could not compute a deadline for ({@code now + duration} in
   * milliseconds overflows long before {@code PT9223372036854775807S}), with a message that names
   * the call and no Java class: it becomes the execution's error.
   */
  private static void timer(String call, Duration duration, boolean positive) {
    try {
      Durations.check(duration, Durations.MAX_TIMER, positive);
    } catch (InvalidValueException e) {
      throw new InvalidValueException(call + " " + e.getMessage());
    }
  }

  /** Claims the next position for a call, checking it against what the journal recorded there. */
  private int next(String name, OpKind kind) {
    if (suspended) throw new Suspend("already suspended");
    if (currentStep != null) {
      throw new IllegalStateException(
          "'" + name + "' is called inside step '" + currentStep + "': steps do not nest");
    }
    if (name == null || name.isBlank())
      throw new IllegalArgumentException("a " + kind.name().toLowerCase() + " needs a name");
    if (!namesSeen.add(name)) {
      throw new IllegalArgumentException(
          "the name '"
              + name
              + "' is used twice in one execution; names identify calls and must be unique");
    }
    int seq = position++;
    if (seq < recorded.size()) {
      Op op = recorded.get(seq);
      if (op.kind() != kind || !op.name().equals(name)) {
        throw new ReplayDivergedError(
            "replay diverged at position "
                + seq
                + ": the journal has "
                + op.kind().name().toLowerCase()
                + " '"
                + op.name()
                + "' but the code now asks for "
                + kind.name().toLowerCase()
                + " '"
                + name
                + "' (code outside steps must be deterministic)");
      }
    }
    return seq;
  }

  private WorkflowExecution.Completion takePending() {
    WorkflowExecution.Completion c = pending;
    pending = null;
    return c;
  }

  private Suspend suspend(Directive why) {
    suspended = true;
    return new Suspend(why instanceof Halt h ? h.why() : String.valueOf(why));
  }

  private Directive ask(Function<ActorRef<Directive>, Command> message) {
    Duration timeout = attempt.deps().settings().stepAckTimeout();
    try {
      return AskPattern.<Command, Directive>ask(
              attempt.entity(), message::apply, timeout, attempt.deps().scheduler())
          .toCompletableFuture()
          .get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Abandon("interrupted");
    } catch (ExecutionException | TimeoutException e) {
      throw new Abandon("the execution entity did not acknowledge within " + timeout);
    }
  }

  private <T> T convert(JsonNode json, Class<T> type) {
    if (json == null || json.isNull()) return null;
    try {
      return attempt.deps().mapper().treeToValue(json, type);
    } catch (Exception e) {
      throw new IllegalStateException(
          "recorded result cannot be read as " + type.getSimpleName() + ": " + e.getMessage(), e);
    }
  }
}
