package dev.keel.workflow.execution;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import dev.keel.persistence.grammar.Durations;
import dev.keel.persistence.grammar.InvalidValueException;
import dev.keel.workflow.execution.AttemptProtocol.Attempt;
import dev.keel.workflow.execution.AttemptProtocol.AttemptFinished;
import dev.keel.workflow.execution.AttemptProtocol.AwaitSignal;
import dev.keel.workflow.execution.AttemptProtocol.Completion;
import dev.keel.workflow.execution.AttemptProtocol.Deliver;
import dev.keel.workflow.execution.AttemptProtocol.Directive;
import dev.keel.workflow.execution.AttemptProtocol.FailStep;
import dev.keel.workflow.execution.AttemptProtocol.Halt;
import dev.keel.workflow.execution.AttemptProtocol.NoteStepStarted;
import dev.keel.workflow.execution.AttemptProtocol.Outcome;
import dev.keel.workflow.execution.AttemptProtocol.Proceed;
import dev.keel.workflow.execution.AttemptProtocol.RecordStep;
import dev.keel.workflow.execution.AttemptProtocol.StartTimer;
import dev.keel.workflow.execution.AttemptProtocol.ToEntity;
import dev.keel.workflow.execution.RecordedCall.SignalWait;
import dev.keel.workflow.execution.RecordedCall.Step;
import dev.keel.workflow.execution.RecordedCall.StepRetry;
import dev.keel.workflow.execution.RecordedCall.Timer;
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
 * One attempt at running a workflow: replays the {@link RecordedCall}s and records each new call
 * through the execution entity before going on ({@link AttemptProtocol}). Runs on the {@link
 * WorkflowRunner}'s pool.
 *
 * <p>An attempt ends when the workflow returns or throws (the entity records completion or
 * failure), or when it reaches a call that must wait — a timer, a signal, a retry backoff, a pause,
 * a cancel — or the entity stops answering. Then the attempt notes why it stops ({@link Outcome})
 * and unwinds the workflow's stack with {@link Unwind}; the entity relaunches it when the wait is
 * over. Replay from the top is cheap: recorded calls return their journaled results at once.
 */
final class ReplayingContext implements WorkflowContext {

  private static final Logger log = LoggerFactory.getLogger(ReplayingContext.class);

  /**
   * Unwinds the workflow's stack when the attempt stops at a boundary. The SDK's calls return
   * values, so only a throwable can leave plug-in code; an {@code Error}, so that workflows
   * catching {@code Exception} do not swallow it. Why the attempt stops is {@link #stop}, not this.
   */
  static final class Unwind extends Error {
    Unwind(String why) {
      super(why, null, false, false);
    }
  }

  private final Attempt attempt;
  private final List<RecordedCall> recorded;
  private final Set<String> namesSeen = new HashSet<>();
  private int position;
  private String currentStep;

  /** The last step's result, not yet journaled: it rides on the next command (see Completion). */
  private Completion pending;

  /** Why this attempt stopped before the workflow's end, once it has: suspended or abandoned. */
  private Outcome stop;

  private ReplayingContext(Attempt attempt) {
    this.attempt = attempt;
    this.recorded = attempt.data().ops();
  }

  static void run(Attempt a) {
    // Read by the entity's view (queued or not), without a message.
    a.gate().markStarted();
    ReplayingContext ctx = new ReplayingContext(a);
    Outcome outcome = ctx.runWorkflow();
    if (outcome instanceof Outcome.Abandoned abandoned) {
      // Told (if the entity hears it) so that it may relaunch; otherwise it waits for this attempt.
      log.warn("workflow attempt abandoned id={} reason={}", a.data().id(), abandoned.why());
      a.entity().tell(new AttemptFinished(a.runId(), null, outcome));
    } else {
      a.entity().tell(new AttemptFinished(a.runId(), ctx.takePending(), outcome));
    }
  }

