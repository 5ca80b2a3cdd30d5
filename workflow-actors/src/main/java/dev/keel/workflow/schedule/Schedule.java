package dev.keel.workflow.schedule;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import dev.keel.persistence.EntityKind;
import dev.keel.persistence.EntityPlace;
import dev.keel.persistence.EntityRuntime;
import dev.keel.persistence.EntitySnapshots;
import dev.keel.persistence.KeelSerializable;
import dev.keel.persistence.Rejection;
import dev.keel.persistence.RequestScope;
import dev.keel.persistence.SnapshottedEntity;
import dev.keel.workflow.execution.WorkflowStarter;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReplyBuilder;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReplyBuilderByState;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One cron schedule: starts its workflow at every tick of its {@link CronSpec}.
 *
 * <p>The workflow id of a tick is {@code <scheduleId>@<tick instant, UTC, millis>} and the {@link
 * WorkflowStarter} is idempotent by id, so a tick never starts twice, even when a node dies between
 * the start and the {@link ScheduleTicked} event.
 *
 * <p>A tick whose start fails is journaled as {@link ScheduleTickFailed} (the view shows the error
 * and the next retry) and retried with a backoff that doubles per failure in a row, from {@link
 * ScheduleSettings#retryBackoff()} up to {@link ScheduleSettings#maxRetryBackoff()}. While it
 * fails, later ticks do not start on their own: each retry starts the newest tick due by then, so a
 * schedule that cannot start its workflow makes one attempt per backoff, whatever its cron.
 *
 * <p>{@code nextRunAt} is the earliest tick not yet handled. When the entity comes back (remembered
 * by sharding, or restarted) and ticks were missed, only the newest missed tick runs, at once; the
 * next one after it is counted from now. Ticks that fall while the schedule is paused are skipped.
 */
public final class Schedule
    extends SnapshottedEntity<Schedule.Command, Schedule.Event, Schedule.State> {

  public static final EntityTypeKey<Command> ENTITY_KEY =
      EntityTypeKey.create(Schedule.Command.class, "schedule");

  /** Entity type name in persistence ids and tags; never changes. */
  public static final String ENTITY_TYPE = "schedule";

  /** A Pekko timer is never armed longer than this; a far tick re-arms on the way. */
  private static final Logger log = LoggerFactory.getLogger(Schedule.class);

  // ---------------------------------------------------------------- commands

  public sealed interface Command extends KeelSerializable {}

  /** Type ids of traced commands: their class names, as they crossed nodes before (Id.CLASS). */
  private static final String NAMED = "dev.keel.workflow.schedule.Schedule$";

  /**
   * {@code command}, sent on behalf of request {@code requestId} (see {@link RequestScope}). Only
   * the commands a façade sends are named; ticks never leave the node.
   */
  public record Traced(
      String requestId,
      @JsonInclude(JsonInclude.Include.NON_NULL) String traceParent,
      @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "@class")
          @JsonSubTypes({
            @JsonSubTypes.Type(value = SaveSnapshot.class, name = NAMED + "SaveSnapshot"),
            @JsonSubTypes.Type(value = Put.class, name = NAMED + "Put"),
            @JsonSubTypes.Type(value = Get.class, name = NAMED + "Get"),
            @JsonSubTypes.Type(value = Delete.class, name = NAMED + "Delete")
          })
          Command command)
      implements Command, RequestScope.Traced<Command> {}

  /** Snapshot now (POST /api/v1/admin/snapshots); answered once the snapshot is stored. */
  public record SaveSnapshot(ActorRef<StatusReply<Done>> replyTo) implements Command {}

  /** Define or redefine the schedule; the same definition again changes nothing. */
  public record Put(ScheduleDefinition def, ActorRef<StatusReply<PutResult>> replyTo)
      implements Command {}

  public record Get(ActorRef<StatusReply<ScheduleView>> replyTo) implements Command {}

  public record Delete(ActorRef<StatusReply<Done>> replyTo) implements Command {}

  /** Local: the tick at {@code at} may be due (timer, catch-up after recovery, or retry). */
  public record Tick(Instant at) implements Command {}

  /** Local: the workflow of a tick started (or had already started: {@code created} false). */
  public record TickStarted(Instant tick, String workflowId, boolean created) implements Command {}

  /** Local: the workflow of a tick could not be started. */
  public record TickFailed(Instant tick, String workflowId, String reason) implements Command {}

  // ---------------------------------------------------------------- replies

  /** What a client defines; {@code paused} stops ticking without forgetting the schedule. */
  public record ScheduleDefinition(
      String workflow,
      String cron,
      String timezone,
      JsonNode input,
      boolean paused,
      String tenantId) {

    public ScheduleDefinition {
      // A missing input and JSON null are the same input, also after a round trip through JSON.
      input = input == null || input.isMissingNode() ? NullNode.getInstance() : input;
    }
  }

  public record PutResult(boolean created, ScheduleView view) implements KeelSerializable {}

  /**
   * The schedule as clients see it. {@code lastError}, {@code lastErrorAt}, {@code failedStarts}
   * and {@code nextRetryAt} are set while the due tick cannot start its workflow, and cleared once
   * a tick starts (or a pause or new timing drops the due tick).
   */
  public record ScheduleView(
      String id,
      String workflow,
      String cron,
      String timezone,
      JsonNode input,
      boolean paused,
      String tenantId,
      Instant nextRunAt,
      String lastRunWorkflowId,
      Instant lastRunAt,
      Instant createdAt,
      Instant updatedAt,
      String lastError,
      Instant lastErrorAt,
      int failedStarts,
      Instant nextRetryAt)
      implements KeelSerializable {}

  // ---------------------------------------------------------------- events

  public sealed interface Event extends KeelSerializable {}

  /** Marks a snapshot taken on demand; changes nothing. */
  public record SnapshotRequested(Instant at) implements Event, EntitySnapshots.Request {}

  public record ScheduleDefined(ScheduleDefinition def, Instant at, Instant nextRunAt)
      implements Event {}

  public record ScheduleUpdated(ScheduleDefinition def, Instant at, Instant nextRunAt)
      implements Event {}

  /**
   * The workflow of {@code tick} started (at {@code at}); the next tick to handle is {@code
   * nextRunAt}.
   */
  public record ScheduleTicked(Instant tick, String workflowId, Instant at, Instant nextRunAt)
      implements Event {}

  public record ScheduleDeleted(Instant at) implements Event {}

  /**
   * The workflow of {@code tick} could not be started ({@code error}, as clients may see it); the
   * newest tick due at {@code retryAt} is tried then.
   */
  public record ScheduleTickFailed(
      Instant tick, String workflowId, String error, Instant at, Instant retryAt)
      implements Event {}

  // ---------------------------------------------------------------- state

  /** The lifecycle is the state type. */
  public sealed interface State extends KeelSerializable {}

  /** Never defined. */
  public record Empty() implements State {}

  /**
   * Defined. {@code nextRunAt} is null while paused; {@code lastRunAt} is the instant of the newest
   * tick whose workflow started; {@code failing} is null unless the due tick could not start its
   * workflow (absent from snapshots taken before it existed, so null there too).
   */
  public record Active(
      ScheduleDefinition def,
      Instant createdAt,
      Instant updatedAt,
      Instant nextRunAt,
      String lastRunWorkflowId,
      Instant lastRunAt,
      TickFailure failing)
      implements State {}

  /**
   * The due tick could not start its workflow: {@code failures} times in a row, the last at {@code
   * at} with {@code error}; the newest tick due at {@code retryAt} is tried then.
   */
  public record TickFailure(Instant tick, String error, Instant at, int failures, Instant retryAt)
      implements KeelSerializable {}

  /** Deleted; a new {@link Put} defines it again. */
  public record Deleted(Instant deletedAt) implements State {}

  // ---------------------------------------------------------------- wiring

  /** Starts sharding for schedules; remembered, so that they keep ticking when their node dies. */
  public static void init(
      ActorSystem<?> system,
      WorkflowStarter starter,
      Clock clock,
      ScheduleSettings settings,
      ScheduleMetrics metrics) {
    EntityRuntime.start(
        system,
        KIND,
        EntityRuntime.Remembered.YES,
        place -> new Schedule(place, starter, clock, settings, metrics));
  }

  public static PersistenceId persistenceId(String scheduleId) {
    return PersistenceId.of(ENTITY_TYPE, scheduleId);
  }

  public static Behavior<Command> create(
      String scheduleId,
      WorkflowStarter starter,
      Clock clock,
      ScheduleSettings settings,
      ScheduleMetrics metrics) {
    return EntityRuntime.unsharded(
        scheduleId, place -> new Schedule(place, starter, clock, settings, metrics));
  }

  // ---------------------------------------------------------------- runtime (not journaled)

  private final String scheduleId;
  private final Clock clock;
  private final ScheduleSettings settings;
  private final ScheduleMetrics metrics;
  private final ScheduleTicker ticker;

  private Schedule(
      EntityPlace<Command> place,
      WorkflowStarter starter,
      Clock clock,
      ScheduleSettings settings,
      ScheduleMetrics metrics) {
    super(place, ENTITY_TYPE, persistenceId(place.entityId()));
    this.scheduleId = place.entityId();
    this.clock = clock;
    this.settings = settings;
    this.metrics = metrics;
    this.ticker = new ScheduleTicker(scheduleId, context, timers, shard, starter, clock, settings);
  }

  @Override
  public State emptyState() {
    return new Empty();
  }

  /** A failed start is for the entity's own view and audit; the read models don't need it. */
  @Override
  protected boolean readSideRelevant(Event event) {
    return !(event instanceof ScheduleTickFailed);
  }

  @Override
  protected void onRecovered(State state) {
    if (!(state instanceof Active active) || active.def().paused()) return;
    if (active.failing() != null) {
      ticker.arm(active); // the retry timer, at the retry's time or at once when that has passed
      return;
    }
    Instant now = clock.instant();
    Optional<Instant> newest = ScheduleRules.spec(active).latestAtOrBefore(now);
    if (newest.isPresent()
        && active.nextRunAt() != null
        && !newest.get().isBefore(active.nextRunAt())) {
      // Missed while no node ran this schedule: run the newest missed tick only, now.
      log.info(
          "schedule catching up scheduleId={} tick={} missedSince={}",
          scheduleId,
          newest.get(),
          active.nextRunAt());
      context.getSelf().tell(new Tick(newest.get()));
    }
    ticker.arm(active);
  }

  // ---------------------------------------------------------------- command handlers

  @Override
  protected CommandHandlerWithReply<Command, Event, State> commands() {
    CommandHandlerWithReplyBuilder<Command, Event, State> b = newCommandHandlerWithReplyBuilder();
    absent(b.forStateType(Empty.class));
    absent(b.forStateType(Deleted.class));
    b.forStateType(Active.class)
        .onCommand(Put.class, this::redefine)
        .onCommand(Get.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.success(view(s))))
        .onCommand(Delete.class, this::delete)
        .onCommand(Tick.class, this::tick)
        .onCommand(TickStarted.class, this::tickStarted)
        .onCommand(TickFailed.class, this::tickFailed);
    b.forAnyState()
        .onCommand(
            SaveSnapshot.class,
            (s, c) ->
                saveSnapshot(
                    !(s instanceof Empty), new SnapshotRequested(clock.instant()), c.replyTo()));
    return b.build();
  }

  /** Empty and Deleted answer alike: only a Put brings the schedule (back) to life. */
  private <S extends State> void absent(
      CommandHandlerWithReplyBuilderByState<Command, Event, S, State> b) {
    b.onCommand(Put.class, (s, c) -> define(c))
        .onCommand(Get.class, (s, c) -> notFound(c.replyTo()))
        .onCommand(Delete.class, (s, c) -> notFound(c.replyTo()))
        // A tick in flight when the schedule was deleted: nothing left to record.
        .onCommand(Tick.class, (s, c) -> Effect().noReply())
        .onCommand(TickStarted.class, (s, c) -> Effect().noReply())
        .onCommand(TickFailed.class, (s, c) -> Effect().noReply());
  }

  private <R> ReplyEffect<Event, State> notFound(ActorRef<StatusReply<R>> replyTo) {
    // Nothing to keep in memory (or remembered) for an id that has no schedule.
    return Effect()
        .none()
        .thenRun(s -> ticker.passivate())
        .thenReply(replyTo, s -> Rejection.notFound(doesNotExist(scheduleId)));
  }

  /** The not-found detail of a schedule, also answered by the façade for ids never defined. */
  public static String doesNotExist(String scheduleId) {
    return "schedule '" + scheduleId + "' does not exist";
  }

  private ReplyEffect<Event, State> define(Put c) {
    Optional<String> problem = ScheduleRules.problemWith(c.def());
    if (problem.isPresent()) {
      return Effect()
          .none()
          .thenRun(s -> ticker.passivate())
          .thenReply(c.replyTo(), s -> Rejection.invalid(problem.get()));
    }
    ScheduleDefinition def = c.def();
    Instant now = clock.instant();
    Instant nextRunAt =
        def.paused() ? null : ScheduleRules.validate(def).nextAfter(now).orElse(null);
    return Effect()
        .persist(new ScheduleDefined(def, now, nextRunAt))
        .thenRun(
            s -> {
              log.info(
                  "schedule defined scheduleId={} workflow={} cron='{}' timezone={} paused={}"
                      + " nextRunAt={}",
                  scheduleId,
                  def.workflow(),
                  def.cron(),
                  def.timezone(),
                  def.paused(),
                  nextRunAt);
              ticker.arm(s);
            })
        .thenReply(c.replyTo(), s -> StatusReply.success(new PutResult(true, view((Active) s))));
  }

  private ReplyEffect<Event, State> redefine(Active state, Put c) {
    ScheduleDefinition def = c.def();
    if (def != null && def.equals(state.def())) {
      return Effect().reply(c.replyTo(), StatusReply.success(new PutResult(false, view(state))));
    }
    Optional<String> problem = ScheduleRules.problemWith(def);
    if (problem.isPresent()) return Effect().reply(c.replyTo(), Rejection.invalid(problem.get()));
    Instant now = clock.instant();
    Instant nextRunAt;
    if (def.paused()) {
      nextRunAt = null;
    } else if (!state.def().paused()
        && state.nextRunAt() != null
        && ScheduleRules.sameTiming(state.def(), def)) {
      nextRunAt = state.nextRunAt(); // e.g. only the input changed: a due tick still runs
    } else {
      nextRunAt = ScheduleRules.validate(def).nextAfter(now).orElse(null);
    }
    return Effect()
        .persist(new ScheduleUpdated(def, now, nextRunAt))
        .thenRun(
            s -> {
              log.info(
                  "schedule updated scheduleId={} workflow={} cron='{}' timezone={} paused={}"
                      + " nextRunAt={}",
                  scheduleId,
                  def.workflow(),
                  def.cron(),
                  def.timezone(),
                  def.paused(),
                  nextRunAt);
              ticker.arm(s);
            })
        .thenReply(c.replyTo(), s -> StatusReply.success(new PutResult(false, view((Active) s))));
  }

  private ReplyEffect<Event, State> delete(Active state, Delete c) {
    return Effect()
        .persist(new ScheduleDeleted(clock.instant()))
        .thenRun(
            s -> {
              log.info("schedule deleted scheduleId={}", scheduleId);
              ticker.arm(s);
              ticker.passivate();
            })
        .thenReply(c.replyTo(), s -> StatusReply.success(Done.getInstance()));
  }

  private ReplyEffect<Event, State> tick(Active state, Tick c) {
    if (state.def().paused()) return Effect().noReply();
    Instant now = clock.instant();
    if (c.at().isAfter(now)) {
      ticker.arm(state); // a capped timer on its way to a far tick, or a timer a little early
      return Effect().noReply();
    }
    if (state.nextRunAt() == null || c.at().isBefore(state.nextRunAt())) {
      return Effect().noReply(); // handled already, or superseded by a redefinition or a newer tick
    }
    if (state.failing() != null) {
      // Backing off: only the retry starts a tick, and then the newest one due.
      if (now.isBefore(state.failing().retryAt())) {
        ticker.arm(state);
        return Effect().noReply();
      }
      Instant newest =
          ScheduleRules.spec(state)
              .latestAtOrBefore(now)
              .filter(t -> t.isAfter(c.at()))
              .orElse(c.at());
      ticker.start(state.def(), newest);
      return Effect().noReply();
    }
    ticker.start(state.def(), c.at());
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> tickStarted(Active state, TickStarted c) {
    if (state.lastRunAt() != null && !c.tick().isAfter(state.lastRunAt())) {
      return Effect().noReply(); // recorded already (a duplicate start answers created=false)
    }
    Instant now = clock.instant();
    Instant from = now.isAfter(c.tick()) ? now : c.tick();
    Instant nextRunAt =
        state.def().paused() ? null : ScheduleRules.spec(state).nextAfter(from).orElse(null);
    return Effect()
        .persist(new ScheduleTicked(c.tick(), c.workflowId(), now, nextRunAt))
        .thenRun(
            s -> {
              log.info(
                  "schedule ticked scheduleId={} tick={} workflowId={} created={} nextRunAt={}",
                  scheduleId,
                  c.tick(),
                  c.workflowId(),
                  c.created(),
                  nextRunAt);
              ticker.disarmRetry();
              ticker.arm(s);
            })
        .thenNoReply();
  }

  private ReplyEffect<Event, State> tickFailed(Active state, TickFailed c) {
    boolean superseded =
        state.nextRunAt() == null
            || c.tick().isBefore(state.nextRunAt())
            || (state.lastRunAt() != null && !c.tick().isAfter(state.lastRunAt()));
    if (state.failing() != null && c.tick().isBefore(state.failing().tick())) superseded = true;
    if (state.def().paused() || superseded) {
      log.info(
          "schedule tick failed, not retried scheduleId={} tick={} workflowId={} paused={}"
              + " reason={}",
          scheduleId,
          c.tick(),
          c.workflowId(),
          state.def().paused(),
          c.reason());
      return Effect().noReply();
    }
    int failures = state.failing() == null ? 1 : state.failing().failures() + 1;
    Duration retryIn = settings.retryDelay(failures);
    Instant now = clock.instant();
    return Effect()
        .persist(
            new ScheduleTickFailed(c.tick(), c.workflowId(), c.reason(), now, now.plus(retryIn)))
        .thenRun(
            s -> {
              metrics.tickFailed();
              log.warn(
                  "schedule tick failed, will retry scheduleId={} tick={} workflowId={} workflow={}"
                      + " failures={} retryIn={} reason={}",
                  scheduleId,
                  c.tick(),
                  c.workflowId(),
                  state.def().workflow(),
                  failures,
                  retryIn,
                  c.reason());
              ticker.arm(s);
            })
        .thenNoReply();
  }

  private ScheduleView view(Active s) {
    return viewOf(scheduleId, s);
  }

  /** How audit replays schedules: this entity's own handler and view. */
  public static final dev.keel.persistence.EntityAudit<State, Event> AUDIT =
      new dev.keel.persistence.EntityAudit<>(
          ENTITY_TYPE,
          Event.class,
          new Empty(),
          Schedule::apply,
          (id, s) -> s instanceof Active a ? Optional.of(viewOf(id, a)) : Optional.empty());

  /** This entity type as the node declares it: sharding key, audit, snapshots on demand. */
  public static final EntityKind<Command> KIND =
      new EntityKind<>(ENTITY_KEY, AUDIT, SaveSnapshot::new);

  static ScheduleView viewOf(String scheduleId, Active s) {
    ScheduleDefinition d = s.def();
    TickFailure f = s.failing();
    return new ScheduleView(
        scheduleId,
        d.workflow(),
        d.cron(),
        d.timezone(),
        d.input(),
        d.paused(),
        d.tenantId(),
        s.nextRunAt(),
        s.lastRunWorkflowId(),
        s.lastRunAt(),
        s.createdAt(),
        s.updatedAt(),
        f == null ? null : f.error(),
        f == null ? null : f.at(),
        f == null ? 0 : f.failures(),
        f == null ? null : f.retryAt());
  }

  // ---------------------------------------------------------------- event handler (pure)

  @Override
  public EventHandler<State, Event> eventHandler() {
    return Schedule::apply;
  }

  /** The state after {@code event}: a pure function, also used to rebuild past states for audit. */
  public static State apply(State state, Event event) {
    if (event instanceof SnapshotRequested) return state;
    if (state instanceof Active a) {
      if (event instanceof ScheduleUpdated e) {
        // The failing tick stays due only when the timing did not move it; the new definition is
        // tried at once.
        TickFailure f = a.failing();
        TickFailure failing =
            f != null && Objects.equals(e.nextRunAt(), a.nextRunAt())
                ? new TickFailure(f.tick(), f.error(), f.at(), f.failures(), e.at())
                : null;
        return new Active(
            e.def(),
            a.createdAt(),
            e.at(),
            e.nextRunAt(),
            a.lastRunWorkflowId(),
            a.lastRunAt(),
            failing);
      }
      if (event instanceof ScheduleTicked e) {
        return new Active(
            a.def(), a.createdAt(), a.updatedAt(), e.nextRunAt(), e.workflowId(), e.tick(), null);
      }
      if (event instanceof ScheduleTickFailed e) {
        int failures = a.failing() == null ? 1 : a.failing().failures() + 1;
        return new Active(
            a.def(),
            a.createdAt(),
            a.updatedAt(),
            a.nextRunAt(),
            a.lastRunWorkflowId(),
            a.lastRunAt(),
            new TickFailure(e.tick(), e.error(), e.at(), failures, e.retryAt()));
      }
      if (event instanceof ScheduleDeleted e) return new Deleted(e.at());
    } else if (event instanceof ScheduleDefined e) {
      return new Active(e.def(), e.at(), e.at(), e.nextRunAt(), null, null, null);
    }
    throw new IllegalStateException(
        "unexpected event "
            + event.getClass().getSimpleName()
            + " in state "
            + state.getClass().getSimpleName());
  }
}
