package dev.keel.workflow.execution;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import dev.keel.persistence.EntityAudit;
import dev.keel.persistence.EntityKind;
import dev.keel.persistence.EntityPlace;
import dev.keel.persistence.EntityRuntime;
import dev.keel.persistence.EntitySnapshots;
import dev.keel.persistence.KeelSerializable;
import dev.keel.persistence.Rejection;
import dev.keel.persistence.RequestScope;
import dev.keel.persistence.SnapshottedEntity;
import dev.keel.workflow.execution.AttemptProtocol.AttemptFinished;
import dev.keel.workflow.execution.AttemptProtocol.AwaitSignal;
import dev.keel.workflow.execution.AttemptProtocol.Completion;
import dev.keel.workflow.execution.AttemptProtocol.Directive;
import dev.keel.workflow.execution.AttemptProtocol.FailStep;
import dev.keel.workflow.execution.AttemptProtocol.Halt;
import dev.keel.workflow.execution.AttemptProtocol.NoteStepStarted;
import dev.keel.workflow.execution.AttemptProtocol.RecordStep;
import dev.keel.workflow.execution.AttemptProtocol.StartTimer;
import dev.keel.workflow.execution.RecordedCall.SignalWait;
import dev.keel.workflow.execution.RecordedCall.Step;
import dev.keel.workflow.execution.RecordedCall.StepRetry;
import dev.keel.workflow.execution.RecordedCall.Timer;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
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
 * to the node's {@link WorkflowRunner}; the attempt replays the workflow against the {@link
 * RecordedCall}s and asks this entity to record each new step, timer or signal wait before it goes
 * on ({@link AttemptProtocol}). Sleeping, waiting and paused executions passivate after a while;
 * the due wake-up index ({@code keel_workflow_wakeups}, fed by the projection) brings them back
 * ({@link AttemptLauncher}).
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

  public sealed interface Command extends KeelSerializable
      permits Traced,
          SaveSnapshot,
          Start,
          Get,
          AwaitFinal,
          Cancel,
          Pause,
          Resume,
          SendSignal,
          Retry,
          PrepareRerun,
          LinkRerun,
          StartRerun,
          Wake,
          Idle,
          AttemptProtocol.ToEntity {}

  /** Type ids of traced commands: their class names, as they crossed nodes before (Id.CLASS). */
  private static final String NAMED = "dev.keel.workflow.execution.WorkflowExecution$";

  /**
   * {@code command}, sent on behalf of request {@code requestId} (see {@link RequestScope}). Only
   * the commands a façade sends are named; the attempt's never leave the node.
   */
  public record Traced(
      String requestId,
      @JsonInclude(JsonInclude.Include.NON_NULL) String traceParent,
      @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "@class")
          @JsonSubTypes({
            @JsonSubTypes.Type(value = SaveSnapshot.class, name = NAMED + "SaveSnapshot"),
            @JsonSubTypes.Type(value = Start.class, name = NAMED + "Start"),
            @JsonSubTypes.Type(value = Get.class, name = NAMED + "Get"),
            @JsonSubTypes.Type(value = AwaitFinal.class, name = NAMED + "AwaitFinal"),
            @JsonSubTypes.Type(value = Cancel.class, name = NAMED + "Cancel"),
            @JsonSubTypes.Type(value = Pause.class, name = NAMED + "Pause"),
            @JsonSubTypes.Type(value = Resume.class, name = NAMED + "Resume"),
            @JsonSubTypes.Type(value = SendSignal.class, name = NAMED + "SendSignal"),
            @JsonSubTypes.Type(value = Retry.class, name = NAMED + "Retry"),
            @JsonSubTypes.Type(value = PrepareRerun.class, name = NAMED + "PrepareRerun"),
            @JsonSubTypes.Type(value = LinkRerun.class, name = NAMED + "LinkRerun"),
            @JsonSubTypes.Type(value = StartRerun.class, name = NAMED + "StartRerun")
          })
          Command command)
      implements Command, RequestScope.Traced<Command> {}

  /** Snapshot now (POST /api/v1/admin/snapshots); answered once the snapshot is stored. */
  public record SaveSnapshot(ActorRef<StatusReply<Done>> replyTo) implements Command {}

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

  /** A step attempt failed; {@code retryAt} null: for good (see {@link StepRetry#of}). */
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

  /** One recorded call copied from the execution a rerun reruns, in the stored shape. */
  public record CopiedOp(
      int seq,
      RecordedCall.Kind kind,
      String name,
      RecordedCall.Status status,
      int attempts,
      JsonNode output,
      String error,
      Instant startedAt,
      Instant completedAt) {
    public CopiedOp {
      output = nonNull(output);
    }

    static CopiedOp of(RecordedCall call) {
      RecordedCall.Stored s = call.stored();
      return new CopiedOp(
          s.seq(),
          s.kind(),
          s.name(),
          s.status(),
          s.attempts(),
          s.output(),
          s.error(),
          s.startedAt(),
          s.completedAt());
    }

    /** The call this copy records (a copied call has ended: nothing is due). */
    RecordedCall call() {
      return new RecordedCall.Stored(
              seq, kind, name, status, attempts, output, error, startedAt, completedAt, null)
          .call();
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

  /** The lifecycle is the state type. */
  public sealed interface State extends KeelSerializable {}

  /** Every state but {@link NotStarted}: the execution's data, and where it stands. */
  public sealed interface Started extends State {
    ExecutionData data();
  }

  public record NotStarted() implements State {}

  public record Running(ExecutionData data) implements Started {}

  public record Completed(ExecutionData data, JsonNode output, Instant completedAt)
      implements Started {
    public Completed {
      output = nonNull(output);
    }
  }

  public record Failed(ExecutionData data, String error, Instant completedAt) implements Started {}

  public record Cancelled(ExecutionData data, String reason, Instant completedAt)
      implements Started {}

  // ---------------------------------------------------------------- wiring

  public static void init(ActorSystem<?> system, WorkflowDeps deps) {
    // Running executions come back on a surviving node when theirs dies.
    EntityRuntime.start(
        system, KIND, EntityRuntime.Remembered.YES, place -> new WorkflowExecution(place, deps));
  }

  /** How audit replays executions: this entity's own handler and view. */
  public static final EntityAudit<State, Event> AUDIT =
      new EntityAudit<>(
          ENTITY_TYPE,
          Event.class,
          new NotStarted(),
          WorkflowExecution::apply,
          (id, s) ->
              s instanceof NotStarted ? Optional.empty() : Optional.of(ExecutionView.of(s, false)));

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
  private final AttemptLauncher attempts;
  private final WorkflowTracing tracing;

  private WorkflowExecution(EntityPlace<Command> place, WorkflowDeps deps) {
    super(place, ENTITY_TYPE, persistenceId(place.entityId()));
    this.workflowId = place.entityId();
    this.deps = deps;
    this.clock = deps.clock();
    this.attempts = new AttemptLauncher(context, timers, shard, deps);
    this.tracing = WorkflowTracing.of(context.getSystem());
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
      attempts.afterChange(running.data());
    } else {
      attempts.scheduleIdle();
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
        .onCommand(PrepareRerun.class, (s, c) -> notFound(c.replyTo()))
        .onCommand(LinkRerun.class, (s, c) -> notFound(c.replyTo()))
        .onCommand(SendSignal.class, (s, c) -> notFound(c.replyTo()));

    b.forStateType(Running.class)
        .onCommand(Start.class, this::restart)
        .onCommand(Get.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.success(view(s))))
        .onCommand(
            AwaitFinal.class,
            (s, c) -> {
              attempts.watchFinal(c.replyTo());
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
                                + ExecutionView.statusOf(s)
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
        .onCommand(RecordStep.class, (s, c) -> Effect().reply(c.replyTo(), finalHalt(s)))
        .onCommand(NoteStepStarted.class, (s, c) -> Effect().noReply())
        .onCommand(FailStep.class, (s, c) -> Effect().reply(c.replyTo(), finalHalt(s)))
        .onCommand(StartTimer.class, (s, c) -> Effect().reply(c.replyTo(), finalHalt(s)))
        .onCommand(AwaitSignal.class, (s, c) -> Effect().reply(c.replyTo(), finalHalt(s)))
        .onCommand(
            AttemptFinished.class,
            (s, c) -> {
              attempts.ended(c.runId());
              return Effect().noReply();
            })
        .onCommand(
            Wake.class,
            (s, c) -> {
              attempts.scheduleIdle();
              return Effect().noReply();
            })
        .onCommand(
            Idle.class,
            (s, c) -> {
              attempts.passivateIfIdle();
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

  private <T> ReplyEffect<Event, State> notFound(ActorRef<StatusReply<T>> replyTo) {
    attempts.scheduleIdle();
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
      attempts.scheduleIdle();
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
              attempts.afterChange(((Running) s).data());
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
              attempts.afterChange(((Running) after).data());
            })
        .thenReply(c.replyTo(), after -> StatusReply.success(view(after)));
  }

  private ReplyEffect<Event, State> linkRerun(State s, LinkRerun c) {
    if (dataOf(s).lineage().reruns().contains(c.rerunId()))
      return Effect().reply(c.replyTo(), StatusReply.ack());
    return Effect()
        .persist(new RerunStarted(c.rerunId(), c.fromStep(), now()))
        .thenRun(
            after -> {
              if (!(after instanceof Running)) attempts.scheduleIdle();
            })
        .thenReply(c.replyTo(), after -> StatusReply.ack());
  }

  private ReplyEffect<Event, State> startRerun(NotStarted state, StartRerun c) {
    if (c.deadline() != null && now().isAfter(c.deadline())) {
      attempts.scheduleIdle();
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
              attempts.afterChange(((Running) s).data());
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
              attempts.halt("cancelled");
              attempts.finished(view(after));
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
              attempts.closeGate("paused");
              attempts.afterChange(((Running) after).data());
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
              attempts.afterChange(((Running) after).data());
            })
        .thenReply(c.replyTo(), after -> StatusReply.success(view(after)));
  }

  private ReplyEffect<Event, State> signal(Running s, SendSignal c) {
    Integer deliveredTo = s.data().waitingFor(c.name()).orElse(null);
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
              attempts.afterChange(((Running) after).data());
            })
        .thenReply(c.replyTo(), after -> StatusReply.ack());
  }

  /** A due timer fires and a due signal wait times out; a due retry needs no event to run. */
  private ReplyEffect<Event, State> wake(Running s, Wake c) {
    Instant now = now();
    Optional<Event> due =
        s.data()
            .suspension()
            .filter(call -> call.dueAt() != null && !now.isBefore(call.dueAt()))
            .flatMap(
                call ->
                    call instanceof Timer t
                        ? Optional.of(new TimerFired(t.seq(), t.name(), now))
                        : call instanceof SignalWait w
                            ? Optional.of(new SignalTimedOut(w.seq(), w.name(), now))
                            : Optional.empty());
    if (due.isPresent()) {
      RecordedCall waited = s.data().suspension().get();
      return Effect()
          .persist(due.get())
          .thenRun(
              after -> {
                tracing.waited(
                    s.data(), waited, now, due.get() instanceof TimerFired ? "fired" : "timeout");
                attempts.afterChange(((Running) after).data());
              })
          .thenNoReply();
    }
    attempts.afterChange(s.data());
    return Effect().noReply();
  }

  // ---------------------------------------------------------------- the attempt's commands

  private ReplyEffect<Event, State> recordStep(Running s, RecordStep c) {
    return write(
        s,
        c.runId(),
        c.completed(),
        c.replyTo(),
        now -> CallRecording.recordStep(s.data(), c, now));
  }

  private ReplyEffect<Event, State> startTimer(Running s, StartTimer c) {
    return write(
        s,
        c.runId(),
        c.completed(),
        c.replyTo(),
        now -> CallRecording.startTimer(s.data(), c, now));
  }

  private ReplyEffect<Event, State> awaitSignal(Running s, AwaitSignal c) {
    return write(
        s,
        c.runId(),
        c.completed(),
        c.replyTo(),
        now -> CallRecording.awaitSignal(s.data(), c, now));
  }

  private ReplyEffect<Event, State> failStep(Running s, FailStep c) {
    return write(s, c.runId(), null, c.replyTo(), now -> CallRecording.failStep(s.data(), c, now));
  }

  /**
   * Journals what a message of the current attempt writes ({@code decision}, at the time it is
   * given), in one atomic write, then answers; a superseded attempt records nothing and is told to
   * halt.
   */
  private ReplyEffect<Event, State> write(
      Running s,
      long runId,
      Completion carried,
      ActorRef<Directive> replyTo,
      Function<Instant, CallRecording.Write> decision) {
    if (!attempts.isCurrent(runId)) return Effect().reply(replyTo, new Halt("superseded"));
    Instant now = now();
    CallRecording.Write w = decision.apply(now);
    if (w.events().isEmpty()) return Effect().reply(replyTo, w.reply());
    long writeStart = System.nanoTime();
    return Effect()
        .persist(w.events())
        .thenRun(
            after -> {
              measureWrite(s.data(), carried, w.events().size(), writeStart, now);
              afterWrite(w.events());
            })
        .thenReply(replyTo, after -> w.reply());
  }

  /** A failed step attempt is logged, and a retry counted, once it is journaled. */
  private void afterWrite(List<Event> written) {
    for (Event e : written) {
      if (!(e instanceof StepFailed f)) continue;
      log.info(
          "step failed id={} step={} attempt={} retryAt={} error={}",
          workflowId,
          f.name(),
          f.attempt(),
          f.retryAt(),
          f.error());
      if (f.retryAt() != null) deps.metrics().retryScheduled();
    }
  }

  /**
   * A long body's start, journaled while it runs. Nothing when the attempt was superseded, or the
   * start is already recorded (or no longer the step at that position: the outcome came first).
   */
  private ReplyEffect<Event, State> noteStepStarted(Running s, NoteStepStarted c) {
    if (!attempts.isCurrent(c.runId()) || !s.data().stepStartPending(c.seq(), c.attempt()))
      return Effect().noReply();
    return Effect()
        .persist(new StepStarted(c.seq(), c.name(), c.attempt(), c.startedAt()))
        .thenNoReply();
  }

  private ReplyEffect<Event, State> attemptFinished(Running s, AttemptFinished c) {
    if (!attempts.isCurrent(c.runId())) return Effect().noReply();
    attempts.ended(c.runId());
    Instant now = now();
    Optional<List<Event>> events = CallRecording.finish(s.data(), c, now);
    if (events.isEmpty()) {
      // Never expected: each attempt records its calls in order. Journal nothing that would not
      // replay, and run the workflow again from what is recorded.
      log.error(
          "workflow attempt out of order id={} step={} seq={}",
          workflowId,
          c.completed().name(),
          c.completed().seq());
    }
    if (events.isEmpty() || events.get().isEmpty()) {
      // Suspended or abandoned: what is due next decides (a relaunch, a timer, passivation).
      attempts.afterChange(s.data());
      return Effect().noReply();
    }
    long writeStart = System.nanoTime();
    return Effect()
        .persist(events.get())
        .thenRun(
            after -> {
              measureWrite(s.data(), c.completed(), events.get().size(), writeStart, now);
              if (after instanceof Running running) {
                attempts.afterChange(running.data());
                return;
              }
              if (after instanceof Failed failed) {
                deps.metrics().failed();
                log.info(
                    "workflow failed id={} workflow={} error={}",
                    workflowId,
                    s.data().workflow(),
                    failed.error());
              } else {
                deps.metrics().completed();
                log.info("workflow completed id={} workflow={}", workflowId, s.data().workflow());
              }
              attempts.finished(view(after));
            })
        .thenNoReply();
  }

  /** After a write: its latency and size, and the latency of the step whose result it carried. */
  private void measureWrite(
      ExecutionData before, Completion completed, int events, long writeStart, Instant now) {
    deps.metrics().written(events, writeStart);
    if (completed != null) {
      Instant first = before.firstStartOf(completed.seq(), completed.startedAt());
      deps.metrics().stepCompleted(java.time.Duration.between(first, now));
    }
  }

  private ReplyEffect<Event, State> idleInRunning(Running s) {
    boolean runnableNow = !s.data().paused() && s.data().suspension().isEmpty();
    if (!runnableNow) attempts.passivateIfIdle();
    return Effect().noReply();
  }

  private Instant now() {
    return clock.instant();
  }

  // ---------------------------------------------------------------- event handler (pure)

  @Override
  public EventHandler<State, Event> eventHandler() {
    return WorkflowExecution::apply;
  }

  /**
   * The state after {@code event}: a pure function, also used to rebuild past states for audit. An
   * event that does not apply to the state (after a final one, as an older journal may hold)
   * changes nothing.
   */
  public static State apply(State state, Event event) {
    if (event instanceof SnapshotRequested) return state;
    if (state instanceof NotStarted) {
      return event instanceof WorkflowStarted e
          ? new Running(
              ExecutionData.started(
                  e.workflowId(),
                  e.workflow(),
                  e.version(),
                  e.tenantId(),
                  e.input(),
                  e.at(),
                  e.traceParent()))
          : state;
    }
    if (ExecutionRecovery.handles(event)) return ExecutionRecovery.apply(state, event);
    if (!(state instanceof Running running)) return state;
    ExecutionData d = running.data();
    Instant at = event.at();
    if (event instanceof StepStarted e) {
      Step step =
          d.callAt(e.seq()).orElse(null) instanceof Step existing
              ? existing.startedAgain(e.attempt())
              : Step.started(e.seq(), e.name(), e.attempt(), at);
      return new Running(d.withCall(step, at));
    }
    if (event instanceof StepCompleted e)
      return new Running(d.withCall(d.stepAt(e.seq()).completed(e.output(), at), at));
    if (event instanceof StepFailed e) {
      Step failed = d.stepAt(e.seq()).failed(e.attempt(), e.error(), StepRetry.of(e.retryAt()), at);
      return new Running(d.withCall(failed, at));
    }
    if (event instanceof TimerStarted e)
      return new Running(d.withCall(Timer.started(e.seq(), e.name(), e.wakeAt(), at), at));
    if (event instanceof TimerFired e)
      return new Running(d.withCall(d.timerAt(e.seq()).fired(at), at));
    if (event instanceof SignalAwaited e)
      return new Running(d.withCall(SignalWait.awaited(e.seq(), e.name(), e.timeoutAt(), at), at));
    if (event instanceof SignalReceived e) {
      return new Running(
          e.deliveredTo() == null
              ? d.withSignalKept(e.name(), e.payload(), at)
              : d.withCall(d.signalWaitAt(e.deliveredTo()).received(e.payload(), at), at));
    }
    if (event instanceof SignalConsumed e) {
      SignalWait consumed = SignalWait.consumed(e.seq(), e.name(), e.payload(), at);
      return new Running(d.withSignalTaken(e.name(), at).withCall(consumed, at));
    }
    if (event instanceof SignalTimedOut e)
      return new Running(d.withCall(d.signalWaitAt(e.seq()).timedOut(at), at));
    if (event instanceof WorkflowPaused) return new Running(d.withPaused(true, at));
    if (event instanceof WorkflowResumed) return new Running(d.withPaused(false, at));
    if (event instanceof WorkflowCompleted e) return new Completed(d.touched(at), e.output(), at);
    if (event instanceof WorkflowFailed e) return new Failed(d.touched(at), e.error(), at);
    if (event instanceof WorkflowCancelled e)
      return new Cancelled(d.withOpenCallsCancelled(at), e.reason(), at);
    return state;
  }

  // ---------------------------------------------------------------- helpers

  /**
   * JSON null is NullNode everywhere, so a state equals itself after a round trip through the
   * journal.
   */
  static JsonNode nonNull(JsonNode node) {
    return node == null ? NullNode.getInstance() : node;
  }

  static ExecutionData dataOf(State state) {
    if (state instanceof Started s) return s.data();
    throw new IllegalStateException("not started");
  }

  private static <T> StatusReply<T> alreadyFinished(State s) {
    return Rejection.conflict(
        "workflow '" + dataOf(s).id() + "' is already " + ExecutionView.statusOf(s));
  }

  private static Halt finalHalt(State s) {
    return new Halt("execution is " + ExecutionView.statusOf(s));
  }

  private ExecutionView view(State state) {
    return ExecutionView.of(state, attempts.queued());
  }
}
