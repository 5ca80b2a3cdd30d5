package dev.keel.registry.alert;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import dev.keel.persistence.EntityAudit;
import dev.keel.persistence.EntityKind;
import dev.keel.persistence.EntityPlace;
import dev.keel.persistence.EntityRuntime;
import dev.keel.persistence.EntitySnapshots;
import dev.keel.persistence.KeelSerializable;
import dev.keel.persistence.Rejection;
import dev.keel.persistence.RequestScope;
import dev.keel.persistence.SnapshottedEntity;
import dev.keel.persistence.UnexpectedEvent;
import dev.keel.persistence.grammar.Ids;
import dev.keel.registry.service.FieldProblem;
import dev.keel.registry.service.ServiceObservation;
import dev.keel.workflow.execution.WorkflowOutcomes;
import dev.keel.workflow.execution.WorkflowStarter;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
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
 * One alert rule: a condition over the health of one service (or of every service, {@code *}), and
 * the webhook to call when it starts to hold.
 *
 * <p><b>Transitions, per service.</b> A service is <i>armed</i> until an {@link Observe} finds the
 * condition holding: the rule then fires ({@link AlertFired}) and the service is <i>triggered</i>;
 * further observations that hold change nothing. An observation that does not hold re-arms it
 * ({@link AlertCleared}). A firing within {@code cooldownSeconds} of the service's previous one is
 * deferred ({@link AlertDeferred}) to the end of the cooldown, and happens then unless an
 * observation cleared the condition meanwhile. Observations that change nothing write nothing: they
 * arrive with every heartbeat of every service.
 *
 * <p><b>Delivery is an outbox.</b> {@link AlertFired} is journaled first; then the rule starts the
 * {@value WebhookDeliveryWorkflow#NAME} workflow with id {@link #deliveryWorkflowId} through the
 * idempotent {@link WorkflowStarter}, and journals {@link DeliveryStarted} once the start is
 * acknowledged. A firing not yet acknowledged is started again after {@link
 * AlertSettings#startRetryBackoff()} and whenever the rule recovers (rules are remembered entities,
 * so that happens on a surviving node when theirs dies): a firing is never lost between its event
 * and its delivery, and never delivered twice (one workflow id per firing, and the receiver gets it
 * as {@code Idempotency-Key}). A start the workflow side refuses for good (the id already taken by
 * another execution, an input it rejects) is recorded as {@link DeliveryAbandoned} and logged.
 *
 * <p><b>Delivery is followed to its end.</b> Once started, the rule waits for the delivery workflow
 * (long polls through {@link WorkflowOutcomes}, again after each recovery) and journals {@link
 * DeliveryCompleted} when it completed, {@link DeliveryAbandoned} when it failed (its attempts ran
 * out) or was cancelled, so that a firing's {@code delivery} ends as {@code delivered} or {@code
 * abandoned}. Only the firings the view shows are followed. The starting and following run in
 * {@link DeliveryOutbox}.
 */
