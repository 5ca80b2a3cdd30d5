package dev.keel.workflow.execution;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.persistence.EntityKind;
import dev.keel.persistence.EntityPlace;
import dev.keel.persistence.EntityRuntime;
import dev.keel.persistence.EntitySnapshots;
import dev.keel.persistence.KeelSerializable;
import dev.keel.persistence.Rejection;
import dev.keel.persistence.RequestScope;
import dev.keel.persistence.SnapshottedEntity;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReplyBuilder;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One workflow execution: the single writer of its journal, which is the memo of its steps.
 *
 * <p>The entity never runs workflow code itself. When the execution is runnable it hands an attempt
 * to the node's {@link WorkflowRunner}; the attempt replays the workflow against the recorded
 * {@link Op}s and asks this entity to record each new step, timer or signal wait before it goes on
 * (see {@link ReplayingContext}). Only the current attempt (by {@code runId}) may record; a stale
 * one is told to halt. Sleeping, waiting and paused executions passivate after a while; the due
 * wake-up index ({@code keel_workflow_wakeups}, fed by the projection) brings them back.
 */
public final class WorkflowExecution
    extends SnapshottedEntity<
        WorkflowExecution.Command, WorkflowExecution.Event, WorkflowExecution.State> {

  public static final EntityTypeKey<Command> ENTITY_KEY =
      EntityTypeKey.create(Command.class, "workflow");

  /** Entity type name in persistence ids and tags; never changes. */
  public static final String ENTITY_TYPE = "workflow";

  private static final Logger log = LoggerFactory.getLogger(WorkflowExecution.class);

  // ---------------------------------------------------------------- commands

  public sealed interface Command extends KeelSerializable {}

  /** {@code command}, sent on behalf of request {@code requestId} (see {@link RequestScope}). */
  public record Traced(
      String requestId,
      @JsonInclude(JsonInclude.Include.NON_NULL) String traceParent,
      @JsonTypeInfo(use = JsonTypeInfo.Id.CLASS) Command command)
      implements Command, RequestScope.Traced<Command> {}

  /** Snapshot now (POST /api/v1/admin/snapshots); answered once the snapshot is stored. */
  public record SaveSnapshot(ActorRef<StatusReply<Done>> replyTo) implements Command {}

  /** Start this execution; idempotent for the same workflow, input and tenant. */
  /**
   * Start this execution; idempotent for the same workflow, input and tenant. A start that reaches
   * the entity after {@code deadline} (its asker has given up and answered 503) writes nothing, so
   * a client that was told "unavailable" never finds an execution it does not know of.
   */
  public record Start(
      String workflow,
      int version,
      JsonNode input,
      String tenantId,
      Instant deadline,
      ActorRef<StatusReply<StartAccepted>> replyTo)
      implements Command {}

  public record Get(ActorRef<StatusReply<ExecutionView>> replyTo) implements Command {}

  /** Answers once the execution is final (long poll); the asker's timeout bounds the wait. */
  public record AwaitFinal(ActorRef<StatusReply<ExecutionView>> replyTo) implements Command {}

  public record Cancel(String reason, ActorRef<StatusReply<ExecutionView>> replyTo)
      implements Command {}

  public record Pause(ActorRef<StatusReply<ExecutionView>> replyTo) implements Command {}

  public record Resume(ActorRef<StatusReply<ExecutionView>> replyTo) implements Command {}

  public record SendSignal(String name, JsonNode payload, ActorRef<StatusReply<Done>> replyTo)
      implements Command {}

  /**
   * Back to running from the call that failed or was cancelled (POST .../retry); see {@link
   * ExecutionRecovery}.
   */
  public record Retry(String reason, ActorRef<StatusReply<ExecutionView>> replyTo)
      implements Command {}

  /** What a rerun from step {@code fromStep} copies (POST .../rerun); writes nothing. */
  public record PrepareRerun(
      String fromStep, ActorRef<StatusReply<ExecutionRecovery.RerunSource>> replyTo)
      implements Command {}

  /** Records that execution {@code rerunId} reruns this one; idempotent. */
  public record LinkRerun(String rerunId, String fromStep, ActorRef<StatusReply<Done>> replyTo)
      implements Command {}

  /** Starts this execution as a rerun of {@code rerunOf} with its calls before the step copied. */
  public record StartRerun(
      String workflow,
      int version,
      JsonNode input,
      String tenantId,
      String rerunOf,
      String fromStep,
      List<CopiedOp> copied,
      Instant deadline,
      ActorRef<StatusReply<StartAccepted>> replyTo)
      implements Command {}

  /** From the wake-up index or a local timer: something may be due. */
  public enum Wake implements Command {
    INSTANCE
  }

  /** Local: nothing to do for a while, passivate unless work came in. */
  enum Idle implements Command {
    INSTANCE
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
      implements Command {}

  /**
   * A step body has been running for a while: journal its start now, so that the execution shows it
   * running (and a crash counts it as an attempt), instead of with its outcome.
   */
  public record NoteStepStarted(long runId, int seq, String name, int attempt, Instant startedAt)
      implements Command {}

  /** A step attempt failed; {@code retryAt} null means the step failed for good. */
  public record FailStep(
      long runId,
      int seq,
      String name,
      int attempt,
      Instant startedAt,
      String error,
      Instant retryAt,
      ActorRef<Directive> replyTo)
      implements Command {}

  public record StartTimer(
      long runId,
      Completion completed,
      int seq,
      String name,
      long durationMillis,
      ActorRef<Directive> replyTo)
      implements Command {}

  public record AwaitSignal(
      long runId,
      Completion completed,
      int seq,
      String name,
      long timeoutMillis,
      ActorRef<Directive> replyTo)
      implements Command {}

  /** The attempt ended: completed with output, failed with error, or suspended (neither set). */
  public record AttemptFinished(
      long runId, Completion completed, Outcome outcome, JsonNode output, String error)
      implements Command {}

  public enum Outcome {
    COMPLETED,
    FAILED,
    SUSPENDED,
    ABANDONED
  }

  // ---------------------------------------------------------------- replies

  /** What the entity tells the running attempt. */
  public sealed interface Directive extends KeelSerializable {}

  public record Proceed(int attempt) implements Directive {}

  public record Deliver(JsonNode payload) implements Directive {}

  /** Stop at this boundary: paused, cancelled, suspended or superseded. */
  public record Halt(String why) implements Directive {}

  public record StartAccepted(boolean created, ExecutionView execution)
      implements KeelSerializable {}

  // ---------------------------------------------------------------- events

  public sealed interface Event extends KeelSerializable {
    Instant at();
  }

  /** Marks a snapshot taken on demand; changes nothing. */
  public record SnapshotRequested(Instant at) implements Event, EntitySnapshots.Request {}

  /**
   * {@code traceParent}: the span the execution was started in (a W3C traceparent), under which its
   * steps, timers and signal waits are traced on whichever node runs them; absent with traces off,
   * and from events written before traces existed.
   */
  public record WorkflowStarted(
      String workflowId,
      String workflow,
      int version,
      String tenantId,
      JsonNode input,
      Instant at,
      @JsonInclude(JsonInclude.Include.NON_NULL) String traceParent)
      implements Event {
    public WorkflowStarted {
      input = nonNull(input);
    }

    public WorkflowStarted(
        String workflowId,
        String workflow,
        int version,
        String tenantId,
        JsonNode input,
        Instant at) {
      this(workflowId, workflow, version, tenantId, input, at, null);
    }
  }

  public record StepStarted(int seq, String name, int attempt, Instant at) implements Event {}

  public record StepCompleted(int seq, String name, JsonNode output, Instant at) implements Event {
    public StepCompleted {
      output = nonNull(output);
    }
  }

  public record StepFailed(
      int seq, String name, int attempt, String error, Instant retryAt, Instant at)
      implements Event {}

  public record TimerStarted(int seq, String name, Instant wakeAt, Instant at) implements Event {}

  public record TimerFired(int seq, String name, Instant at) implements Event {}

  public record SignalAwaited(int seq, String name, Instant timeoutAt, Instant at)
      implements Event {}

  /**
   * A signal arrived; {@code deliveredTo} is the waiting call's seq, or null when it is kept for
   * later.
   */
  public record SignalReceived(String name, JsonNode payload, Integer deliveredTo, Instant at)
      implements Event {
    public SignalReceived {
      payload = nonNull(payload);
    }
  }

  /** A kept signal was handed to the call at {@code seq} that asked for it. */
  public record SignalConsumed(int seq, String name, JsonNode payload, Instant at)
      implements Event {
    public SignalConsumed {
      payload = nonNull(payload);
    }
  }

  public record SignalTimedOut(int seq, String name, Instant at) implements Event {}

  public record WorkflowPaused(Instant at) implements Event {}

  public record WorkflowResumed(Instant at) implements Event {}

  public record WorkflowCompleted(JsonNode output, Instant at) implements Event {
    public WorkflowCompleted {
      output = nonNull(output);
    }
  }

  public record WorkflowFailed(String error, Instant at) implements Event {}

  public record WorkflowCancelled(String reason, Instant at) implements Event {}

  /**
   * A failed or cancelled execution runs again: the calls from {@code fromSeq} on are forgotten
   * (run again), the ones before keep their recorded results.
   */
  public record WorkflowRetried(int fromSeq, String reason, Instant at) implements Event {}

  /** One recorded call copied from the execution a rerun reruns. */
  public record CopiedOp(
      int seq,
      OpKind kind,
      String name,
      OpStatus status,
      int attempts,
      JsonNode output,
      String error,
      Instant startedAt,
      Instant completedAt) {
    public CopiedOp {
      output = nonNull(output);
    }
  }

  /**
   * Written with {@link WorkflowStarted} by a rerun: the calls before {@code fromStep}, copied from
   * {@code rerunOf} (not run).
   */
  public record StepsCopied(String rerunOf, String fromStep, List<CopiedOp> ops, Instant at)
      implements Event {
    public StepsCopied {
      ops = List.copyOf(ops);
    }
  }

  /** Execution {@code rerunId} was started as a rerun of this one from {@code fromStep}. */
  public record RerunStarted(String rerunId, String fromStep, Instant at) implements Event {}

  // ---------------------------------------------------------------- state

  public enum OpKind {
    STEP,
    SLEEP,
    SIGNAL
  }

  /**
   * {@code CANCELLED}: the execution was cancelled while this call ran, retried, slept or waited.
   */
  public enum OpStatus {
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

  /** One recorded call of the workflow code, at its position {@code seq}. */
  public record Op(
      int seq,
      OpKind kind,
      String name,
      OpStatus status,
      int attempts,
      JsonNode output,
      String error,
      Instant startedAt,
      Instant completedAt,
      Instant dueAt) {

    public Op {
      output = nonNull(output);
    }

    Op with(
        OpStatus newStatus,
        int newAttempts,
        JsonNode newOutput,
        String newError,
        Instant newCompletedAt,
        Instant newDueAt) {
      return new Op(
          seq,
          kind,
          name,
          newStatus,
          newAttempts,
          newOutput,
          newError,
          startedAt,
          newCompletedAt,
          newDueAt);
    }

    /** Whether the execution is parked on this op until {@link #dueAt} (or a signal). */
    boolean suspends() {
      return status == OpStatus.SLEEPING
          || status == OpStatus.WAITING
          || status == OpStatus.RETRYING;
    }
  }

  /** What every started execution has, whatever its lifecycle state. */
  public record ExecutionData(
      String id,
      String workflow,
      int version,
      String tenantId,
      JsonNode input,
      Instant createdAt,
      Instant updatedAt,
      List<Op> ops,
      Map<String, List<JsonNode>> pendingSignals,
      boolean paused,
      ExecutionRecovery.Lineage lineage,
      @JsonInclude(JsonInclude.Include.NON_NULL) String traceParent) {

    public ExecutionData {
      input = nonNull(input);
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
        List<Op> ops,
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

    public ExecutionData(
        String id,
        String workflow,
        int version,
        String tenantId,
        JsonNode input,
        Instant createdAt,
        Instant updatedAt,
        List<Op> ops,
        Map<String, List<JsonNode>> pendingSignals,
        boolean paused) {
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
          ExecutionRecovery.Lineage.NONE);
    }

    Optional<Op> suspension() {
      if (ops.isEmpty()) return Optional.empty();
      Op last = ops.get(ops.size() - 1);
      return last.suspends() ? Optional.of(last) : Optional.empty();
    }

    ExecutionData withOp(Op op, Instant at) {
      List<Op> next = new ArrayList<>(ops);
      if (op.seq() < next.size()) next.set(op.seq(), op);
      else next.add(op);
      return new ExecutionData(
          id,
          workflow,
          version,
          tenantId,
          input,
          createdAt,
          at,
          next,
          pendingSignals,
          paused,
          lineage,
          traceParent);
    }

    ExecutionData withPending(Map<String, List<JsonNode>> pending, Instant at) {
      return new ExecutionData(
          id,
          workflow,
          version,
          tenantId,
          input,
          createdAt,
          at,
          ops,
          pending,
          paused,
          lineage,
          traceParent);
    }

    ExecutionData withPaused(boolean p, Instant at) {
      return new ExecutionData(
          id,
          workflow,
          version,
          tenantId,
          input,
          createdAt,
          at,
          ops,
          pendingSignals,
          p,
          lineage,
          traceParent);
    }

    /**
     * Every call still open (running, retrying, sleeping, waiting) ends as cancelled at {@code at}.
     */
    ExecutionData withOpenOpsCancelled(Instant at) {
      List<Op> closed =
          ops.stream()
              .map(
                  op ->
                      op.status() == OpStatus.RUNNING || op.suspends()
                          ? op.with(
                              OpStatus.CANCELLED, op.attempts(), op.output(), op.error(), at, null)
                          : op)
              .toList();
      return new ExecutionData(
          id,
          workflow,
          version,
          tenantId,
          input,
          createdAt,
          at,
          closed,
          pendingSignals,
          false,
          lineage,
          traceParent);
    }

    ExecutionData touched(Instant at) {
      return new ExecutionData(
          id,
          workflow,
          version,
          tenantId,
          input,
          createdAt,
          at,
          ops,
          pendingSignals,
          paused,
          lineage,
          traceParent);
    }

    boolean sameStart(String otherWorkflow, JsonNode otherInput, String otherTenant) {
      return workflow.equals(otherWorkflow)
          && Objects.equals(input, otherInput)
          && Objects.equals(tenantId, otherTenant);
    }
  }

  /** The lifecycle is the state type. */
  public sealed interface State extends KeelSerializable {}

  public record NotStarted() implements State {}

  public record Running(ExecutionData data) implements State {}

  public record Completed(ExecutionData data, JsonNode output, Instant completedAt)
      implements State {
    public Completed {
      output = nonNull(output);
    }
  }

  public record Failed(ExecutionData data, String error, Instant completedAt) implements State {}

  public record Cancelled(ExecutionData data, String reason, Instant completedAt)
      implements State {}

  // ---------------------------------------------------------------- wiring

  public static void init(ActorSystem<?> system, WorkflowDeps deps) {
    // Running executions come back on a surviving node when theirs dies.
    EntityRuntime.start(
        system, KIND, EntityRuntime.Remembered.YES, place -> new WorkflowExecution(place, deps));
  }

  /** How audit replays executions: this entity's own handler and view. */
  public static final dev.keel.persistence.EntityAudit<State, Event> AUDIT =
      new dev.keel.persistence.EntityAudit<>(
          ENTITY_TYPE,
          Event.class,
          new NotStarted(),
          WorkflowExecution::apply,
          (id, s) ->
              s instanceof NotStarted
                  ? java.util.Optional.empty()
                  : java.util.Optional.of(ExecutionView.of(s, false)));

  /** This entity type as the node declares it: sharding key, audit, snapshots on demand. */
  public static final EntityKind<Command> KIND =
      new EntityKind<>(ENTITY_KEY, AUDIT, SaveSnapshot::new);

  public static PersistenceId persistenceId(String workflowId) {
    return PersistenceId.of(ENTITY_TYPE, workflowId);
  }

  public static Behavior<Command> create(String workflowId, WorkflowDeps deps) {
    return EntityRuntime.unsharded(workflowId, place -> new WorkflowExecution(place, deps));
  }

  // ---------------------------------------------------------------- runtime (not journaled)

  private final String workflowId;
  private final WorkflowDeps deps;
  private final Clock clock;
  private final WorkflowTracing tracing;

  /** The attempt allowed to record, 0 when none runs. */
  private long activeRunId;

  private long runCounter;

  /**
   * The running attempt's gate (a closed one when none runs): see {@link ReplayingContext.Gate}.
   */
  private ReplayingContext.Gate gate = new ReplayingContext.Gate();

  private final List<ActorRef<StatusReply<ExecutionView>>> finalWatchers = new ArrayList<>();

  private WorkflowExecution(EntityPlace<Command> place, WorkflowDeps deps) {
    super(place, ENTITY_TYPE, persistenceId(place.entityId()));
    this.workflowId = place.entityId();
    this.deps = deps;
    this.clock = deps.clock();
    this.tracing = WorkflowTracing.of(place.context().getSystem());
  }

  @Override
  public State emptyState() {
    return new NotStarted();
  }

  /**
   * Only events that change what the read side shows or when the execution is due get a tag: a
   * plain step is two untagged events, which keeps the hot path to the journal alone.
   */
  @Override
  protected boolean readSideRelevant(Event event) {
    if (event instanceof StepStarted s) return s.attempt() > 1;
    if (event instanceof StepFailed s) return s.retryAt() != null;
    if (event instanceof SignalReceived s) return s.deliveredTo() != null;
    return !(event instanceof StepCompleted || event instanceof SignalConsumed);
  }

  @Override
  protected void onRecovered(State state) {
    if (state instanceof Running running) {
      afterChange(running.data());
    } else {
      scheduleIdle();
    }
  }

  // ---------------------------------------------------------------- command handlers

  @Override
  protected CommandHandlerWithReply<Command, Event, State> commands() {
    CommandHandlerWithReplyBuilder<Command, Event, State> b = newCommandHandlerWithReplyBuilder();

    b.forStateType(NotStarted.class)
        .onCommand(Start.class, this::start)
        .onCommand(Get.class, (s, c) -> notFound(c.replyTo()))
        .onCommand(AwaitFinal.class, (s, c) -> notFound(c.replyTo()))
        .onCommand(Cancel.class, (s, c) -> notFound(c.replyTo()))
        .onCommand(Pause.class, (s, c) -> notFound(c.replyTo()))
        .onCommand(Resume.class, (s, c) -> notFound(c.replyTo()))
        .onCommand(Retry.class, (s, c) -> notFound(c.replyTo()))
        .onCommand(StartRerun.class, this::startRerun)
        .onCommand(
            PrepareRerun.class,
            (s, c) -> {
              scheduleIdle();
              return Effect().reply(c.replyTo(), Rejection.notFound(doesNotExist(workflowId)));
            })
        .onCommand(
            LinkRerun.class,
            (s, c) -> {
              scheduleIdle();
              return Effect().reply(c.replyTo(), Rejection.notFound(doesNotExist(workflowId)));
            })
        .onCommand(
            SendSignal.class,
            (s, c) -> {
              scheduleIdle();
              return Effect().reply(c.replyTo(), Rejection.notFound(doesNotExist(workflowId)));
            });

    b.forStateType(Running.class)
        .onCommand(Start.class, this::restart)
        .onCommand(Get.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.success(view(s))))
        .onCommand(
            AwaitFinal.class,
            (s, c) -> {
              finalWatchers.add(c.replyTo());
              return Effect().noReply();
            })
        .onCommand(Cancel.class, this::cancel)
        .onCommand(Pause.class, this::pause)
        .onCommand(Resume.class, this::resume)
        .onCommand(SendSignal.class, this::signal)
        .onCommand(Wake.class, this::wake)
        .onCommand(RecordStep.class, this::recordStep)
        .onCommand(NoteStepStarted.class, this::noteStepStarted)
        .onCommand(FailStep.class, this::failStep)
        .onCommand(StartTimer.class, this::startTimer)
        .onCommand(AwaitSignal.class, this::awaitSignal)
        .onCommand(AttemptFinished.class, this::attemptFinished)
        .onCommand(Idle.class, (s, c) -> idleInRunning(s));

    b.forStateType(Failed.class).onCommand(Retry.class, this::retry);
    b.forStateType(Cancelled.class).onCommand(Retry.class, this::retry);

    // Started in any state: reruns read it and link to it.
    b.forAnyState()
        .onCommand(
            PrepareRerun.class,
            (s, c) -> Effect().reply(c.replyTo(), ExecutionRecovery.rerunSource(s, c.fromStep())))
        .onCommand(LinkRerun.class, this::linkRerun)
        .onCommand(StartRerun.class, this::restartRerun)
        .onCommand(
            Retry.class,
            (s, c) ->
                Effect()
                    .reply(
                        c.replyTo(),
                        Rejection.conflict(
                            "workflow '"
                                + workflowId
                                + "' is "
                                + statusOf(s)
                                + "; only a failed or cancelled execution can be retried")));

    // Completed, Failed, Cancelled: the record stays readable; everything else is a conflict.
    b.forAnyState()
        .onCommand(Start.class, this::restart)
        .onCommand(Get.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.success(view(s))))
        .onCommand(
            AwaitFinal.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.success(view(s))))
        .onCommand(Cancel.class, (s, c) -> Effect().reply(c.replyTo(), alreadyFinished(s)))
        .onCommand(Pause.class, (s, c) -> Effect().reply(c.replyTo(), alreadyFinished(s)))
        .onCommand(Resume.class, (s, c) -> Effect().reply(c.replyTo(), alreadyFinished(s)))
        .onCommand(SendSignal.class, (s, c) -> Effect().reply(c.replyTo(), alreadyFinished(s)))
        .onCommand(
            RecordStep.class,
            (s, c) -> Effect().reply(c.replyTo(), new Halt("execution is " + statusOf(s))))
        .onCommand(NoteStepStarted.class, (s, c) -> Effect().noReply())
        .onCommand(
            FailStep.class,
            (s, c) -> Effect().reply(c.replyTo(), new Halt("execution is " + statusOf(s))))
        .onCommand(
            StartTimer.class,
            (s, c) -> Effect().reply(c.replyTo(), new Halt("execution is " + statusOf(s))))
        .onCommand(
            AwaitSignal.class,
            (s, c) -> Effect().reply(c.replyTo(), new Halt("execution is " + statusOf(s))))
        .onCommand(
            AttemptFinished.class,
            (s, c) -> {
              if (c.runId() == activeRunId) activeRunId = 0;
              return Effect().noReply();
            })
        .onCommand(
            Wake.class,
            (s, c) -> {
              scheduleIdle();
              return Effect().noReply();
            })
        .onCommand(
            Idle.class,
            (s, c) -> {
              passivateIfIdle();
              return Effect().noReply();
            });

    b.forAnyState()
        .onCommand(
            SaveSnapshot.class,
            (s, c) ->
                saveSnapshot(
                    !(s instanceof NotStarted),
                    new SnapshotRequested(clock.instant()),
                    c.replyTo()));
    return b.build();
  }

  private ReplyEffect<Event, State> notFound(ActorRef<StatusReply<ExecutionView>> replyTo) {
    scheduleIdle();
    return Effect().reply(replyTo, Rejection.notFound(doesNotExist(workflowId)));
  }

  /** The not-found detail of an execution, also answered by the façade for ids never started. */
  public static String doesNotExist(String workflowId) {
    return "workflow '" + workflowId + "' does not exist";
  }

  private ReplyEffect<Event, State> start(NotStarted state, Start c) {
    if (c.deadline() != null && now().isAfter(c.deadline())) {
      log.warn(
          "workflow start refused id={} reason=arrived after its deadline {}",
          workflowId,
          c.deadline());
      scheduleIdle();
      return Effect()
          .reply(
              c.replyTo(),
              Rejection.unavailable(
                  "the start arrived after its caller gave up; nothing was started"));
    }
    WorkflowStarted event =
        new WorkflowStarted(
            workflowId,
            c.workflow(),
            c.version(),
            c.tenantId(),
            c.input(),
            now(),
            tracing.executionTrace(workflowId, c.workflow()));
    long writeStart = System.nanoTime();
    return Effect()
        .persist(event)
        .thenRun(
            s -> {
              deps.metrics().written(1, writeStart);
              deps.metrics().started();
              log.info(
                  "workflow started id={} workflow={} version={}",
                  workflowId,
                  c.workflow(),
                  c.version());
              afterChange(((Running) s).data());
            })
        .thenReply(c.replyTo(), s -> StatusReply.success(new StartAccepted(true, view(s))));
  }

  private ReplyEffect<Event, State> restart(State state, Start c) {
    ExecutionData data = dataOf(state);
    if (!data.sameStart(c.workflow(), c.input(), c.tenantId())) {
      return Effect()
          .reply(
              c.replyTo(),
              Rejection.conflict(
                  "workflow id '"
                      + workflowId
                      + "' is already used by an execution of '"
                      + data.workflow()
                      + "' with other input"));
    }
    return Effect().reply(c.replyTo(), StatusReply.success(new StartAccepted(false, view(state))));
  }

  private ReplyEffect<Event, State> retry(State s, Retry c) {
    String reason = c.reason() == null || c.reason().isBlank() ? "retried" : c.reason();
    int fromSeq = ExecutionRecovery.retryFrom(s);
    return Effect()
        .persist(new WorkflowRetried(fromSeq, reason, now()))
        .thenRun(
            after -> {
              log.info(
                  "workflow retried id={} fromPosition={} reason={}", workflowId, fromSeq, reason);
              afterChange(((Running) after).data());
            })
        .thenReply(c.replyTo(), after -> StatusReply.success(view(after)));
  }

  private ReplyEffect<Event, State> linkRerun(State s, LinkRerun c) {
    if (dataOf(s).lineage().reruns().contains(c.rerunId()))
      return Effect().reply(c.replyTo(), StatusReply.ack());
    return Effect()
        .persist(new RerunStarted(c.rerunId(), c.fromStep(), now()))
        .thenRun(after -> scheduleIdleUnlessRunning(after))
        .thenReply(c.replyTo(), after -> StatusReply.ack());
  }

  private void scheduleIdleUnlessRunning(State after) {
    if (!(after instanceof Running)) scheduleIdle();
  }

  private ReplyEffect<Event, State> startRerun(NotStarted state, StartRerun c) {
    if (c.deadline() != null && now().isAfter(c.deadline())) {
      scheduleIdle();
      return Effect()
          .reply(
              c.replyTo(),
              Rejection.unavailable(
                  "the rerun arrived after its caller gave up; nothing was started"));
    }
    Instant now = now();
    List<Event> events =
        List.of(
            new WorkflowStarted(
                workflowId,
                c.workflow(),
                c.version(),
                c.tenantId(),
                c.input(),
                now,
                tracing.executionTrace(workflowId, c.workflow())),
            new StepsCopied(c.rerunOf(), c.fromStep(), c.copied(), now));
    return Effect()
        .persist(events)
        .thenRun(
            s -> {
              deps.metrics().started();
              log.info(
                  "workflow rerun started id={} rerunOf={} fromStep={} copied={}",
                  workflowId,
                  c.rerunOf(),
                  c.fromStep(),
                  c.copied().size());
              afterChange(((Running) s).data());
            })
        .thenReply(c.replyTo(), s -> StatusReply.success(new StartAccepted(true, view(s))));
  }

  /**
   * The same rerun asked again answers the execution; anything else already using the id is a
   * conflict.
   */
  private ReplyEffect<Event, State> restartRerun(State state, StartRerun c) {
    ExecutionData data = dataOf(state);
    if (!c.rerunOf().equals(data.lineage().rerunOf()) || !data.workflow().equals(c.workflow())) {
      return Effect()
          .reply(
              c.replyTo(),
              Rejection.conflict("workflow id '" + workflowId + "' is in use; choose another id"));
    }
    return Effect().reply(c.replyTo(), StatusReply.success(new StartAccepted(false, view(state))));
  }

  private ReplyEffect<Event, State> cancel(Running s, Cancel c) {
    String reason = c.reason() == null || c.reason().isBlank() ? "cancelled" : c.reason();
    return Effect()
        .persist(new WorkflowCancelled(reason, now()))
        .thenRun(
            after -> {
              log.info("workflow cancelled id={} reason={}", workflowId, reason);
              deps.metrics().cancelled();
              // A step body in flight finishes; its result is refused at the boundary, and no
              // new body starts.
              activeRunId = 0;
              gate.close("cancelled");
              finished(after);
            })
        .thenReply(c.replyTo(), after -> StatusReply.success(view(after)));
  }

  private ReplyEffect<Event, State> pause(Running s, Pause c) {
    if (s.data().paused()) return Effect().reply(c.replyTo(), StatusReply.success(view(s)));
    return Effect()
        .persist(new WorkflowPaused(now()))
        .thenRun(
            after -> {
              log.info("workflow paused id={}", workflowId);
              gate.close("paused");
              afterChange(((Running) after).data());
            })
        .thenReply(c.replyTo(), after -> StatusReply.success(view(after)));
  }

  private ReplyEffect<Event, State> resume(Running s, Resume c) {
    if (!s.data().paused()) return Effect().reply(c.replyTo(), StatusReply.success(view(s)));
    return Effect()
        .persist(new WorkflowResumed(now()))
        .thenRun(
            after -> {
              log.info("workflow resumed id={}", workflowId);
              afterChange(((Running) after).data());
            })
        .thenReply(c.replyTo(), after -> StatusReply.success(view(after)));
  }

  private ReplyEffect<Event, State> signal(Running s, SendSignal c) {
    Integer deliveredTo =
        s.data()
            .suspension()
            .filter(
                op ->
                    op.kind() == OpKind.SIGNAL
                        && op.status() == OpStatus.WAITING
                        && op.name().equals(c.name()))
            .map(Op::seq)
            .orElse(null);
    return Effect()
        .persist(new SignalReceived(c.name(), c.payload(), deliveredTo, now()))
        .thenRun(
            after -> {
              log.info(
                  "signal received id={} signal={} delivered={}",
                  workflowId,
                  c.name(),
                  deliveredTo != null);
              if (deliveredTo != null)
                tracing.waited(s.data(), s.data().ops().get(deliveredTo), now(), "received");
              afterChange(((Running) after).data());
            })
        .thenReply(c.replyTo(), after -> StatusReply.ack());
  }

  private ReplyEffect<Event, State> wake(Running s, Wake c) {
    Optional<Op> suspension = s.data().suspension();
    Instant now = now();
    if (suspension.isPresent()
        && suspension.get().dueAt() != null
        && !now.isBefore(suspension.get().dueAt())) {
      Op op = suspension.get();
      Event event =
          op.status() == OpStatus.SLEEPING
              ? new TimerFired(op.seq(), op.name(), now)
              : op.status() == OpStatus.WAITING
                  ? new SignalTimedOut(op.seq(), op.name(), now)
                  : null; // RETRYING: due means runnable, no event needed
      if (event != null) {
        return Effect()
            .persist(event)
            .thenRun(
                after -> {
                  tracing.waited(
                      s.data(), op, now, event instanceof TimerFired ? "fired" : "timeout");
                  afterChange(((Running) after).data());
                })
            .thenNoReply();
      }
    }
    afterChange(s.data());
    return Effect().noReply();
  }

  private boolean isCurrent(long runId) {
    return runId != 0 && runId == activeRunId;
  }

  private ReplyEffect<Event, State> recordStep(Running s, RecordStep c) {
    if (!isCurrent(c.runId())) return Effect().reply(c.replyTo(), new Halt("superseded"));
    if (!stepAt(s.data(), c.completed().seq(), c.completed().name()))
      return Effect().reply(c.replyTo(), new Halt("out of order"));
    Instant now = now();
    List<Event> events = completionEvents(s.data(), c.completed(), now);
    long writeStart = System.nanoTime();
    return Effect()
        .persist(events)
        .thenReply(
            c.replyTo(),
            after -> {
              measureWrite(s.data(), c.completed(), events.size(), writeStart, now);
              return ((Running) after).data().paused()
                  ? new Halt("paused")
                  : new Proceed(c.completed().attempt());
            });
  }

  /**
   * A long body's start, journaled while it runs. Nothing when the attempt was superseded, or the
   * start is already recorded (or no longer the step at that position: the outcome came first).
   */
  private ReplyEffect<Event, State> noteStepStarted(Running s, NoteStepStarted c) {
    if (!isCurrent(c.runId()) || !startPending(s.data(), c.seq(), c.attempt()))
      return Effect().noReply();
    return Effect()
        .persist(new StepStarted(c.seq(), c.name(), c.attempt(), c.startedAt()))
        .thenNoReply();
  }

  /**
   * Whether the start of attempt {@code attempt} of the step at {@code seq} is still to be
   * journaled: the position is new, or holds an earlier attempt (one that failed and waits for its
   * retry, or one that was in flight at a crash).
   */
  private static boolean startPending(ExecutionData data, int seq, int attempt) {
    if (seq > data.ops().size()) return false;
    if (seq == data.ops().size()) return true;
    Op op = data.ops().get(seq);
    return op.kind() == OpKind.STEP
        && (op.status() == OpStatus.RETRYING
            || (op.status() == OpStatus.RUNNING && op.attempts() < attempt));
  }

  /**
   * Whether an attempt may record the outcome of step {@code name} at {@code seq}: the next free
   * position, or the same step started there and not finished (in flight, or waiting for a retry).
   * An outcome anywhere else would not fit the recorded calls, and is never journaled.
   */
  private static boolean stepAt(ExecutionData data, int seq, String name) {
    List<Op> ops = data.ops();
    if (seq == ops.size()) return true;
    if (seq > ops.size() || seq < 0) return false;
    Op op = ops.get(seq);
    return op.kind() == OpKind.STEP
        && op.name().equals(name)
        && (op.status() == OpStatus.RUNNING || op.status() == OpStatus.RETRYING);
  }

  /** A finished step's events: its start unless already journaled, then its result. */
  private static List<Event> completionEvents(ExecutionData data, Completion c, Instant now) {
    List<Event> events = new ArrayList<>(3);
    if (startPending(data, c.seq(), c.attempt()))
      events.add(new StepStarted(c.seq(), c.name(), c.attempt(), c.startedAt()));
    events.add(new StepCompleted(c.seq(), c.name(), c.output(), now));
    return events;
  }

  /** What a recording command writes after the carried completion, and how it answers. */
  private record Next(Event event, java.util.function.Function<State, Directive> reply) {}

  /**
   * Journals the carried step result (if any) and the next call in one atomic write. A superseded
   * attempt records nothing; a paused execution records the finished step but starts nothing new.
   */
  private ReplyEffect<Event, State> recordThen(
      Running s,
      long runId,
      Completion completed,
      int seq,
      String name,
      OpKind kind,
      ActorRef<Directive> replyTo,
      java.util.function.Function<Instant, Next> next) {
    if (!isCurrent(runId)) return Effect().reply(replyTo, new Halt("superseded"));
    if (completed != null && !stepAt(s.data(), completed.seq(), completed.name()))
      return Effect().reply(replyTo, new Halt("out of order"));
    Instant now = now();
    List<Event> events = new ArrayList<>(3);
    if (completed != null) events.addAll(completionEvents(s.data(), completed, now));
    // Checked against the state after the completion: its step now holds position seq - 1.
    Optional<Halt> halt = haltFor(s, completed, seq, name, kind);
    if (halt.isPresent()) {
      if (events.isEmpty()) return Effect().reply(replyTo, halt.get());
      return Effect().persist(events).thenReply(replyTo, after -> halt.get());
    }
    Next n = next.apply(now);
    events.add(n.event());
    long writeStart = System.nanoTime();
    return Effect()
        .persist(events)
        .thenReply(
            replyTo,
            after -> {
              measureWrite(s.data(), completed, events.size(), writeStart, now);
              return n.reply().apply(after);
            });
  }

  private ReplyEffect<Event, State> failStep(Running s, FailStep c) {
    if (!isCurrent(c.runId())) return Effect().reply(c.replyTo(), new Halt("superseded"));
    if (!stepAt(s.data(), c.seq(), c.name()))
      return Effect().reply(c.replyTo(), new Halt("out of order"));
    List<Event> events = new ArrayList<>(2);
    if (startPending(s.data(), c.seq(), c.attempt()))
      events.add(new StepStarted(c.seq(), c.name(), c.attempt(), c.startedAt()));
    events.add(new StepFailed(c.seq(), c.name(), c.attempt(), c.error(), c.retryAt(), now()));
    return Effect()
        .persist(events)
        .thenRun(
            after -> {
              log.info(
                  "step failed id={} step={} attempt={} retryAt={} error={}",
                  workflowId,
                  c.name(),
                  c.attempt(),
                  c.retryAt(),
                  c.error());
              if (c.retryAt() != null) deps.metrics().retryScheduled();
            })
        .thenReply(c.replyTo(), after -> new Proceed(c.attempt()));
  }

  private ReplyEffect<Event, State> startTimer(Running s, StartTimer c) {
    return recordThen(
        s,
        c.runId(),
        c.completed(),
        c.seq(),
        c.name(),
        OpKind.SLEEP,
        c.replyTo(),
        now ->
            new Next(
                new TimerStarted(c.seq(), c.name(), now.plusMillis(c.durationMillis()), now),
                after -> new Halt("sleeping")));
  }

  private ReplyEffect<Event, State> awaitSignal(Running s, AwaitSignal c) {
    List<JsonNode> kept = s.data().pendingSignals().getOrDefault(c.name(), List.of());
    return recordThen(
        s,
        c.runId(),
        c.completed(),
        c.seq(),
        c.name(),
        OpKind.SIGNAL,
        c.replyTo(),
        now -> {
          if (!kept.isEmpty()) {
            JsonNode payload = kept.get(0);
            return new Next(
                new SignalConsumed(c.seq(), c.name(), payload, now), after -> new Deliver(payload));
          }
          return new Next(
              new SignalAwaited(c.seq(), c.name(), now.plusMillis(c.timeoutMillis()), now),
              after -> new Halt("waiting"));
        });
  }

  /**
   * A new call may be recorded only at the next position, while not paused. A carried completion
   * whose start is journaled in the same write takes its position first.
   */
  private Optional<Halt> haltFor(Running s, Completion carried, int seq, String name, OpKind kind) {
    if (s.data().paused()) return Optional.of(new Halt("paused"));
    List<Op> ops = s.data().ops();
    int free = carried == null ? ops.size() : Math.max(ops.size(), carried.seq() + 1);
    if (seq > free) return Optional.of(new Halt("out of order"));
    if (seq < ops.size()) {
      Op op = ops.get(seq);
      boolean rerunnable =
          op.kind() == kind
              && op.name().equals(name)
              && kind == OpKind.STEP
              && (op.status() == OpStatus.RUNNING || op.status() == OpStatus.RETRYING);
      if (!rerunnable) return Optional.of(new Halt("already recorded"));
    }
    return Optional.empty();
  }

  private ReplyEffect<Event, State> attemptFinished(Running s, AttemptFinished c) {
    if (!isCurrent(c.runId())) return Effect().noReply();
    activeRunId = 0;
    if (c.completed() != null && !stepAt(s.data(), c.completed().seq(), c.completed().name())) {
      // Never expected: each attempt records its calls in order. Journal nothing that would not
      // replay, and run the workflow again from what is recorded.
      log.error(
          "workflow attempt out of order id={} step={} seq={}",
          workflowId,
          c.completed().name(),
          c.completed().seq());
      afterChange(s.data());
      return Effect().noReply();
    }
    Instant now = now();
    List<Event> events = new ArrayList<>(3);
    if (c.completed() != null) events.addAll(completionEvents(s.data(), c.completed(), now));
    long writeStart = System.nanoTime();
    switch (c.outcome()) {
      case COMPLETED:
        events.add(new WorkflowCompleted(c.output(), now));
        return Effect()
            .persist(events)
            .thenRun(
                after -> {
                  measureWrite(s.data(), c.completed(), events.size(), writeStart, now);
                  deps.metrics().completed();
                  log.info("workflow completed id={} workflow={}", workflowId, s.data().workflow());
                  finished(after);
                })
            .thenNoReply();
      case FAILED:
        events.add(new WorkflowFailed(c.error(), now));
        return Effect()
            .persist(events)
            .thenRun(
                after -> {
                  measureWrite(s.data(), c.completed(), events.size(), writeStart, now);
                  deps.metrics().failed();
                  log.info(
                      "workflow failed id={} workflow={} error={}",
                      workflowId,
                      s.data().workflow(),
                      c.error());
                  finished(after);
                })
            .thenNoReply();
      default:
        if (!events.isEmpty()) {
          return Effect()
              .persist(events)
              .thenRun(after -> afterChange(((Running) after).data()))
              .thenNoReply();
        }
        afterChange(s.data());
        return Effect().noReply();
    }
  }

  // ---------------------------------------------------------------- side effects after a change

  /** After a write: its latency and size, and the latency of the step whose result it carried. */
  private void measureWrite(
      ExecutionData before, Completion completed, int events, long writeStart, Instant now) {
    deps.metrics().written(events, writeStart);
    if (completed != null) {
      // From the step's first start: an earlier attempt's, when it was retried.
      Instant first =
          completed.seq() < before.ops().size()
              ? before.ops().get(completed.seq()).startedAt()
              : completed.startedAt();
      deps.metrics().stepCompleted(Duration.between(first, now));
    }
  }

  /**
   * Launch an attempt, arm the wake-up timer, or plan passivation: whatever the data now calls for.
   */
  private void afterChange(ExecutionData data) {
    if (activeRunId != 0) return;
    if (data.paused()) {
      scheduleIdle();
      return;
    }
    Optional<Op> suspension = data.suspension();
    if (suspension.isEmpty()) {
      launch(data);
      return;
    }
    Instant due = suspension.get().dueAt();
    if (due == null) {
      scheduleIdle();
      return;
    }
    Duration untilDue = Duration.between(now(), due);
    if (untilDue.isNegative() || untilDue.isZero()) {
      if (suspension.get().status() == OpStatus.RETRYING) {
        launch(data);
      } else {
        context.getSelf().tell(Wake.INSTANCE);
      }
    } else if (untilDue.compareTo(deps.settings().passivateAfter()) <= 0) {
      timers.startSingleTimer("wake", Wake.INSTANCE, untilDue);
    } else {
      // Far off: the wake-up index brings the execution back; no live actor meanwhile.
      scheduleIdle();
    }
  }

  private void launch(ExecutionData data) {
    long runId = ++runCounter;
    activeRunId = runId;
    timers.cancel("idle");
    gate = new ReplayingContext.Gate();
    deps.runner()
        .submit(new ReplayingContext.Attempt(runId, data, context.getSelf(), deps, gate, tracing));
  }

  private void finished(State after) {
    ExecutionView v = view(after);
    finalWatchers.forEach(w -> w.tell(StatusReply.success(v)));
    finalWatchers.clear();
    timers.cancel("wake");
    scheduleIdle();
  }

  private void scheduleIdle() {
    timers.startSingleTimer("idle", Idle.INSTANCE, deps.settings().idleTimeout());
  }

  private void passivateIfIdle() {
    boolean busy = activeRunId != 0 || !finalWatchers.isEmpty();
    if (!busy) shard.ifPresent(sh -> sh.tell(new ClusterSharding.Passivate<>(context.getSelf())));
  }

  private ReplyEffect<Event, State> idleInRunning(Running s) {
    boolean runnableNow = !s.data().paused() && s.data().suspension().isEmpty();
    if (!runnableNow) passivateIfIdle();
    return Effect().noReply();
  }

  private Instant now() {
    return clock.instant();
  }

  // ---------------------------------------------------------------- event handler (pure)

  @Override
  public EventHandler<State, Event> eventHandler() {
    return (state, event) -> apply(state, event);
  }

  /** The state after {@code event}: a pure function, also used to rebuild past states for audit. */
  public static State apply(State state, Event event) {
    if (event instanceof SnapshotRequested) return state;
    if (state instanceof NotStarted) {
      if (event instanceof WorkflowStarted e) {
        return new Running(
            new ExecutionData(
                e.workflowId(),
                e.workflow(),
                e.version(),
                e.tenantId(),
                e.input(),
                e.at(),
                e.at(),
                List.of(),
                Map.of(),
                false,
                ExecutionRecovery.Lineage.NONE,
                e.traceParent()));
      }
      return state;
    }
    if (ExecutionRecovery.handles(event)) return ExecutionRecovery.apply(state, event);
    if (!(state instanceof Running running)) return state;
    ExecutionData d = running.data();
    if (event instanceof StepStarted e) {
      Op existing = e.seq() < d.ops().size() ? d.ops().get(e.seq()) : null;
      Op op =
          existing == null
              ? new Op(
                  e.seq(),
                  OpKind.STEP,
                  e.name(),
                  OpStatus.RUNNING,
                  e.attempt(),
                  null,
                  null,
                  e.at(),
                  null,
                  null)
              : existing.with(OpStatus.RUNNING, e.attempt(), null, existing.error(), null, null);
      return new Running(d.withOp(op, e.at()));
    }
    if (event instanceof StepCompleted e) {
      Op op = d.ops().get(e.seq());
      return new Running(
          d.withOp(
              op.with(OpStatus.COMPLETED, op.attempts(), e.output(), null, e.at(), null), e.at()));
    }
    if (event instanceof StepFailed e) {
      boolean last = e.retryAt() == null;
      Op op =
          d.ops()
              .get(e.seq())
              .with(
                  last ? OpStatus.FAILED : OpStatus.RETRYING,
                  e.attempt(),
                  null,
                  e.error(),
                  last ? e.at() : null,
                  e.retryAt());
      return new Running(d.withOp(op, e.at()));
    }
    if (event instanceof TimerStarted e) {
      return new Running(
          d.withOp(
              new Op(
                  e.seq(),
                  OpKind.SLEEP,
                  e.name(),
                  OpStatus.SLEEPING,
                  1,
                  null,
                  null,
                  e.at(),
                  null,
                  e.wakeAt()),
              e.at()));
    }
    if (event instanceof TimerFired e) {
      return new Running(
          d.withOp(d.ops().get(e.seq()).with(OpStatus.FIRED, 1, null, null, e.at(), null), e.at()));
    }
    if (event instanceof SignalAwaited e) {
      return new Running(
          d.withOp(
              new Op(
                  e.seq(),
                  OpKind.SIGNAL,
                  e.name(),
                  OpStatus.WAITING,
                  1,
                  null,
                  null,
                  e.at(),
                  null,
                  e.timeoutAt()),
              e.at()));
    }
    if (event instanceof SignalReceived e) {
      if (e.deliveredTo() != null) {
        return new Running(
            d.withOp(
                d.ops()
                    .get(e.deliveredTo())
                    .with(OpStatus.RECEIVED, 1, e.payload(), null, e.at(), null),
                e.at()));
      }
      Map<String, List<JsonNode>> pending = new LinkedHashMap<>(d.pendingSignals());
      List<JsonNode> queue = new ArrayList<>(pending.getOrDefault(e.name(), List.of()));
      queue.add(e.payload());
      pending.put(e.name(), List.copyOf(queue));
      return new Running(d.withPending(pending, e.at()));
    }
    if (event instanceof SignalConsumed e) {
      Map<String, List<JsonNode>> pending = new LinkedHashMap<>(d.pendingSignals());
      List<JsonNode> queue = new ArrayList<>(pending.getOrDefault(e.name(), List.of()));
      if (!queue.isEmpty()) queue.remove(0);
      if (queue.isEmpty()) pending.remove(e.name());
      else pending.put(e.name(), List.copyOf(queue));
      Op op =
          new Op(
              e.seq(),
              OpKind.SIGNAL,
              e.name(),
              OpStatus.RECEIVED,
              1,
              e.payload(),
              null,
              e.at(),
              e.at(),
              null);
      return new Running(d.withPending(pending, e.at()).withOp(op, e.at()));
    }
    if (event instanceof SignalTimedOut e) {
      return new Running(
          d.withOp(
              d.ops().get(e.seq()).with(OpStatus.TIMED_OUT, 1, null, "timed out", e.at(), null),
              e.at()));
    }
    if (event instanceof WorkflowPaused e) return new Running(d.withPaused(true, e.at()));
    if (event instanceof WorkflowResumed e) return new Running(d.withPaused(false, e.at()));
    if (event instanceof WorkflowCompleted e)
      return new Completed(d.touched(e.at()), e.output(), e.at());
    if (event instanceof WorkflowFailed e) return new Failed(d.touched(e.at()), e.error(), e.at());
    if (event instanceof WorkflowCancelled e)
      return new Cancelled(d.withOpenOpsCancelled(e.at()), e.reason(), e.at());
    return state;
  }

  // ---------------------------------------------------------------- views

  /**
   * JSON null is NullNode everywhere, so a state equals itself after a round trip through the
   * journal.
   */
  static JsonNode nonNull(JsonNode node) {
    return node == null ? com.fasterxml.jackson.databind.node.NullNode.getInstance() : node;
  }

  static ExecutionData dataOf(State state) {
    if (state instanceof Running s) return s.data();
    if (state instanceof Completed s) return s.data();
    if (state instanceof Failed s) return s.data();
    if (state instanceof Cancelled s) return s.data();
    throw new IllegalStateException("not started");
  }

  public static String statusOf(State state) {
    if (state instanceof Completed) return "completed";
    if (state instanceof Failed) return "failed";
    if (state instanceof Cancelled) return "cancelled";
    if (state instanceof Running s) {
      if (s.data().paused()) return "paused";
      OpStatus parkedOn = s.data().suspension().map(Op::status).orElse(OpStatus.RUNNING);
      if (parkedOn == OpStatus.SLEEPING) return "sleeping";
      if (parkedOn == OpStatus.WAITING) return "waiting";
      return "running";
    }
    return "not_started";
  }

  private static <T> StatusReply<T> alreadyFinished(State s) {
    return Rejection.conflict("workflow '" + dataOf(s).id() + "' is already " + statusOf(s));
  }

  private ExecutionView view(State state) {
    return ExecutionView.of(state, activeRunId != 0 && !gate.started());
  }
}
