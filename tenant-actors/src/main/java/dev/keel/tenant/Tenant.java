package dev.keel.tenant;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import dev.keel.persistence.EntityKind;
import dev.keel.persistence.EntityPlace;
import dev.keel.persistence.EntityRuntime;
import dev.keel.persistence.EntitySnapshots;
import dev.keel.persistence.KeelSerializable;
import dev.keel.persistence.Rejection;
import dev.keel.persistence.RequestScope;
import dev.keel.persistence.SnapshottedEntity;
import dev.keel.persistence.UnexpectedEvent;
import dev.keel.workflow.execution.WorkflowStarter;
import java.time.Clock;
import java.time.Instant;
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
 * One tenant: its profile, plan, default domain and the hash of its API key, through the lifecycle
 * {@code provisioning → active → suspended ⇄ active → deleting → deleted} (each a state type).
 *
 * <p>{@link TenantCreated} carries the tenant, its default domain and its first key's hash in one
 * event, so the three exist together or not at all. Provisioning and deprovisioning run as durable
 * workflows ({@value #PROVISIONING_WORKFLOW}, {@value #DEPROVISIONING_WORKFLOW}) started by this
 * entity with a deterministic id, right after the event and again whenever the entity recovers in
 * {@code provisioning} or {@code deleting}: the start is idempotent by id, so a node lost between
 * the event and the start loses nothing. The workflows report back with {@link Activate} and {@link
 * MarkDeleted}. Tenants are remembered entities so that this happens without a request.
 */
public final class Tenant extends SnapshottedEntity<Tenant.Command, Tenant.Event, Tenant.State> {

  public static final EntityTypeKey<Command> ENTITY_KEY =
      EntityTypeKey.create(Command.class, "tenant");
  public static final String ENTITY_TYPE = "tenant";
  public static final String PROVISIONING_WORKFLOW = "tenant-provisioning";
  public static final String DEPROVISIONING_WORKFLOW = "tenant-deprovisioning";

  private static final Logger log = LoggerFactory.getLogger(Tenant.class);

  // ---------------------------------------------------------------- commands

  public sealed interface Command extends KeelSerializable {}

  /** {@code command}, sent on behalf of request {@code requestId} (see {@link RequestScope}). */
  public record Traced(
      String requestId,
      @JsonInclude(JsonInclude.Include.NON_NULL) String traceParent,
      // Named, not by class: only the commands the façade sends on behalf of a request cross in
      // here, under the names (their class names) that nodes of earlier versions write and read.
      @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "@class")
          @JsonSubTypes({
            @JsonSubTypes.Type(value = Create.class, name = "dev.keel.tenant.Tenant$Create"),
            @JsonSubTypes.Type(value = Get.class, name = "dev.keel.tenant.Tenant$Get"),
            @JsonSubTypes.Type(value = Suspend.class, name = "dev.keel.tenant.Tenant$Suspend"),
            @JsonSubTypes.Type(
                value = Reactivate.class,
                name = "dev.keel.tenant.Tenant$Reactivate"),
            @JsonSubTypes.Type(value = Delete.class, name = "dev.keel.tenant.Tenant$Delete"),
            @JsonSubTypes.Type(value = RotateKey.class, name = "dev.keel.tenant.Tenant$RotateKey")
          })
          Command command)
      implements Command, RequestScope.Traced<Command> {}

  /** Snapshot now (POST /api/v1/admin/snapshots); answered once the snapshot is stored. */
  public record SaveSnapshot(ActorRef<StatusReply<Done>> replyTo) implements Command {}

  public record Create(
      TenantProfile profile, String keyHash, ActorRef<StatusReply<TenantView>> replyTo)
      implements Command {}

  public record Get(ActorRef<StatusReply<TenantView>> replyTo) implements Command {}

  /**
   * Is {@code keyHash} this tenant's key? The hash, not the key, travels: a message can end up in a
   * dead-letter log line.
   */
  public record CheckKey(String keyHash, ActorRef<KeyCheck> replyTo) implements Command {}

  public record Suspend(String reason, ActorRef<StatusReply<TenantView>> replyTo)
      implements Command {}

  public record Reactivate(ActorRef<StatusReply<TenantView>> replyTo) implements Command {}

  /** Start deleting: the deprovisioning workflow runs, then {@link MarkDeleted}. */
  public record Delete(ActorRef<StatusReply<TenantView>> replyTo) implements Command {}

  public record RotateKey(String keyHash, ActorRef<StatusReply<TenantView>> replyTo)
      implements Command {}

  /** From the provisioning workflow: every downstream service has the tenant. */
  public record Activate(ActorRef<StatusReply<TenantView>> replyTo) implements Command {}

  /** From the deprovisioning workflow: nothing of the tenant is left downstream. */
  public record MarkDeleted(ActorRef<StatusReply<TenantView>> replyTo) implements Command {}

  /** Local: (re)start the workflow that the current state waits for. */
  public record StartLifecycleWorkflow() implements Command {}

  /** Local: the lifecycle workflow's start answered. */
  public record LifecycleWorkflowStarted(String workflowId, boolean ok, String failure)
      implements Command {}

  // ---------------------------------------------------------------- values

  /**
   * What identifies and describes a tenant; {@code defaultDomain} is {@code <slug>.<root domain>}.
   */
  public record TenantProfile(String slug, String name, String plan, String defaultDomain) {}

  /** The answer to {@link CheckKey}. */
  public record KeyCheck(Outcome outcome, String status) implements KeelSerializable {
    public enum Outcome {
      VALID,
      WRONG_KEY,
      SUSPENDED,
      DELETING,
      UNKNOWN_TENANT
    }
  }

  /** A tenant as the API shows it: never its key or the key's hash. */
  public record TenantView(
      String id,
      String slug,
      String name,
      String plan,
      String status,
      String defaultDomain,
      String suspendedReason,
      String lifecycleWorkflowId,
      Instant keyRotatedAt,
      Instant createdAt,
      Instant updatedAt)
      implements KeelSerializable {}

  // ---------------------------------------------------------------- events

  /** What the journal stores; {@link Visitor} names every kind, so a new one must be handled. */
  public sealed interface Event extends KeelSerializable {
    <R> R accept(Visitor<R> visitor);

    /** One method per event type: the compiler finds a handler that misses one. */
    interface Visitor<R> {
      R on(SnapshotRequested e);

      R on(TenantCreated e);

      R on(TenantActivated e);

      R on(TenantSuspended e);

      R on(TenantReactivated e);

      R on(TenantDeletionStarted e);

      R on(TenantDeleted e);

      R on(ApiKeyRotated e);
    }
  }

  /** Marks a snapshot taken on demand; changes nothing. */
  public record SnapshotRequested(Instant at) implements Event, EntitySnapshots.Request {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.on(this);
    }
  }

  /** The tenant, its default domain and its first key, in one event. */
  public record TenantCreated(TenantProfile profile, String keyHash, Instant at) implements Event {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.on(this);
    }
  }

  public record TenantActivated(Instant at) implements Event {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.on(this);
    }
  }

  public record TenantSuspended(String reason, Instant at) implements Event {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.on(this);
    }
  }

  public record TenantReactivated(Instant at) implements Event {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.on(this);
    }
  }

  public record TenantDeletionStarted(Instant at) implements Event {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.on(this);
    }
  }

  public record TenantDeleted(Instant at) implements Event {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.on(this);
    }
  }

  /** The old key stops working with this event. */
  public record ApiKeyRotated(String keyHash, Instant at) implements Event {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.on(this);
    }
  }

  // ---------------------------------------------------------------- state

  public sealed interface State extends KeelSerializable {}

  public record Empty() implements State {}

  /** What every live state holds. */
  public record TenantRecord(
      TenantProfile profile,
      String keyHash,
      Instant createdAt,
      Instant updatedAt,
      Instant keyRotatedAt) {
    TenantRecord touched(Instant at) {
      return new TenantRecord(profile, keyHash, createdAt, at, keyRotatedAt);
    }
  }

  public record Provisioning(TenantRecord tenant) implements State {}

  public record Active(TenantRecord tenant) implements State {}

  public record Suspended(TenantRecord tenant, String reason) implements State {}

  public record Deleting(TenantRecord tenant) implements State {}

  /** Gone: the key no longer works and the slug is free. */
  public record Deleted(TenantRecord tenant) implements State {}

  // ---------------------------------------------------------------- wiring

  public static void init(ActorSystem<?> system, WorkflowStarter starter, Clock clock) {
    EntityRuntime.start(
        system, KIND, EntityRuntime.Remembered.YES, place -> new Tenant(place, starter, clock));
  }

  public static PersistenceId persistenceId(String tenantId) {
    return PersistenceId.of(ENTITY_TYPE, tenantId);
  }

  public static Behavior<Command> create(String tenantId, WorkflowStarter starter, Clock clock) {
    return EntityRuntime.unsharded(tenantId, place -> new Tenant(place, starter, clock));
  }

  public static String provisioningWorkflowId(String tenantId) {
    return PROVISIONING_WORKFLOW + "." + tenantId;
  }

  public static String deprovisioningWorkflowId(String tenantId) {
    return DEPROVISIONING_WORKFLOW + "." + tenantId;
  }

  private final String tenantId;
  private final LifecycleWorkflows lifecycle;
  private final Clock clock;

  private Tenant(EntityPlace<Command> place, WorkflowStarter starter, Clock clock) {
    super(place, ENTITY_TYPE, persistenceId(place.entityId()));
    this.tenantId = place.entityId();
    this.lifecycle = new LifecycleWorkflows(tenantId, starter, context, timers);
    this.clock = clock;
  }

  @Override
  public State emptyState() {
    return new Empty();
  }

  @Override
  protected void onRecovered(State state) {
    if (state instanceof Provisioning || state instanceof Deleting)
      context.getSelf().tell(new StartLifecycleWorkflow());
  }

  // ---------------------------------------------------------------- command handlers

  @Override
  protected CommandHandlerWithReply<Command, Event, State> commands() {
    CommandHandlerWithReplyBuilder<Command, Event, State> b = newCommandHandlerWithReplyBuilder();
    // First: Empty's catch-all below would swallow it.
    b.forAnyState()
        .onCommand(
            SaveSnapshot.class,
            (s, c) ->
                saveSnapshot(
                    !(s instanceof Empty), new SnapshotRequested(clock.instant()), c.replyTo()));
    b.forStateType(Empty.class)
        .onCommand(Create.class, this::create)
        .onCommand(
            CheckKey.class,
            (s, c) ->
                Effect().reply(c.replyTo(), new KeyCheck(KeyCheck.Outcome.UNKNOWN_TENANT, null)))
        .onCommand(StartLifecycleWorkflow.class, (s, c) -> Effect().noReply())
        .onCommand(LifecycleWorkflowStarted.class, (s, c) -> Effect().noReply())
        .onAnyCommand(this::notFoundOrIgnore);
    b.forStateType(Provisioning.class)
        .onCommand(
            Activate.class,
            (s, c) -> persistAndView(new TenantActivated(now()), c.replyTo(), "tenant active"))
        .onCommand(Delete.class, (s, c) -> startDeleting(c))
        .onCommand(RotateKey.class, (s, c) -> rotate(c))
        .onCommand(Suspend.class, (s, c) -> illegal(s, "suspend", c.replyTo()))
        .onCommand(Reactivate.class, (s, c) -> illegal(s, "reactivate", c.replyTo()))
        .onCommand(MarkDeleted.class, (s, c) -> illegal(s, "mark deleted", c.replyTo()));
    b.forStateType(Active.class)
        .onCommand(
            Activate.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.success(view(s))))
        .onCommand(
            Suspend.class,
            (s, c) ->
                persistAndView(
                    new TenantSuspended(reason(c.reason()), now()),
                    c.replyTo(),
                    "tenant suspended"))
        .onCommand(Delete.class, (s, c) -> startDeleting(c))
        .onCommand(RotateKey.class, (s, c) -> rotate(c))
        .onCommand(
            Reactivate.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.success(view(s))))
        .onCommand(MarkDeleted.class, (s, c) -> illegal(s, "mark deleted", c.replyTo()));
    b.forStateType(Suspended.class)
        .onCommand(
            Reactivate.class,
            (s, c) ->
                persistAndView(new TenantReactivated(now()), c.replyTo(), "tenant reactivated"))
        .onCommand(
            Suspend.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.success(view(s))))
        .onCommand(Delete.class, (s, c) -> startDeleting(c))
        .onCommand(RotateKey.class, (s, c) -> rotate(c))
        .onCommand(
            Activate.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.success(view(s))))
        .onCommand(MarkDeleted.class, (s, c) -> illegal(s, "mark deleted", c.replyTo()));
    b.forStateType(Deleting.class)
        .onCommand(
            MarkDeleted.class,
            (s, c) -> persistAndView(new TenantDeleted(now()), c.replyTo(), "tenant deleted"))
        .onCommand(
            Delete.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.success(view(s))))
        .onCommand(Activate.class, (s, c) -> illegal(s, "activate", c.replyTo()))
        .onCommand(Suspend.class, (s, c) -> illegal(s, "suspend", c.replyTo()))
        .onCommand(Reactivate.class, (s, c) -> illegal(s, "reactivate", c.replyTo()))
        .onCommand(RotateKey.class, (s, c) -> illegal(s, "rotate the key of", c.replyTo()));
    b.forStateType(Deleted.class)
        .onCommand(
            MarkDeleted.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.success(view(s))))
        .onCommand(
            Delete.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.success(view(s))))
        .onCommand(Activate.class, (s, c) -> illegal(s, "activate", c.replyTo()))
        .onCommand(Suspend.class, (s, c) -> illegal(s, "suspend", c.replyTo()))
        .onCommand(Reactivate.class, (s, c) -> illegal(s, "reactivate", c.replyTo()))
        .onCommand(RotateKey.class, (s, c) -> illegal(s, "rotate the key of", c.replyTo()));
    b.forAnyState()
        .onCommand(
            Create.class,
            (s, c) ->
                Effect().reply(c.replyTo(), Rejection.conflict("tenant '" + tenantId + "' exists")))
        .onCommand(Get.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.success(view(s))))
        .onCommand(CheckKey.class, this::checkKey)
        .onCommand(
            StartLifecycleWorkflow.class,
            (s, c) -> {
              lifecycle.start(s);
              return Effect().noReply();
            })
        .onCommand(
            LifecycleWorkflowStarted.class,
            (s, c) -> {
              lifecycle.started(c);
              return Effect().noReply();
            });
    return b.build();
  }

  private ReplyEffect<Event, State> notFoundOrIgnore(State state, Command c) {
    ActorRef<StatusReply<TenantView>> replyTo = replyToOf(c);
    if (replyTo == null) return Effect().noReply();
    return Effect().reply(replyTo, Rejection.notFound("tenant '" + tenantId + "' does not exist"));
  }

  private static ActorRef<StatusReply<TenantView>> replyToOf(Command c) {
    if (c instanceof Get g) return g.replyTo();
    if (c instanceof Suspend s) return s.replyTo();
    if (c instanceof Reactivate r) return r.replyTo();
    if (c instanceof Delete d) return d.replyTo();
    if (c instanceof RotateKey k) return k.replyTo();
    if (c instanceof Activate a) return a.replyTo();
    if (c instanceof MarkDeleted m) return m.replyTo();
    return null;
  }

  private ReplyEffect<Event, State> create(Create c) {
    Instant at = now();
    return Effect()
        .persist(new TenantCreated(c.profile(), c.keyHash(), at))
        .thenRun(
            s -> {
              log.info(
                  "tenant created tenantId={} slug={} plan={} defaultDomain={}",
                  tenantId,
                  c.profile().slug(),
                  c.profile().plan(),
                  c.profile().defaultDomain());
              context.getSelf().tell(new StartLifecycleWorkflow());
            })
        .thenReply(c.replyTo(), s -> StatusReply.success(view(s)));
  }

  private ReplyEffect<Event, State> startDeleting(Delete c) {
    return Effect()
        .persist(new TenantDeletionStarted(now()))
        .thenRun(
            s -> {
              log.info("tenant deletion started tenantId={}", tenantId);
              context.getSelf().tell(new StartLifecycleWorkflow());
            })
        .thenReply(c.replyTo(), s -> StatusReply.success(view(s)));
  }

  private ReplyEffect<Event, State> rotate(RotateKey c) {
    return persistAndView(
        new ApiKeyRotated(c.keyHash(), now()), c.replyTo(), "tenant api key rotated");
  }

  private ReplyEffect<Event, State> persistAndView(
      Event event, ActorRef<StatusReply<TenantView>> replyTo, String logLine) {
    return Effect()
        .persist(event)
        .thenRun(s -> log.info("{} tenantId={} status={}", logLine, tenantId, statusOf(s)))
        .thenReply(replyTo, s -> StatusReply.success(view(s)));
  }

  private ReplyEffect<Event, State> illegal(
      State state, String what, ActorRef<StatusReply<TenantView>> replyTo) {
    return Effect()
        .reply(
            replyTo, Rejection.conflict("cannot " + what + " a tenant that is " + statusOf(state)));
  }

  private ReplyEffect<Event, State> checkKey(State state, CheckKey c) {
    TenantRecord t = record(state);
    KeyCheck.Outcome outcome;
    if (t == null || state instanceof Deleted) {
      outcome = KeyCheck.Outcome.UNKNOWN_TENANT;
    } else if (!java.security.MessageDigest.isEqual(
        c.keyHash().getBytes(java.nio.charset.StandardCharsets.US_ASCII),
        t.keyHash().getBytes(java.nio.charset.StandardCharsets.US_ASCII))) {
      outcome = KeyCheck.Outcome.WRONG_KEY;
    } else if (state instanceof Suspended) {
      outcome = KeyCheck.Outcome.SUSPENDED;
    } else if (state instanceof Deleting) {
      outcome = KeyCheck.Outcome.DELETING;
    } else {
      outcome = KeyCheck.Outcome.VALID;
    }
    return Effect().reply(c.replyTo(), new KeyCheck(outcome, statusOf(state)));
  }

  // ---------------------------------------------------------------- views

  private Instant now() {
    return clock.instant();
  }

  private static String reason(String reason) {
    return reason == null || reason.isBlank() ? "suspended by an administrator" : reason;
  }

  private TenantView view(State state) {
    return TenantViews.of(tenantId, state);
  }

  private static TenantRecord record(State state) {
    return TenantViews.record(state);
  }

  private static String statusOf(State state) {
    return TenantViews.statusOf(state);
  }

  /** How audit replays tenants: this entity's own handler and view (never the key's hash). */
  public static final dev.keel.persistence.EntityAudit<State, Event> AUDIT =
      new dev.keel.persistence.EntityAudit<>(
          ENTITY_TYPE,
          Event.class,
          new Empty(),
          Tenant::apply,
          (id, s) ->
              record(s) == null
                  ? java.util.Optional.empty()
                  : java.util.Optional.of(TenantViews.of(id, s)));

  /** This entity type as the node declares it: sharding key, audit, snapshots on demand. */
  public static final EntityKind<Command> KIND =
      new EntityKind<>(ENTITY_KEY, AUDIT, SaveSnapshot::new);

  // ---------------------------------------------------------------- event handler (pure)

  @Override
  public EventHandler<State, Event> eventHandler() {
    return Tenant::apply;
  }

  /** The state after {@code event}: pure, also used to rebuild past states for audit. */
  public static State apply(State state, Event event) {
    return event.accept(new Transition(state));
  }

  /** What each event makes of {@code state}; an event the state cannot take fails recovery. */
  private record Transition(State state) implements Event.Visitor<State> {

    /** The tenant as {@code state} holds it, when {@code state} is one of {@code types}. */
    @SafeVarargs
    private TenantRecord tenantIn(Event event, Class<? extends State>... types) {
      for (Class<? extends State> type : types) {
        if (type.isInstance(state)) return record(state);
      }
      throw new UnexpectedEvent(state, event);
    }

    @Override
    public State on(SnapshotRequested e) {
      return state;
    }

    @Override
    public State on(TenantCreated e) {
      if (!(state instanceof Empty)) throw new UnexpectedEvent(state, e);
      return new Provisioning(new TenantRecord(e.profile(), e.keyHash(), e.at(), e.at(), null));
    }

    @Override
    public State on(TenantActivated e) {
      return new Active(tenantIn(e, Provisioning.class).touched(e.at()));
    }

    @Override
    public State on(TenantSuspended e) {
      return new Suspended(tenantIn(e, Active.class).touched(e.at()), e.reason());
    }

    @Override
    public State on(TenantReactivated e) {
      return new Active(tenantIn(e, Suspended.class).touched(e.at()));
    }

    @Override
    public State on(TenantDeletionStarted e) {
      TenantRecord t =
          tenantIn(
              e, Provisioning.class, Active.class, Suspended.class, Deleting.class, Deleted.class);
      return new Deleting(t.touched(e.at()));
    }

    @Override
    public State on(TenantDeleted e) {
      return new Deleted(tenantIn(e, Deleting.class).touched(e.at()));
    }

    @Override
    public State on(ApiKeyRotated e) {
      TenantRecord t = tenantIn(e, Provisioning.class, Active.class, Suspended.class);
      TenantRecord rotated =
          new TenantRecord(t.profile(), e.keyHash(), t.createdAt(), e.at(), e.at());
      if (state instanceof Suspended s) return new Suspended(rotated, s.reason());
      return state instanceof Active ? new Active(rotated) : new Provisioning(rotated);
    }
  }
}