public final class AlertRule
    extends SnapshottedEntity<AlertRule.Command, AlertRule.Event, AlertRule.State> {

  public static final EntityTypeKey<Command> ENTITY_KEY =
      EntityTypeKey.create(AlertRule.Command.class, "alert");

  /** Entity type name in persistence ids and tags; never changes. */
  public static final String ENTITY_TYPE = "alert";

  /** {@code service} of a rule that watches every service (of its tenant). */
  public static final String ANY_SERVICE = "*";

  public static final int DEFAULT_COOLDOWN_SECONDS = 300;
  public static final int MAX_COOLDOWN_SECONDS = 86_400;

  /** How many of the newest firings the view shows. */
  public static final int RECENT_FIRINGS = 20;

  public static final Pattern ID = Ids.PATTERN;

  static final Duration MAX_TIMER_DELAY = Duration.ofHours(1);
  private static final String RETRY_TIMER = "delivery-retry";

  private static final Logger log = LoggerFactory.getLogger(AlertRule.class);

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
            @JsonSubTypes.Type(value = Put.class, name = "dev.keel.registry.alert.AlertRule$Put"),
            @JsonSubTypes.Type(
                value = Delete.class,
                name = "dev.keel.registry.alert.AlertRule$Delete")
          })
          Command command)
      implements Command, RequestScope.Traced<Command> {}

  /** Snapshot now (POST /api/v1/admin/snapshots); answered once the snapshot is stored. */
  public record SaveSnapshot(ActorRef<StatusReply<Done>> replyTo) implements Command {}

  /*
   * asTenant in Put, Get and Delete is the calling tenant, or null for the admin: a tenant's command
   * on another tenant's rule is answered as if the rule did not exist (a Put: as if the id were in
   * use), so that ids don't leak across tenants.
   */

  /** Define or redefine the rule; the same definition again changes nothing. */
  public record Put(AlertDefinition def, String asTenant, ActorRef<StatusReply<PutResult>> replyTo)
      implements Command {}

  public record Get(String asTenant, ActorRef<StatusReply<AlertView>> replyTo) implements Command {}

  public record Delete(String asTenant, ActorRef<StatusReply<Done>> replyTo) implements Command {}

  /** A service's health now (from an {@link AlertEvaluator}); no reply. */
  public record Observe(ServiceObservation observation) implements Command {}

  /** The service was deregistered: forget what the rule knew of it; no reply. */
  public record ForgetService(String serviceId) implements Command {}

  /** Local: the cooldown of a deferred firing of {@code serviceId} may be over. */
  public record FireDeferred(String serviceId) implements Command {}

  /** Local: start the delivery of every firing not yet acknowledged. */
  public enum RetryDeliveries implements Command {
    INSTANCE
  }

  /**
   * Local: the delivery workflow of a firing started (or had already started: {@code created}
   * false).
   */
  public record DeliveryStartAcknowledged(long firingSeq, String workflowId, boolean created)
      implements Command {}

  /**
   * Local: the delivery workflow of a firing could not be started; {@code permanent} when retrying
   * cannot help.
   */
  public record DeliveryStartFailed(
      long firingSeq, String workflowId, String reason, boolean permanent) implements Command {}

  /** Local: wait (again) for the delivery workflow of a started firing to end. */
  public record FollowDelivery(long firingSeq) implements Command {}

  /**
   * Local: the delivery workflow of a firing ended: {@code delivered} when it completed, else why
   * not.
   */
  public record DeliveryEnded(long firingSeq, String workflowId, boolean delivered, String reason)
      implements Command {}

  /**
   * Local: waiting for the delivery workflow of a firing failed; it is waited for again after a
   * backoff.
   */
  public record DeliveryFollowFailed(long firingSeq, String workflowId, String reason)
      implements Command {}

  /** Local: the start of a firing's repair answered; {@code failure} null when it started. */
  public record RepairStartAnswered(
      long firingSeq, String workflowId, String failure, boolean permanent) implements Command {}

  /**
   * Local: a firing's repair ended with {@code outcome} ({@code completed}, {@code failed}, {@code
   * cancelled}, {@code abandoned}); null when it still runs or the wait failed ({@code reason}).
   */
  public record RepairFollowAnswered(
      long firingSeq, String workflowId, String outcome, String reason) implements Command {}

  /** Local: start the repair of every firing whose repair is not acknowledged yet. */
  public enum RetryRepairs implements Command {
    INSTANCE
  }

  // ---------------------------------------------------------------- definition and replies

  /**
   * What a client defines. {@code service} is a service id or {@value #ANY_SERVICE}; {@code
   * condition} is {@link AlertCondition} text; {@code tenantId} null applies the rule to the
   * services of every tenant.
   */
  public record AlertDefinition(
      String service,
      String condition,
      String webhook,
      int cooldownSeconds,
      String tenantId,
      @JsonInclude(JsonInclude.Include.NON_NULL) AlertRepair repair) {

    /** Webhook only, as every rule defined before repairs. */
    public AlertDefinition(
        String service, String condition, String webhook, int cooldownSeconds, String tenantId) {
      this(service, condition, webhook, cooldownSeconds, tenantId, null);
    }
  }

  public record PutResult(boolean created, AlertView view) implements KeelSerializable {}

  /**
   * A firing as the view shows it; {@code delivery} is {@code pending}, {@code started}, then
   * {@code delivered} or {@code abandoned}.
   */
  public record FiringView(
      long seq,
      String service,
      String status,
      Map<String, Double> metrics,
      Instant firedAt,
      String deliveryWorkflowId,
      String delivery,
      String repairWorkflowId,
      String repair)
      implements KeelSerializable {}

  /** A firing waiting for the end of its service's cooldown. */
  public record DeferredView(String service, Instant dueAt) implements KeelSerializable {}

  /**
   * The rule: its definition, the services it is triggered for, firings deferred by the cooldown,
   * and its newest {@value #RECENT_FIRINGS} firings, newest first.
   */
  public record AlertView(
      String id,
      String service,
      String condition,
      String webhook,
      AlertRepair repair,
      int cooldownSeconds,
      String tenantId,
      Instant createdAt,
      Instant updatedAt,
      List<String> triggered,
      List<DeferredView> deferred,
      long firingCount,
      Instant lastFiredAt,
      List<FiringView> firings)
      implements KeelSerializable {}

  // ---------------------------------------------------------------- events

  /** What the journal stores; {@link Visitor} names every kind, so a new one must be handled. */
  public sealed interface Event extends KeelSerializable {
    <R> R accept(Visitor<R> visitor);

    /** One method per event type: the compiler finds a handler that misses one. */
    interface Visitor<R> {
      R on(SnapshotRequested e);

      R on(AlertDefined e);

      R on(AlertUpdated e);

      R on(AlertDeleted e);

      R on(AlertFired e);

      R on(AlertDeferred e);

      R on(AlertCleared e);

      R on(ServiceForgotten e);

      R on(DeliveryStarted e);

      R on(DeliveryAbandoned e);

      R on(DeliveryCompleted e);

      R on(RepairStarted e);

      R on(RepairEnded e);
    }
  }

  /** Marks a snapshot taken on demand; changes nothing. */
  public record SnapshotRequested(Instant at) implements Event, EntitySnapshots.Request {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.on(this);
    }
  }

  public record AlertDefined(AlertDefinition def, Instant at) implements Event {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.on(this);
    }
  }

  public record AlertUpdated(AlertDefinition def, Instant at) implements Event {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.on(this);
    }
  }

  public record AlertDeleted(Instant at) implements Event {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.on(this);
    }
  }

  /**
   * The condition started to hold for {@code serviceId}; its delivery runs as {@code
   * deliveryWorkflowId}.
   */
  public record AlertFired(
      long firingSeq,
      String serviceId,
      String status,
      Map<String, Double> metrics,
      Instant firedAt,
      String deliveryWorkflowId,
      @JsonInclude(JsonInclude.Include.NON_NULL) String repairWorkflowId)
      implements Event {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.on(this);
    }

    public AlertFired {
      metrics = metrics == null ? Map.of() : Map.copyOf(metrics);
    }

    /** Without a repair, as every firing before repairs. */
    public AlertFired(
        long firingSeq,
        String serviceId,
        String status,
        Map<String, Double> metrics,
        Instant firedAt,
        String deliveryWorkflowId) {
      this(firingSeq, serviceId, status, metrics, firedAt, deliveryWorkflowId, null);
    }
  }

  /** The condition started to hold within the cooldown: the firing waits until {@code dueAt}. */
  public record AlertDeferred(
      String serviceId,
      String status,
      Map<String, Double> metrics,
      Instant observedAt,
      Instant dueAt)
      implements Event {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.on(this);
    }

    public AlertDeferred {
      metrics = metrics == null ? Map.of() : Map.copyOf(metrics);
    }
  }

  /**
   * The condition no longer holds for {@code serviceId}: re-armed (a deferred firing is dropped).
   */
  public record AlertCleared(String serviceId, Instant at) implements Event {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.on(this);
    }
  }

  /** {@code serviceId} was deregistered. */
  public record ServiceForgotten(String serviceId, Instant at) implements Event {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.on(this);
    }
  }

  public record DeliveryStarted(long firingSeq, String deliveryWorkflowId, Instant at)
      implements Event {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.on(this);
    }
  }

  /**
   * The delivery did not or will not happen: its start was refused, or its workflow failed or was
   * cancelled.
   */
  public record DeliveryAbandoned(long firingSeq, String reason, Instant at) implements Event {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.on(this);
    }
  }

  /** The delivery workflow of firing {@code firingSeq} completed: the receiver answered 2xx. */
  public record DeliveryCompleted(long firingSeq, Instant at) implements Event {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.on(this);
    }
  }

  /** The repair workflow of firing {@code firingSeq} started (or had started already). */
  public record RepairStarted(long firingSeq, String repairWorkflowId, Instant at)
      implements Event {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.on(this);
    }
  }

  /**
   * The repair of firing {@code firingSeq} ended: {@code completed}, {@code failed}, {@code
   * cancelled}, or {@code abandoned} (its start was refused for good); {@code reason} says why when
   * it did not complete.
   */
  public record RepairEnded(long firingSeq, String outcome, String reason, Instant at)
      implements Event {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.on(this);
    }
  }

  // ---------------------------------------------------------------- state

  /** The lifecycle is the state type. */
  public sealed interface State extends KeelSerializable {}

  /** Never defined. */
  public record Empty() implements State {}

  /**
   * Defined. {@code lastFiringSeq} numbers firings across redefinitions and deletes (delivery
   * workflow ids must never repeat); {@code firingCount} counts this definition's firings. {@code
   * services} holds the services that are triggered, deferred, or in their cooldown.
   */
  public record Active(
      AlertDefinition def,
      Instant createdAt,
      Instant updatedAt,
      long lastFiringSeq,
      long firingCount,
      Instant lastFiredAt,
      Map<String, ServiceAlert> services,
      List<Firing> recentFirings,
      List<PendingDelivery> undelivered)
      implements State {
    public Active {
      services = Map.copyOf(services);
      recentFirings = List.copyOf(recentFirings);
      undelivered = List.copyOf(undelivered);
    }
  }

  /** Deleted; a new {@link Put} defines it again. */
  public record Deleted(Instant deletedAt, long lastFiringSeq) implements State {}

  /** Where one service stands with this rule; {@code deferred} is null unless a firing waits. */
  public record ServiceAlert(boolean triggered, Instant lastFiredAt, Deferred deferred)
      implements KeelSerializable {}

  public record Deferred(
      String status, Map<String, Double> metrics, Instant observedAt, Instant dueAt)
      implements KeelSerializable {
    public Deferred {
      metrics = metrics == null ? Map.of() : Map.copyOf(metrics);
    }
  }

  /** A firing as remembered for the view; {@code delivery} as in {@link FiringView}. */
  public record Firing(
      long seq,
      String serviceId,
      String status,
      Map<String, Double> metrics,
      Instant firedAt,
      String deliveryWorkflowId,
      String delivery,
      @JsonInclude(JsonInclude.Include.NON_NULL) String repairWorkflowId,
      @JsonInclude(JsonInclude.Include.NON_NULL) String repair)
      implements KeelSerializable {
    public Firing {
      metrics = metrics == null ? Map.of() : Map.copyOf(metrics);
    }

    /** Without a repair, as every firing before repairs. */
    public Firing(
        long seq,
        String serviceId,
        String status,
        Map<String, Double> metrics,
        Instant firedAt,
        String deliveryWorkflowId,
        String delivery) {
      this(seq, serviceId, status, metrics, firedAt, deliveryWorkflowId, delivery, null, null);
    }

    Firing withDelivery(String newDelivery) {
      return new Firing(
          seq,
          serviceId,
          status,
          metrics,
          firedAt,
          deliveryWorkflowId,
          newDelivery,
          repairWorkflowId,
          repair);
    }

    Firing withRepair(String newRepair) {
      return new Firing(
          seq,
          serviceId,
          status,
          metrics,
          firedAt,
          deliveryWorkflowId,
          delivery,
          repairWorkflowId,
          newRepair);
    }
  }

  /**
   * A firing whose delivery is not acknowledged yet, with what its payload needs as of the firing.
   */
  public record PendingDelivery(
      long seq,
      String workflowId,
      String serviceId,
      String status,
      Map<String, Double> metrics,
      Instant firedAt,
      String condition,
      String webhook,
      String tenantId)
      implements KeelSerializable {
    public PendingDelivery {
      metrics = metrics == null ? Map.of() : Map.copyOf(metrics);
    }
  }

  static final String PENDING = "pending";
  static final String STARTED = "started";
  static final String ABANDONED = "abandoned";
  static final String DELIVERED = "delivered";

  /** The delivery of a firing of a rule without a webhook (a repair only). */
  static final String NO_WEBHOOK = "none";

  // ---------------------------------------------------------------- wiring

  /**
   * Starts sharding for alert rules; remembered, so that deferred firings and deliveries survive
   * their node.
   */
  public static void init(
      ActorSystem<?> system,
      WorkflowStarter starter,
      WorkflowOutcomes outcomes,
      Clock clock,
      AlertSettings settings) {
    init(system, starter, outcomes, clock, settings, starter);
  }

  /**
   * As above, starting repairs through {@code repairStarter} (which refuses what a rule's tenant
   * may not start).
   */
  public static void init(
      ActorSystem<?> system,
      WorkflowStarter starter,
      WorkflowOutcomes outcomes,
      Clock clock,
      AlertSettings settings,
      WorkflowStarter repairStarter) {
    EntityRuntime.start(
        system,
        KIND,
        EntityRuntime.Remembered.YES,
        place -> new AlertRule(place, starter, outcomes, clock, settings, repairStarter));
  }

  public static PersistenceId persistenceId(String ruleId) {
    return PersistenceId.of(ENTITY_TYPE, ruleId);
  }

  public static Behavior<Command> create(
      String ruleId,
      WorkflowStarter starter,
      WorkflowOutcomes outcomes,
      Clock clock,
      AlertSettings settings) {
    return EntityRuntime.unsharded(
        ruleId, place -> new AlertRule(place, starter, outcomes, clock, settings, starter));
  }

  /** How audit rebuilds a rule as of an instant: the same event handler, the same view as GET. */
  public static final EntityAudit<State, Event> AUDIT =
      new EntityAudit<>(
          ENTITY_TYPE,
          Event.class,
          new Empty(),
          AlertRule::apply,
          (id, s) -> s instanceof Active a ? Optional.of(AlertViews.of(id, a)) : Optional.empty());

  /** This entity type as the node declares it: sharding key, audit, snapshots on demand. */
  public static final EntityKind<Command> KIND =
      new EntityKind<>(ENTITY_KEY, AUDIT, SaveSnapshot::new);

  // ---------------------------------------------------------------- runtime (not journaled)

  private final String ruleId;
  private final DeliveryOutbox outbox;
  private final RepairOutbox repairs;
  private final Clock clock;
  private String parsedText;
  private AlertCondition parsed;

  private AlertRule(
      EntityPlace<Command> place,
      WorkflowStarter starter,
      WorkflowOutcomes outcomes,
      Clock clock,
      AlertSettings settings,
      WorkflowStarter repairStarter) {
    super(place, ENTITY_TYPE, persistenceId(place.entityId()));
    this.ruleId = place.entityId();
    this.outbox =
        new DeliveryOutbox(ruleId, starter, outcomes, settings, context, timers, clock, Effect());
    this.repairs =
        new RepairOutbox(
            ruleId, repairStarter, outcomes, settings, context, timers, clock, Effect());
    this.clock = clock;
  }

  @Override
  public State emptyState() {
    return new Empty();
  }

  @Override
  protected void onRecovered(State state) {
    if (!(state instanceof Active active)) return;
    if (!active.undelivered().isEmpty()) {
      log.info(
          "alert recovered with undelivered firings alertId={} undelivered={}",
          ruleId,
          active.undelivered().size());
    }
    outbox.resume(active);
    repairs.resume(active);
    active
        .services()
        .forEach(
            (serviceId, s) -> {
              if (s.deferred() != null) armDeferred(serviceId, s.deferred().dueAt());
            });
  }

  // ---------------------------------------------------------------- command handlers

  @Override
  protected CommandHandlerWithReply<Command, Event, State> commands() {
    CommandHandlerWithReplyBuilder<Command, Event, State> b = newCommandHandlerWithReplyBuilder();
    // First: handlers are tried in the order they are added, and absent() ends with any command.
    b.forAnyState()
        .onCommand(
            SaveSnapshot.class,
            (s, c) ->
                saveSnapshot(
                    !(s instanceof Empty), new SnapshotRequested(clock.instant()), c.replyTo()));
    absent(b.forStateType(Empty.class));
    absent(b.forStateType(Deleted.class));
    b.forStateType(Active.class)
        .onCommand(Put.class, this::redefine)
        .onCommand(
            Get.class,
            (s, c) ->
                ownedBy(s, c.asTenant())
                    ? Effect().reply(c.replyTo(), StatusReply.success(view(s)))
                    : hidden(c.replyTo()))
        .onCommand(
            Delete.class, (s, c) -> ownedBy(s, c.asTenant()) ? delete(s, c) : hidden(c.replyTo()))
        .onCommand(Observe.class, this::observe)
        .onCommand(ForgetService.class, this::forget)
        .onCommand(FireDeferred.class, this::fireDeferred)
        .onCommand(
            RetryDeliveries.class,
            (s, c) -> {
              outbox.startAll(s);
              return Effect().noReply();
            })
        .onCommand(DeliveryStartAcknowledged.class, outbox::onStarted)
        .onCommand(DeliveryStartFailed.class, outbox::onStartFailed)
        .onCommand(FollowDelivery.class, outbox::onFollowAgain)
        .onCommand(DeliveryEnded.class, outbox::onEnded)
        .onCommand(DeliveryFollowFailed.class, outbox::onFollowFailed)
        .onCommand(
            RetryRepairs.class,
            (s, c) -> {
              repairs.resume(s);
              return Effect().noReply();
            })
        .onCommand(RepairStartAnswered.class, repairs::onStartAnswered)
        .onCommand(RepairFollowAnswered.class, repairs::onFollowAnswered);
    return b.build();
  }

  /** Empty and Deleted answer alike: only a Put brings the rule (back) to life. */
  private <S extends State> void absent(
      CommandHandlerWithReplyBuilderByState<Command, Event, S, State> b) {
    b.onCommand(Put.class, (s, c) -> define(s, c))
        .onCommand(Get.class, (s, c) -> notFound(c.replyTo()))
        .onCommand(Delete.class, (s, c) -> notFound(c.replyTo()))
        // A message for a rule that is gone (an evaluator's list trails deletes, a start answering
        // late): nothing to record, and nothing to keep in memory or remembered.
        .onCommand(Observe.class, (s, c) -> Effect().none().thenRun(x -> passivate()).thenNoReply())
        .onCommand(
            ForgetService.class, (s, c) -> Effect().none().thenRun(x -> passivate()).thenNoReply())
        .onAnyCommand((s, c) -> Effect().noReply());
  }

  private <R> ReplyEffect<Event, State> notFound(ActorRef<StatusReply<R>> replyTo) {
    return Effect()
        .none()
        .thenRun(s -> passivate())
        .thenReply(replyTo, s -> Rejection.notFound(doesNotExist(ruleId)));
  }

  /** Another tenant's rule: answered as unknown, and it keeps running. */
  private <R> ReplyEffect<Event, State> hidden(ActorRef<StatusReply<R>> replyTo) {
    return Effect().reply(replyTo, Rejection.notFound(doesNotExist(ruleId)));
  }

  /** The not-found detail of a rule, also answered by the façade for ids never defined. */
  public static String doesNotExist(String ruleId) {
    return "alert '" + ruleId + "' does not exist";
  }

  private static boolean ownedBy(Active state, String asTenant) {
    return asTenant == null || asTenant.equals(state.def().tenantId());
  }

  private ReplyEffect<Event, State> define(State state, Put c) {
    List<FieldProblem> problems = AlertDefinitionRules.problems(c.def());
    if (!problems.isEmpty()) {
      return Effect()
          .none()
          .thenRun(s -> passivate())
          .thenReply(c.replyTo(), s -> Rejection.invalid(AlertDefinitionRules.describe(problems)));
    }
    AlertDefinition def = AlertDefinitionRules.normalized(c.def());
    return Effect()
        .persist(new AlertDefined(def, clock.instant()))
        .thenRun(s -> logDefinition("alert defined", def))
        .thenReply(c.replyTo(), s -> StatusReply.success(new PutResult(true, view((Active) s))));
  }

  private ReplyEffect<Event, State> redefine(Active state, Put c) {
    if (!ownedBy(state, c.asTenant())) {
      return Effect()
          .reply(
              c.replyTo(),
              Rejection.conflict("alert id '" + ruleId + "' is in use; choose another id"));
    }
    List<FieldProblem> problems = AlertDefinitionRules.problems(c.def());
    if (!problems.isEmpty())
      return Effect()
          .reply(c.replyTo(), Rejection.invalid(AlertDefinitionRules.describe(problems)));
    AlertDefinition given = AlertDefinitionRules.normalized(c.def());
    // The admin redefining a tenant's rule without naming a tenant keeps its owner.
    AlertDefinition def =
        c.asTenant() == null && given.tenantId() == null && state.def().tenantId() != null
            ? new AlertDefinition(
                given.service(),
                given.condition(),
                given.webhook(),
                given.cooldownSeconds(),
                state.def().tenantId())
            : given;
    if (def.equals(state.def())) {
      return Effect().reply(c.replyTo(), StatusReply.success(new PutResult(false, view(state))));
    }
    return Effect()
        .persist(new AlertUpdated(def, clock.instant()))
        .thenRun(
            s -> {
              logDefinition("alert updated", def);
              rearmDeferred(state, (Active) s);
            })
        .thenReply(c.replyTo(), s -> StatusReply.success(new PutResult(false, view((Active) s))));
  }

  private void logDefinition(String what, AlertDefinition def) {
    log.info(
        "{} alertId={} service={} condition='{}' webhook={} cooldownSeconds={}",
        what,
        ruleId,
        def.service(),
        def.condition(),
        AlertDefinitionRules.redacted(def.webhook()),
        def.cooldownSeconds());
  }

  private ReplyEffect<Event, State> delete(Active state, Delete c) {
    return Effect()
        .persist(new AlertDeleted(clock.instant()))
        .thenRun(
            s -> {
              log.info(
                  "alert deleted alertId={} undelivered={}", ruleId, state.undelivered().size());
              timers.cancelAll();
              // Firings already recorded still go out: one last start each (idempotent), as the
              // rule stops here and will not retry.
              outbox.startAll(state);
              passivate();
            })
        .thenReply(c.replyTo(), s -> StatusReply.success(Done.getInstance()));
  }

  private ReplyEffect<Event, State> observe(Active state, Observe c) {
    ServiceObservation o = c.observation();
    if (o == null
        || o.serviceId() == null
        || !AlertDefinitionRules.watches(state.def(), o.serviceId(), o.tenantId())) {
      return Effect().noReply(); // told from an evaluator whose rule list trails a redefinition
    }
    boolean holds = condition(state).holds(o);
    ServiceAlert current = state.services().get(o.serviceId());
    boolean raised = current != null && (current.triggered() || current.deferred() != null);
    Instant now = clock.instant();
    if (holds && !raised) {
      Instant cooldownEnd =
          current == null || current.lastFiredAt() == null
              ? null
              : current.lastFiredAt().plusSeconds(state.def().cooldownSeconds());
      if (cooldownEnd != null && now.isBefore(cooldownEnd)) {
        return Effect()
            .persist(new AlertDeferred(o.serviceId(), o.status(), o.metrics(), now, cooldownEnd))
            .thenRun(
                s -> {
                  log.info(
                      "alert deferred alertId={} service={} status={} dueAt={}",
                      ruleId,
                      o.serviceId(),
                      o.status(),
                      cooldownEnd);
                  armDeferred(o.serviceId(), cooldownEnd);
                })
            .thenNoReply();
      }
      return fire(state, o.serviceId(), o.status(), o.metrics(), now);
    }
    if (!holds && raised) {
      return Effect()
          .persist(new AlertCleared(o.serviceId(), now))
          .thenRun(
              s -> {
                timers.cancel(new DeferredTimer(o.serviceId()));
                log.info(
                    "alert cleared alertId={} service={} status={} wasTriggered={}",
                    ruleId,
                    o.serviceId(),
                    o.status(),
                    current.triggered());
              })
          .thenNoReply();
    }
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> fire(
      Active state, String serviceId, String status, Map<String, Double> metrics, Instant now) {
    long seq = state.lastFiringSeq() + 1;
    // A rule without a webhook has no delivery workflow.
    String workflowId =
        state.def().webhook() == null ? null : DeliveryWorkflowInput.workflowId(ruleId, seq);
    String repairId = state.def().repair() == null ? null : AlertRepair.workflowId(ruleId, seq);
    return Effect()
        .persist(new AlertFired(seq, serviceId, status, metrics, now, workflowId, repairId))
        .thenRun(
            s -> {
              log.info(
                  "alert fired alertId={} service={} status={} firingSeq={} deliveryWorkflowId={}"
                      + " webhook={} repairWorkflowId={}",
                  ruleId,
                  serviceId,
                  status,
                  seq,
                  workflowId,
                  AlertDefinitionRules.redacted(state.def().webhook()),
                  repairId);
              for (PendingDelivery d : ((Active) s).undelivered()) {
                if (d.seq() == seq) outbox.start(d);
              }
              repairs.resume((Active) s);
            })
        .thenNoReply();
  }

  private ReplyEffect<Event, State> fireDeferred(Active state, FireDeferred c) {
    ServiceAlert current = state.services().get(c.serviceId());
    if (current == null || current.deferred() == null || current.triggered())
      return Effect().noReply();
    Instant now = clock.instant();
    if (now.isBefore(current.deferred().dueAt())) {
      armDeferred(c.serviceId(), current.deferred().dueAt()); // a capped or early timer
      return Effect().noReply();
    }
    Deferred d = current.deferred();
    return fire(state, c.serviceId(), d.status(), d.metrics(), now);
  }

  private ReplyEffect<Event, State> forget(Active state, ForgetService c) {
    if (!state.services().containsKey(c.serviceId())) return Effect().noReply();
    return Effect()
        .persist(new ServiceForgotten(c.serviceId(), clock.instant()))
        .thenRun(
            s -> {
              timers.cancel(new DeferredTimer(c.serviceId()));
              log.info("alert forgot service alertId={} service={}", ruleId, c.serviceId());
            })
        .thenNoReply();
  }

  // ---------------------------------------------------------------- timers

  /** The timer key of a service's deferred firing. */
  private record DeferredTimer(String serviceId) {}

  private void armDeferred(String serviceId, Instant dueAt) {
    Duration delay = Duration.between(clock.instant(), dueAt);
    if (delay.isNegative()) delay = Duration.ZERO;
    if (delay.compareTo(MAX_TIMER_DELAY) > 0) delay = MAX_TIMER_DELAY;
    timers.startSingleTimer(new DeferredTimer(serviceId), new FireDeferred(serviceId), delay);
  }

  /**
   * After a redefinition: services the rule no longer watches lose their deferred firings' timers.
   */
  private void rearmDeferred(Active before, Active after) {
    for (String serviceId : before.services().keySet()) {
      ServiceAlert now = after.services().get(serviceId);
      if (now == null || now.deferred() == null) timers.cancel(new DeferredTimer(serviceId));
    }
  }

  private void passivate() {
    shard.ifPresent(sh -> sh.tell(new ClusterSharding.Passivate<>(context.getSelf())));
  }

  /** The parsed condition, kept while its text is the same: observations come often. */
  private AlertCondition condition(Active state) {
    String text = state.def().condition();
    if (!text.equals(parsedText)) {
      parsed = AlertCondition.parseCanonical(text); // accepted when it was defined, so it parses
      parsedText = text;
    }
    return parsed;
  }

  private AlertView view(Active s) {
    return AlertViews.of(ruleId, s);
  }

  // ---------------------------------------------------------------- event handler (pure)

  @Override
  public EventHandler<State, Event> eventHandler() {
    return AlertRule::apply;
  }

  /** The state after {@code event}: a pure function, also used to rebuild past states for audit. */
  public static State apply(State state, Event event) {
    return event.accept(new Transition(state));
  }

  /** What each event makes of {@code state}; an event the state cannot take fails recovery. */
  private record Transition(State state) implements Event.Visitor<State> {

    private Active active(Event event) {
      if (state instanceof Active a) return a;
      throw new UnexpectedEvent(state, event);
    }

    @Override
    public State on(SnapshotRequested e) {
      return state;
    }

    @Override
    public State on(AlertDefined e) {
      if (state instanceof Active) throw new UnexpectedEvent(state, e);
      long lastSeq = state instanceof Deleted d ? d.lastFiringSeq() : 0;
      return new Active(e.def(), e.at(), e.at(), lastSeq, 0, null, Map.of(), List.of(), List.of());
    }

    @Override
    public State on(AlertUpdated e) {
      Active a = active(e);
      Map<String, ServiceAlert> services = new HashMap<>();
      a.services()
          .forEach(
              (serviceId, s) -> {
                // A service the rule no longer watches would never be told about again: forget it.
                if (AlertDefinitionRules.watchesService(e.def(), serviceId))
                  services.put(serviceId, s);
              });
      return new Active(
          e.def(),
          a.createdAt(),
          e.at(),
          a.lastFiringSeq(),
          a.firingCount(),
          a.lastFiredAt(),
          services,
          a.recentFirings(),
          a.undelivered());
    }

    @Override
    public State on(AlertDeleted e) {
      return new Deleted(e.at(), active(e).lastFiringSeq());
    }

    @Override
    public State on(AlertFired e) {
      Active a = active(e);
      Map<String, ServiceAlert> services = withinCooldown(a, e.firedAt());
      services.put(e.serviceId(), new ServiceAlert(true, e.firedAt(), null));
      List<Firing> recent = new ArrayList<>(a.recentFirings());
      AlertDefinition d = a.def();
      recent.add(
          new Firing(
              e.firingSeq(),
              e.serviceId(),
              e.status(),
              e.metrics(),
              e.firedAt(),
              e.deliveryWorkflowId(),
              d.webhook() == null ? NO_WEBHOOK : PENDING,
              e.repairWorkflowId(),
              e.repairWorkflowId() == null ? null : PENDING));
      if (recent.size() > RECENT_FIRINGS)
        recent = recent.subList(recent.size() - RECENT_FIRINGS, recent.size());
      List<PendingDelivery> undelivered = new ArrayList<>(a.undelivered());
      if (d.webhook() != null)
        undelivered.add(
            new PendingDelivery(
                e.firingSeq(),
                e.deliveryWorkflowId(),
                e.serviceId(),
                e.status(),
                e.metrics(),
                e.firedAt(),
                d.condition(),
                d.webhook(),
                d.tenantId()));
      return new Active(
          d,
          a.createdAt(),
          a.updatedAt(),
          e.firingSeq(),
          a.firingCount() + 1,
          e.firedAt(),
          services,
          recent,
          undelivered);
    }

    @Override
    public State on(AlertDeferred e) {
      Active a = active(e);
      Map<String, ServiceAlert> services = new HashMap<>(a.services());
      ServiceAlert before = services.get(e.serviceId());
      services.put(
          e.serviceId(),
          new ServiceAlert(
              false,
              before == null ? null : before.lastFiredAt(),
              new Deferred(e.status(), e.metrics(), e.observedAt(), e.dueAt())));
      return withServices(a, services);
    }

    @Override
    public State on(AlertCleared e) {
      Active a = active(e);
      Map<String, ServiceAlert> services = withinCooldown(a, e.at());
      ServiceAlert before = a.services().get(e.serviceId());
      services.remove(e.serviceId());
      if (before != null
          && before.lastFiredAt() != null
          && e.at().isBefore(before.lastFiredAt().plusSeconds(a.def().cooldownSeconds()))) {
        services.put(
            e.serviceId(),
            new ServiceAlert(false, before.lastFiredAt(), null)); // its cooldown still runs
      }
      return withServices(a, services);
    }

    @Override
    public State on(ServiceForgotten e) {
      Active a = active(e);
      Map<String, ServiceAlert> services = new HashMap<>(a.services());
      services.remove(e.serviceId());
      return withServices(a, services);
    }

    @Override
    public State on(DeliveryStarted e) {
      return delivered(active(e), e.firingSeq(), STARTED);
    }

    @Override
    public State on(DeliveryAbandoned e) {
      return delivered(active(e), e.firingSeq(), ABANDONED);
    }

    @Override
    public State on(DeliveryCompleted e) {
      return delivered(active(e), e.firingSeq(), DELIVERED);
    }

    @Override
    public State on(RepairStarted e) {
      return repaired(active(e), e.firingSeq(), STARTED);
    }

    @Override
    public State on(RepairEnded e) {
      return repaired(active(e), e.firingSeq(), e.outcome());
    }
  }

  /**
   * The services minus those merely armed whose cooldown is over at {@code at}: such a service is
   * the same as one never seen, and dropping it keeps the state as small as what is going on.
   */
  private static Map<String, ServiceAlert> withinCooldown(Active a, Instant at) {
    Map<String, ServiceAlert> services = new HashMap<>();
    a.services()
        .forEach(
            (serviceId, s) -> {
              boolean idle =
                  !s.triggered()
                      && s.deferred() == null
                      && (s.lastFiredAt() == null
                          || !at.isBefore(s.lastFiredAt().plusSeconds(a.def().cooldownSeconds())));
              if (!idle) services.put(serviceId, s);
            });
    return services;
  }

  private static Active withServices(Active a, Map<String, ServiceAlert> services) {
    return new Active(
        a.def(),
        a.createdAt(),
        a.updatedAt(),
        a.lastFiringSeq(),
        a.firingCount(),
        a.lastFiredAt(),
        services,
        a.recentFirings(),
        a.undelivered());
  }

  private static Active delivered(Active a, long seq, String delivery) {
    List<PendingDelivery> undelivered =
        a.undelivered().stream().filter(d -> d.seq() != seq).toList();
    List<Firing> recent =
        a.recentFirings().stream().map(f -> f.seq() == seq ? f.withDelivery(delivery) : f).toList();
    return new Active(
        a.def(),
        a.createdAt(),
        a.updatedAt(),
        a.lastFiringSeq(),
        a.firingCount(),
        a.lastFiredAt(),
        a.services(),
        recent,
        undelivered);
  }

  private static Active repaired(Active a, long seq, String repair) {
    List<Firing> recent =
        a.recentFirings().stream().map(f -> f.seq() == seq ? f.withRepair(repair) : f).toList();
    return new Active(
        a.def(),
        a.createdAt(),
        a.updatedAt(),
        a.lastFiringSeq(),
        a.firingCount(),
        a.lastFiredAt(),
        a.services(),
        recent,
        a.undelivered());
  }
}
