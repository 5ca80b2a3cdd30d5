package dev.keel.registry.service;

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
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
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
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReplyBuilderByState;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One registered service: its registration, its health and its TTL.
 *
 * <p>The journal holds what must survive a restart: the registration and its changes, every health
 * transition ({@code healthy → stale}, {@code unhealthy → healthy} …) and the deregistration.
 * Heartbeats themselves are not journaled unless they change the status: the time of the last one,
 * its metrics and its details live in this entity's memory only (the lesson Kubernetes learned with
 * node leases: a write per heartbeat is what a registry must not do).
 *
 * <p>TTL: a service whose last heartbeat (registration counts as one) is more than {@code
 * ttlSeconds} old turns {@code stale}, journaled when it happens. After a restart or a fail-over
 * the last heartbeat time is unknown, so the TTL clock restarts at recovery: the control plane's
 * own outage gives every service one TTL of grace instead of flipping all of them stale. Services
 * are remembered entities, so that TTL detection resumes on another node when the one holding them
 * dies; a deregistered service leaves memory and is forgotten.
 */
public final class RegisteredService
    extends SnapshottedEntity<
        RegisteredService.Command, RegisteredService.Event, RegisteredService.State> {

  public static final EntityTypeKey<Command> ENTITY_KEY =
      EntityTypeKey.create(Command.class, "service");

  /** Entity type name in persistence ids and tags; never changes. */
  public static final String ENTITY_TYPE = "service";

  private static final Logger log = LoggerFactory.getLogger(RegisteredService.class);

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
            @JsonSubTypes.Type(
                value = Register.class,
                name = "dev.keel.registry.service.RegisteredService$Register"),
            @JsonSubTypes.Type(
                value = Heartbeat.class,
                name = "dev.keel.registry.service.RegisteredService$Heartbeat"),
            @JsonSubTypes.Type(
                value = Get.class,
                name = "dev.keel.registry.service.RegisteredService$Get"),
            @JsonSubTypes.Type(
                value = Deregister.class,
                name = "dev.keel.registry.service.RegisteredService$Deregister")
          })
          Command command)
      implements Command, RequestScope.Traced<Command> {}

  /** Snapshot now (POST /api/v1/admin/snapshots); answered once the snapshot is stored. */
  public record SaveSnapshot(ActorRef<StatusReply<Done>> replyTo) implements Command {}

  /*
   * asTenant in the commands below is the calling tenant, or null for the admin: a tenant's command
   * on another tenant's service is answered as if the service did not exist (a registration: as if
   * the id were in use), so that ids don't leak across tenants.
   */

  /**
   * Register, or change the registration; the same definition again changes nothing but counts as a
   * heartbeat.
   */
  public record Register(
      ServiceDefinition def, String asTenant, ActorRef<StatusReply<RegisterResult>> replyTo)
      implements Command {}

  public record Heartbeat(
      HeartbeatReport report, String asTenant, ActorRef<StatusReply<HeartbeatAck>> replyTo)
      implements Command {}

  public record Get(String asTenant, ActorRef<StatusReply<ServiceView>> replyTo)
      implements Command {}

  public record Deregister(String asTenant, ActorRef<StatusReply<Done>> replyTo)
      implements Command {}

  /** Local (timer, or a test after moving its clock): the TTL may have run out. */
  public record CheckTtl() implements Command {}

  /** Local (timer, or a test): a stale service may be due for automatic deregistration. */
  public record CheckDeregister() implements Command {}

  // ---------------------------------------------------------------- values

  /**
   * What a client registers. {@code deregisterAfterSeconds} (optional) removes the service once it
   * has been stale that long; {@code tenantId} is null for services registered with the admin
   * token.
   */
  public record ServiceDefinition(
      String name,
      String type,
      String endpoint,
      Map<String, String> metadata,
      int ttlSeconds,
      Integer deregisterAfterSeconds,
      String tenantId) {
    public ServiceDefinition {
      // Sorted, so that equal metadata compares equal after a round trip through JSON.
      metadata =
          metadata == null
              ? Map.of()
              : java.util.Collections.unmodifiableMap(new TreeMap<>(metadata));
    }
  }

  /** A heartbeat: a null status means healthy; metrics and details may be empty. */
  public record HeartbeatReport(
      String status, Map<String, Double> metrics, Map<String, String> details) {
    public HeartbeatReport {
      metrics =
          metrics == null
              ? Map.of()
              : java.util.Collections.unmodifiableMap(new TreeMap<>(metrics));
      details =
          details == null
              ? Map.of()
              : java.util.Collections.unmodifiableMap(new TreeMap<>(details));
    }

    String effectiveStatus() {
      return status == null ? "healthy" : status;
    }
  }

  public record RegisterResult(boolean created, ServiceView view) implements KeelSerializable {}

  public record HeartbeatAck(String status, int ttlSeconds, Instant nextHeartbeatBefore)
      implements KeelSerializable {}

  /**
   * A service as the API shows it. {@code lastHeartbeatAt}, {@code metrics} and {@code details} are
   * null/empty after a restart of the control plane until the service's next heartbeat (they are
   * not journaled).
   */
  public record ServiceView(
      String id,
      String name,
      String type,
      String endpoint,
      Map<String, String> metadata,
      String status,
      Instant registeredAt,
      Instant lastHeartbeatAt,
      Map<String, Double> metrics,
      Map<String, String> details,
      int ttlSeconds,
      Integer deregisterAfterSeconds,
      Instant statusSince,
      Instant nextHeartbeatBefore,
      String tenantId,
      Instant updatedAt)
      implements KeelSerializable {}

  // ---------------------------------------------------------------- events

  /** What the journal stores; {@link Visitor} names every kind, so a new one must be handled. */
  public sealed interface Event extends KeelSerializable {
    <R> R accept(Visitor<R> visitor);

    /** One method per event type: the compiler finds a handler that misses one. */
    interface Visitor<R> {
      R on(SnapshotRequested e);

      R on(ServiceRegistered e);

      R on(ServiceUpdated e);

      R on(StatusChanged e);

      R on(ServiceDeregistered e);
    }
  }

  /** Marks a snapshot taken on demand; changes nothing. */
  public record SnapshotRequested(Instant at) implements Event, EntitySnapshots.Request {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.on(this);
    }
  }

  public record ServiceRegistered(ServiceDefinition def, Instant at) implements Event {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.on(this);
    }
  }

  public record ServiceUpdated(ServiceDefinition def, Instant at) implements Event {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.on(this);
    }
  }

  /**
   * A health transition, with why ({@code heartbeat}, {@code registered}, {@code no heartbeat
   * within 30s}).
   */
  public record StatusChanged(String from, String to, String reason, Instant at) implements Event {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.on(this);
    }
  }

  /**
   * Gone: by a client ({@code automatic} false) or after being stale for {@code
   * deregisterAfterSeconds}.
   */
  public record ServiceDeregistered(boolean automatic, String reason, Instant at) implements Event {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.on(this);
    }
  }

  // ---------------------------------------------------------------- state

  public sealed interface State extends KeelSerializable {}

  /** Never registered. */
  public record Empty() implements State {}

  public record Registered(
      ServiceDefinition def,
      String status,
      Instant registeredAt,
      Instant updatedAt,
      Instant statusSince)
      implements State {}

  /** Deregistered; a new registration brings it back. */
  public record Deregistered(Instant at, boolean automatic) implements State {}

  // ---------------------------------------------------------------- wiring

  /** Starts sharding for services; remembered, so that TTLs keep running when a node dies. */
  public static void init(ActorSystem<?> system, ServiceObserver observer, Clock clock) {
    init(system, observer, clock, ControlPlaneCalm.ALWAYS);
  }

  /** As above; {@code calm} tells the TTL check when the cluster was last disturbed. */
  public static void init(
      ActorSystem<?> system, ServiceObserver observer, Clock clock, ControlPlaneCalm calm) {
    init(system, observer, clock, calm, ServiceMetrics.NONE);
  }

  /** As above, counting heartbeats and transitions into {@code metrics}. */
  public static void init(
      ActorSystem<?> system,
      ServiceObserver observer,
      Clock clock,
      ControlPlaneCalm calm,
      ServiceMetrics metrics) {
    EntityRuntime.start(
        system,
        KIND,
        EntityRuntime.Remembered.YES,
        place -> new RegisteredService(place, observer, clock, calm, metrics));
  }

  public static PersistenceId persistenceId(String serviceId) {
    return PersistenceId.of(ENTITY_TYPE, serviceId);
  }

  public static Behavior<Command> create(String serviceId, ServiceObserver observer, Clock clock) {
    return create(serviceId, observer, clock, ControlPlaneCalm.ALWAYS);
  }

  public static Behavior<Command> create(
      String serviceId, ServiceObserver observer, Clock clock, ControlPlaneCalm calm) {
    return EntityRuntime.unsharded(
        serviceId,
        place -> new RegisteredService(place, observer, clock, calm, ServiceMetrics.NONE));
  }

  // ---------------------------------------------------------------- runtime (not journaled)

  private final String serviceId;
  private final ServiceObserver observer;
  private final Clock clock;
  private final ServiceMetrics serviceMetrics;

  /** What heartbeats left in memory, and the TTL and deregistration timers. */
  private final ServiceLiveness liveness;

  private RegisteredService(
      EntityPlace<Command> place,
      ServiceObserver observer,
      Clock clock,
      ControlPlaneCalm calm,
      ServiceMetrics serviceMetrics) {
    super(place, ENTITY_TYPE, persistenceId(place.entityId()));
    this.serviceId = place.entityId();
    this.observer = observer;
    this.clock = clock;
    this.serviceMetrics = serviceMetrics;
    this.liveness = new ServiceLiveness(serviceId, timers, clock, calm);
  }

  @Override
  public State emptyState() {
    return new Empty();
  }

  @Override
  protected void onRecovered(State state) {
    if (!(state instanceof Registered r)) return;
    Instant now = clock.instant();
    liveness.recovered(r, now);
    observer.observe(liveness.observation(r, now));
  }

  // ---------------------------------------------------------------- command handlers

  @Override
  protected CommandHandlerWithReply<Command, Event, State> commands() {
    CommandHandlerWithReplyBuilder<Command, Event, State> b = newCommandHandlerWithReplyBuilder();
    absent(b.forStateType(Empty.class));
    absent(b.forStateType(Deregistered.class));
    b.forStateType(Registered.class)
        .onCommand(Register.class, this::reregister)
        .onCommand(
            Heartbeat.class,
            (s, c) -> ownedBy(s, c.asTenant()) ? heartbeat(s, c) : hidden(c.replyTo()))
        .onCommand(
            Get.class,
            (s, c) ->
                ownedBy(s, c.asTenant())
                    ? Effect().reply(c.replyTo(), StatusReply.success(view(s)))
                    : hidden(c.replyTo()))
        .onCommand(
            Deregister.class,
            (s, c) -> ownedBy(s, c.asTenant()) ? deregister(s, c) : hidden(c.replyTo()))
        .onCommand(CheckTtl.class, this::checkTtl)
        .onCommand(CheckDeregister.class, this::checkDeregister);
    b.forAnyState()
        .onCommand(
            SaveSnapshot.class,
            (s, c) ->
                saveSnapshot(
                    !(s instanceof Empty), new SnapshotRequested(clock.instant()), c.replyTo()));
    return b.build();
  }

  private <S extends State> void absent(
      CommandHandlerWithReplyBuilderByState<Command, Event, S, State> b) {
    b.onCommand(Register.class, (s, c) -> register(c))
        .onCommand(Heartbeat.class, (s, c) -> notRegistered(c.replyTo()))
        .onCommand(Get.class, (s, c) -> notRegistered(c.replyTo()))
        .onCommand(
            Deregister.class,
            (s, c) ->
                s instanceof Deregistered
                    // Already gone: a retried DELETE gets the same answer as the first.
                    ? Effect()
                        .none()
                        .thenRun(x -> passivate())
                        .thenReply(c.replyTo(), x -> StatusReply.success(Done.getInstance()))
                    : notRegistered(c.replyTo()))
        // A timer that outlived the registration: nothing to check.
        .onCommand(CheckTtl.class, (s, c) -> Effect().noReply())
        .onCommand(CheckDeregister.class, (s, c) -> Effect().noReply());
  }

  private static boolean ownedBy(Registered state, String asTenant) {
    return asTenant == null || asTenant.equals(state.def().tenantId());
  }

  /** Another tenant's service: answered as unknown, but it stays in memory with its TTL running. */
  private <R> ReplyEffect<Event, State> hidden(ActorRef<StatusReply<R>> replyTo) {
    return Effect().reply(replyTo, Rejection.notFound(notRegisteredDetail()));
  }

  private String notRegisteredDetail() {
    return notRegisteredDetail(serviceId);
  }

  /** The not-found detail of a service, also answered by the façade for ids never registered. */
  public static String notRegisteredDetail(String serviceId) {
    return "service '"
        + serviceId
        + "' is not registered; register it first with PUT /api/v1/services/"
        + serviceId;
  }

  private <R> ReplyEffect<Event, State> notRegistered(ActorRef<StatusReply<R>> replyTo) {
    // Nothing to keep in memory (or remembered) for an id that is not registered.
    return Effect()
        .none()
        .thenRun(s -> passivate())
        .thenReply(replyTo, s -> Rejection.notFound(notRegisteredDetail()));
  }

  private ReplyEffect<Event, State> register(Register c) {
    List<FieldProblem> problems = ServiceRules.problems(c.def());
    if (!problems.isEmpty()) {
      return Effect()
          .none()
          .thenRun(s -> passivate())
          .thenReply(c.replyTo(), s -> Rejection.invalid(ServiceRules.describe(problems)));
    }
    Instant now = clock.instant();
    return Effect()
        .persist(new ServiceRegistered(c.def(), now))
        .thenRun(
            s -> {
              log.info(
                  "service registered serviceId={} type={} ttlSeconds={} tenantId={}",
                  serviceId,
                  c.def().type(),
                  c.def().ttlSeconds(),
                  c.def().tenantId());
              heard(now, Map.of(), Map.of(), (Registered) s);
            })
        .thenReply(
            c.replyTo(), s -> StatusReply.success(new RegisterResult(true, view((Registered) s))));
  }

  /**
   * Re-registration counts as a heartbeat, healthy: a process that restarted says so by
   * registering.
   */
  private ReplyEffect<Event, State> reregister(Registered state, Register given) {
    if (!ownedBy(state, given.asTenant())) {
      return Effect()
          .reply(
              given.replyTo(),
              Rejection.conflict("service id '" + serviceId + "' is in use; choose another id"));
    }
    // The admin re-registering a tenant's service without naming a tenant keeps its owner.
    Register c =
        given.asTenant() == null && given.def().tenantId() == null && state.def().tenantId() != null
            ? new Register(withTenant(given.def(), state.def().tenantId()), null, given.replyTo())
            : given;
    List<FieldProblem> problems = ServiceRules.problems(c.def());
    if (!problems.isEmpty())
      return Effect().reply(c.replyTo(), Rejection.invalid(ServiceRules.describe(problems)));
    Instant now = clock.instant();
    List<Event> events = new java.util.ArrayList<>(2);
    if (!c.def().equals(state.def())) events.add(new ServiceUpdated(c.def(), now));
    if (!state.status().equals("healthy"))
      events.add(new StatusChanged(state.status(), "healthy", "registered", now));
    if (events.isEmpty()) {
      heard(now, Map.of(), Map.of(), state);
      return Effect()
          .reply(c.replyTo(), StatusReply.success(new RegisterResult(false, view(state))));
    }
    return Effect()
        .persist(events)
        .thenRun(
            s -> {
              log.info(
                  "service re-registered serviceId={} type={} ttlSeconds={} changed={}"
                      + " statusWas={}",
                  serviceId,
                  c.def().type(),
                  c.def().ttlSeconds(),
                  !c.def().equals(state.def()),
                  state.status());
              if (!state.status().equals("healthy")) serviceMetrics.transition("healthy");
              heard(now, Map.of(), Map.of(), (Registered) s);
            })
        .thenReply(
            c.replyTo(), s -> StatusReply.success(new RegisterResult(false, view((Registered) s))));
  }

  private static ServiceDefinition withTenant(ServiceDefinition d, String tenantId) {
    return new ServiceDefinition(
        d.name(),
        d.type(),
        d.endpoint(),
        d.metadata(),
        d.ttlSeconds(),
        d.deregisterAfterSeconds(),
        tenantId);
  }

  private ReplyEffect<Event, State> heartbeat(Registered state, Heartbeat c) {
    List<FieldProblem> problems = ServiceRules.problems(c.report());
    if (!problems.isEmpty())
      return Effect().reply(c.replyTo(), Rejection.invalid(ServiceRules.describe(problems)));
    Instant now = clock.instant();
    serviceMetrics.heartbeat();
    String status = c.report().effectiveStatus();
    if (status.equals(state.status())) {
      // The common case, thousands a second: memory only, no journal write.
      heard(now, c.report().metrics(), c.report().details(), state);
      return Effect().reply(c.replyTo(), StatusReply.success(ack(state)));
    }
    return Effect()
        .persist(new StatusChanged(state.status(), status, "heartbeat", now))
        .thenRun(
            s -> {
              log.info(
                  "service status changed serviceId={} from={} to={} reason=heartbeat",
                  serviceId,
                  state.status(),
                  status);
              serviceMetrics.transition(status);
              heard(now, c.report().metrics(), c.report().details(), (Registered) s);
            })
        .thenReply(c.replyTo(), s -> StatusReply.success(ack((Registered) s)));
  }

  private ReplyEffect<Event, State> deregister(Registered state, Deregister c) {
    return Effect()
        .persist(new ServiceDeregistered(false, "deregistered by a client", clock.instant()))
        .thenRun(
            s -> {
              log.info("service deregistered serviceId={} automatic=false", serviceId);
              gone(state);
            })
        .thenReply(c.replyTo(), s -> StatusReply.success(Done.getInstance()));
  }

  private ReplyEffect<Event, State> checkTtl(Registered state, CheckTtl c) {
    Instant now = clock.instant();
    if (!liveness.ttlRanOut(state, now)) return Effect().noReply();
    String reason = "no heartbeat within " + state.def().ttlSeconds() + "s";
    return Effect()
        .persist(new StatusChanged(state.status(), "stale", reason, now))
        .thenRun(
            s -> {
              log.info(
                  "service status changed serviceId={} from={} to=stale reason=ttl ttlSeconds={}"
                      + " lastHeartbeatAt={}",
                  serviceId,
                  state.status(),
                  state.def().ttlSeconds(),
                  liveness.lastHeartbeatAt());
              serviceMetrics.transition("stale");
              Registered stale = (Registered) s;
              liveness.becameStale(stale);
              observer.observe(liveness.observation(stale, now));
            })
        .thenNoReply();
  }

  private ReplyEffect<Event, State> checkDeregister(Registered state, CheckDeregister c) {
    Instant now = clock.instant();
    if (!liveness.deregistrationDue(state, now)) return Effect().noReply();
    String reason = "stale for more than " + state.def().deregisterAfterSeconds() + "s";
    return Effect()
        .persist(new ServiceDeregistered(true, reason, now))
        .thenRun(
            s -> {
              log.info(
                  "service deregistered serviceId={} automatic=true reason='{}'",
                  serviceId,
                  reason);
              gone(state);
            })
        .thenNoReply();
  }

  // ---------------------------------------------------------------- runtime helpers

  /** A heartbeat (or registration) arrived: remember it, and tell the observer. */
  private void heard(
      Instant now,
      Map<String, Double> newMetrics,
      Map<String, String> newDetails,
      Registered state) {
    liveness.heard(now, newMetrics, newDetails, state);
    observer.observe(liveness.observation(state, now));
  }

  private void gone(Registered state) {
    liveness.forget();
    observer.gone(serviceId, state.def().tenantId());
    passivate();
  }

  private void passivate() {
    shard.ifPresent(sh -> sh.tell(new ClusterSharding.Passivate<>(context.getSelf())));
  }

  private HeartbeatAck ack(Registered s) {
    return liveness.ack(s);
  }

  private ServiceView view(Registered s) {
    return liveness.view(s);
  }

  /**
   * How audit replays services: this entity's own handler; heartbeats are not journaled, so a past
   * view has none.
   */
  public static final dev.keel.persistence.EntityAudit<State, Event> AUDIT =
      new dev.keel.persistence.EntityAudit<>(
          ENTITY_TYPE,
          Event.class,
          new Empty(),
          RegisteredService::apply,
          (id, s) ->
              s instanceof Registered r
                  ? Optional.of(ServiceViews.of(id, r, null, Map.of(), Map.of(), null))
                  : Optional.empty());

  /** This entity type as the node declares it: sharding key, audit, snapshots on demand. */
  public static final EntityKind<Command> KIND =
      new EntityKind<>(ENTITY_KEY, AUDIT, SaveSnapshot::new);

  // ---------------------------------------------------------------- event handler (pure)

  @Override
  public EventHandler<State, Event> eventHandler() {
    return RegisteredService::apply;
  }

  /** The state after {@code event}: a pure function, also used to rebuild past states for audit. */
  public static State apply(State state, Event event) {
    return event.accept(new Transition(state));
  }

  /** What each event makes of {@code state}; an event the state cannot take fails recovery. */
  private record Transition(State state) implements Event.Visitor<State> {

    private Registered registered(Event event) {
      if (state instanceof Registered r) return r;
      throw new UnexpectedEvent(state, event);
    }

    @Override
    public State on(SnapshotRequested e) {
      return state;
    }

    @Override
    public State on(ServiceRegistered e) {
      if (state instanceof Registered) throw new UnexpectedEvent(state, e);
      // Registered afresh (also after a deregistration): healthy until a heartbeat says otherwise.
      return new Registered(e.def(), "healthy", e.at(), e.at(), e.at());
    }

    @Override
    public State on(ServiceUpdated e) {
      Registered r = registered(e);
      return new Registered(e.def(), r.status(), r.registeredAt(), e.at(), r.statusSince());
    }

    @Override
    public State on(StatusChanged e) {
      Registered r = registered(e);
      return new Registered(r.def(), e.to(), r.registeredAt(), r.updatedAt(), e.at());
    }

    @Override
    public State on(ServiceDeregistered e) {
      registered(e);
      return new Deregistered(e.at(), e.automatic());
    }
  }
}