  /**
   * Runs the workflow to its end or to the call where it stops. A stop wins over what the workflow
   * did after it (caught the unwinding, then threw something else or returned).
   */
  private Outcome runWorkflow() {
    WorkflowDeps deps = attempt.deps();
    try {
      Workflow<?, ?> workflow =
          deps.registry()
              .find(attempt.data().workflow())
              .orElseThrow(
                  () ->
                      new IllegalStateException(
                          "workflow '"
                              + attempt.data().workflow()
                              + "' is not registered on this node"));
      Object result = runTyped(workflow, this, attempt.data().input(), deps);
      if (stop != null) return stop;
      return new Outcome.Returned(
          result == null ? NullNode.getInstance() : deps.mapper().valueToTree(result));
    } catch (Throwable t) {
      return stop != null ? stop : new Outcome.Threw(describe(t));
    }
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
      RecordedCall call = recorded.get(position);
      // Recorded before the change: the old code's branch, and the position stays that call's.
      if (!(call instanceof Step) || !call.name().equals(name)) return min;
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
    int seq = next(name, CallKind.STEP);
    Step op = seq < recorded.size() ? (Step) recorded.get(seq) : null;
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
    Completion carried = takePending();
    if (carried != null) {
      Directive recorded = ask(r -> new RecordStep(attempt.runId(), carried, r));
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
                            new NoteStepStarted(attempt.runId(), seq, name, attemptNo, startedAt)));
    try {
      value = attempt.tracing().step(attempt.data(), name, attemptNo, body);
    } catch (Unwind e) {
      throw e;
    } catch (Throwable t) {
      currentStep = null;
      note.done();
      StepRetry next =
          policy.retries(attemptNo, t)
              ? new StepRetry.At(
                  attempt
                      .deps()
                      .clock()
                      .instant()
                      .plus(policy.backoffAfter(attemptNo, attempt.deps().random().nextDouble())))
              : new StepRetry.Never();
      Directive failed =
          ask(
              r ->
                  new FailStep(
                      attempt.runId(), seq, name, attemptNo, startedAt, describe(t), next, r));
      if (failed instanceof Halt h) throw suspend(h);
      if (next instanceof StepRetry.At at) {
        // The backoff is a durable timer: unwind, and the entity relaunches at its time.
        throw suspend(new Halt("retrying at " + at.at()));
      }
      throw new StepFailedException(name, describe(t));
    } finally {
      currentStep = null;
      note.done();
    }
    JsonNode json =
        value == null ? NullNode.getInstance() : attempt.deps().mapper().valueToTree(value);
    pending = new Completion(seq, name, attemptNo, startedAt, json);
    return convert(json, resultType);
  }

  @Override
  public void sleep(String name, Duration duration) {
    timer("sleep '" + name + "'", duration, false);
    int seq = next(name, CallKind.SLEEP);
    if (seq < recorded.size()) {
      if (((Timer) recorded.get(seq)).status() == RecordedCall.TimerStatus.FIRED) return;
      throw suspend(new Halt("sleeping"));
    }
    Completion carried = takePending();
    Directive d =
        ask(r -> new StartTimer(attempt.runId(), carried, seq, name, duration.toMillis(), r));
    throw suspend(d);
  }

  @Override
  public <T> T awaitSignal(String name, Class<T> payloadType, Duration timeout) {
    timer("awaitSignal '" + name + "' timeout", timeout, true);
    int seq = next(name, CallKind.SIGNAL);
    if (seq < recorded.size()) {
      SignalWait wait = (SignalWait) recorded.get(seq);
      switch (wait.status()) {
        case RECEIVED:
          return convert(wait.payload(), payloadType);
        case TIMED_OUT:
          throw new SignalTimeoutException(name, timeout);
        default:
          throw suspend(new Halt("waiting"));
      }
    }
    Completion carried = takePending();
    Directive d =
        ask(r -> new AwaitSignal(attempt.runId(), carried, seq, name, timeout.toMillis(), r));
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

  /** The kinds of call, as divergence errors name them. */
  private enum CallKind {
    STEP(Step.class),
    SLEEP(Timer.class),
    SIGNAL(SignalWait.class);

    final Class<? extends RecordedCall> type;

    CallKind(Class<? extends RecordedCall> type) {
      this.type = type;
    }

    static CallKind of(RecordedCall call) {
      return call instanceof Step ? STEP : call instanceof Timer ? SLEEP : SIGNAL;
    }

    String named() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** Claims the next position for a call, checking it against what the journal recorded there. */
  private int next(String name, CallKind kind) {
    if (stop != null) throw new Unwind("already stopped");
    if (currentStep != null) {
      throw new IllegalStateException(
          "'" + name + "' is called inside step '" + currentStep + "': steps do not nest");
    }
    if (name == null || name.isBlank())
      throw new IllegalArgumentException("a " + kind.named() + " needs a name");
    if (!namesSeen.add(name)) {
      throw new IllegalArgumentException(
          "the name '"
              + name
              + "' is used twice in one execution; names identify calls and must be unique");
    }
    int seq = position++;
    if (seq < recorded.size()) {
      RecordedCall call = recorded.get(seq);
      if (!kind.type.isInstance(call) || !call.name().equals(name)) {
        throw new ReplayDivergedError(
            "replay diverged at position "
                + seq
                + ": the journal has "
                + CallKind.of(call).named()
                + " '"
                + call.name()
                + "' but the code now asks for "
                + kind.named()
                + " '"
                + name
                + "' (code outside steps must be deterministic)");
      }
    }
    return seq;
  }

  private Completion takePending() {
    Completion c = pending;
    pending = null;
    return c;
  }

  /** The attempt stops here (suspended): the entity's answer says why. */
  private Unwind suspend(Directive why) {
    stop = new Outcome.Suspended();
    return new Unwind(why instanceof Halt h ? h.why() : String.valueOf(why));
  }

  /** The attempt stops here (abandoned): the entity did not answer. */
  private Unwind abandon(String why) {
    stop = new Outcome.Abandoned(why);
    return new Unwind(why);
  }

  private Directive ask(Function<ActorRef<Directive>, ToEntity> message) {
    Duration timeout = attempt.deps().settings().stepAckTimeout();
    try {
      return AskPattern.<ToEntity, Directive>ask(
              attempt.entity(), message::apply, timeout, attempt.deps().scheduler())
          .toCompletableFuture()
          .get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw abandon("interrupted");
    } catch (ExecutionException | TimeoutException e) {
      throw abandon("the execution entity did not acknowledge within " + timeout);
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
