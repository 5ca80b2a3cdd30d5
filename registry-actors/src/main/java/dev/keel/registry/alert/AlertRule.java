package dev.keel.registry.alert;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.persistence.EntityAudit;
import dev.keel.persistence.EntityKind;
import dev.keel.persistence.EntityPlace;
import dev.keel.persistence.EntityRuntime;
import dev.keel.persistence.EntitySnapshots;
import dev.keel.persistence.KeelSerializable;
import dev.keel.persistence.Rejection;
import dev.keel.persistence.RequestScope;
import dev.keel.persistence.SnapshottedEntity;
import dev.keel.persistence.grammar.Ids;
import dev.keel.persistence.grammar.Texts;
import dev.keel.registry.service.FieldProblem;
import dev.keel.registry.service.ServiceObservation;
import dev.keel.workflow.execution.WorkflowOutcomes;
import dev.keel.workflow.execution.WorkflowStarter;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
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
      @JsonTypeInfo(use = JsonTypeInfo.Id.CLASS) Command command)
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

  public sealed interface Event extends KeelSerializable {}

  /** Marks a snapshot taken on demand; changes nothing. */
  public record SnapshotRequested(Instant at) implements Event, EntitySnapshots.Request {}

  public record AlertDefined(AlertDefinition def, Instant at) implements Event {}

  public record AlertUpdated(AlertDefinition def, Instant at) implements Event {}

  public record AlertDeleted(Instant at) implements Event {}

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
    public AlertDeferred {
      metrics = metrics == null ? Map.of() : Map.copyOf(metrics);
    }
  }

  /**
   * The condition no longer holds for {@code serviceId}: re-armed (a deferred firing is dropped).
   */
  public record AlertCleared(String serviceId, Instant at) implements Event {}

  /** {@code serviceId} was deregistered. */
  public record ServiceForgotten(String serviceId, Instant at) implements Event {}

  public record DeliveryStarted(long firingSeq, String deliveryWorkflowId, Instant at)
      implements Event {}

  /**
   * The delivery did not or will not happen: its start was refused, or its workflow failed or was
   * cancelled.
   */
  public record DeliveryAbandoned(long firingSeq, String reason, Instant at) implements Event {}

  /** The delivery workflow of firing {@code firingSeq} completed: the receiver answered 2xx. */
  public record DeliveryCompleted(long firingSeq, Instant at) implements Event {}

  /** The repair workflow of firing {@code firingSeq} started (or had started already). */
  public record RepairStarted(long firingSeq, String repairWorkflowId, Instant at)
      implements Event {}

  /**
   * The repair of firing {@code firingSeq} ended: {@code completed}, {@code failed}, {@code
   * cancelled}, or {@code abandoned} (its start was refused for good); {@code reason} says why when
   * it did not complete.
   */
  public record RepairEnded(long firingSeq, String outcome, String reason, Instant at)
      implements Event {}

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
        place -> build(place, starter, outcomes, clock, settings, repairStarter));
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
        ruleId, place -> build(place, starter, outcomes, clock, settings, starter));
  }

  private static AlertRule build(
      EntityPlace<Command> place,
      WorkflowStarter starter,
      WorkflowOutcomes outcomes,
      Clock clock,
      AlertSettings settings,
      WorkflowStarter repairStarter) {
    return new AlertRule(
        place,
        new DeliveryOutbox(place.entityId(), starter, outcomes, settings, place.context()),
        new RepairOutbox(place.entityId(), repairStarter, outcomes, settings, place.context()),
        clock,
        settings);
  }

  /**
   * Every problem of a definition, by field; routes list them in one 400, the entity refuses them.
   */
  public static List<FieldProblem> problems(AlertDefinition def) {
    List<FieldProblem> problems = new ArrayList<>();
    if (def == null) {
      problems.add(new FieldProblem("body", "an alert definition is required"));
      return problems;
    }
    if (def.service() == null || def.service().isEmpty()) {
      problems.add(new FieldProblem("service", "is required: a service id or " + ANY_SERVICE));
    } else if (!def.service().equals(ANY_SERVICE) && !ID.matcher(def.service()).matches()) {
      problems.add(
          new FieldProblem(
              "service", "must be a service id (" + ID.pattern() + ") or " + ANY_SERVICE));
    }
    if (def.condition() == null) {
      problems.add(new FieldProblem("condition", "is required, e.g. 'status != healthy'"));
    } else if (Texts.characterProblem(def.condition(), false).isPresent()) {
      // A NUL inside a quoted value would reach keel_alerts.condition and stop the alerts read
      // model on PostgreSQL.
      problems.add(
          new FieldProblem("condition", Texts.characterProblem(def.condition(), false).get()));
    } else {
      try {
        AlertCondition.parse(def.condition());
      } catch (InvalidConditionException e) {
        problems.add(new FieldProblem("condition", e.getMessage()));
      }
    }
    if (def.webhook() == null || def.webhook().isEmpty()) {
      if (def.repair() == null)
        problems.add(new FieldProblem("webhook", "is required unless a repair is given"));
    } else if (!WebhookDeliveryWorkflow.isWebhookUrl(def.webhook())) {
      // Never the URL itself: it may carry a token.
      problems.add(
          new FieldProblem(
              "webhook",
              "must be an absolute http or https URL with a host, at most "
                  + WebhookDeliveryWorkflow.MAX_URL_LENGTH
                  + " characters"));
    }
    if (def.cooldownSeconds() < 0 || def.cooldownSeconds() > MAX_COOLDOWN_SECONDS) {
      problems.add(
          new FieldProblem("cooldownSeconds", "must be between 0 and " + MAX_COOLDOWN_SECONDS));
    }
    if (def.tenantId() != null)
      Ids.tenantIdProblem(def.tenantId())
          .ifPresent(p -> problems.add(new FieldProblem("tenantId", p)));
    if (def.repair() != null) problems.addAll(AlertRepair.problems(def.repair()));
    return problems;
  }

  /**
   * The definition as the rule keeps it: the condition in its canonical text. Call on a valid
   * definition.
   */
  public static AlertDefinition normalized(AlertDefinition def) {
    String canonical = AlertCondition.parse(def.condition()).toString();
    return new AlertDefinition(
        def.service(),
        canonical,
        def.webhook() == null || def.webhook().isEmpty() ? null : def.webhook(),
        def.cooldownSeconds(),
        def.tenantId(),
        def.repair());
  }

  /** Whether a rule defined as {@code def} watches {@code serviceId} of {@code tenantId}. */
  public static boolean watches(AlertDefinition def, String serviceId, String tenantId) {
    return (ANY_SERVICE.equals(def.service()) || def.service().equals(serviceId))
        && (def.tenantId() == null || def.tenantId().equals(tenantId));
  }

  /**
   * The id of the delivery workflow of firing {@code seq}: {@code alert.<ruleId>.<seq>}, a valid
   * client id so that {@code GET /api/v1/workflows/{id}} finds it; for rule ids too long for that,
   * a hash of the rule id stands in for it.
   */
  public static String deliveryWorkflowId(String ruleId, long seq) {
    return DeliveryOutbox.deliveryWorkflowId(ruleId, seq);
  }

  /**
   * The {@value WebhookDeliveryWorkflow#NAME} input of a firing: the same for every start of it, so
   * that a repeated start is recognised as the same execution.
   */
  public static JsonNode deliveryInput(String ruleId, PendingDelivery d) {
    return DeliveryOutbox.deliveryInput(ruleId, d);
  }

  // ---------------------------------------------------------------- runtime (not journaled)

  private final String ruleId;
  private final DeliveryOutbox outbox;
  private final RepairOutbox repairs;
  private final Clock clock;
  private final AlertSettings settings;
  private String parsedText;
  private AlertCondition parsed;

  private AlertRule(
      EntityPlace<Command> place,
      DeliveryOutbox outbox,
      RepairOutbox repairs,
      Clock clock,
      AlertSettings settings) {
    super(place, ENTITY_TYPE, persistenceId(place.entityId()));
    this.ruleId = place.entityId();
    this.outbox = outbox;
    this.repairs = repairs;
    this.clock = clock;
    this.settings = settings;
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
    for (PendingDelivery d : active.undelivered()) outbox.start(d);
    for (Firing f : active.recentFirings()) {
      if (STARTED.equals(f.delivery())) outbox.follow(f.seq(), f.deliveryWorkflowId());
    }
    resumeRepairs(active);
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
              for (PendingDelivery d : s.undelivered()) outbox.start(d);
              return Effect().noReply();
            })
        .onCommand(DeliveryStartAcknowledged.class, this::deliveryStarted)
        .onCommand(DeliveryStartFailed.class, this::deliveryFailed)
        .onCommand(FollowDelivery.class, this::followDelivery)
        .onCommand(DeliveryEnded.class, this::deliveryEnded)
        .onCommand(DeliveryFollowFailed.class, this::followFailed)
        .onCommand(
            RetryRepairs.class,
            (s, c) -> {
              resumeRepairs(s);
              return Effect().noReply();
            })
        .onCommand(RepairStartAnswered.class, this::repairStartAnswered)
        .onCommand(RepairFollowAnswered.class, this::repairFollowAnswered);
    b.forAnyState()
        .onCommand(
            SaveSnapshot.class,
            (s, c) ->
                saveSnapshot(
                    !(s instanceof Empty), new SnapshotRequested(clock.instant()), c.replyTo()));
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
        .onCommand(FireDeferred.class, (s, c) -> Effect().noReply())
        .onCommand(RetryDeliveries.class, (s, c) -> Effect().noReply())
        .onCommand(DeliveryStartAcknowledged.class, (s, c) -> Effect().noReply())
        .onCommand(DeliveryStartFailed.class, (s, c) -> Effect().noReply())
        .onCommand(FollowDelivery.class, (s, c) -> Effect().noReply())
        .onCommand(DeliveryEnded.class, (s, c) -> Effect().noReply())
        .onCommand(DeliveryFollowFailed.class, (s, c) -> Effect().noReply())
        .onCommand(RetryRepairs.class, (s, c) -> Effect().noReply())
        .onCommand(RepairStartAnswered.class, (s, c) -> Effect().noReply())
        .onCommand(RepairFollowAnswered.class, (s, c) -> Effect().noReply());
  }

  private <R> ReplyEffect<Event, State> notFound(ActorRef<StatusReply<R>> replyTo) {
    return Effect()
        .none()
        .thenRun(s -> passivate())
        .thenReply(replyTo, s -> Rejection.notFound(notFoundDetail()));
  }

  /** Another tenant's rule: answered as unknown, and it keeps running. */
  private <R> ReplyEffect<Event, State> hidden(ActorRef<StatusReply<R>> replyTo) {
    return Effect().reply(replyTo, Rejection.notFound(notFoundDetail()));
  }

  private String notFoundDetail() {
    return doesNotExist(ruleId);
  }

  /** The not-found detail of a rule, also answered by the façade for ids never defined. */
  public static String doesNotExist(String ruleId) {
    return "alert '" + ruleId + "' does not exist";
  }

  private static boolean ownedBy(Active state, String asTenant) {
    return asTenant == null || asTenant.equals(state.def().tenantId());
  }

  private ReplyEffect<Event, State> define(State state, Put c) {
    List<FieldProblem> problems = problems(c.def());
    if (!problems.isEmpty()) {
      return Effect()
          .none()
          .thenRun(s -> passivate())
          .thenReply(c.replyTo(), s -> Rejection.invalid(describe(problems)));
    }
    AlertDefinition def = normalized(c.def());
    return Effect()
        .persist(new AlertDefined(def, clock.instant()))
        .thenRun(
            s ->
                log.info(
                    "alert defined alertId={} service={} condition='{}' webhook={}"
                        + " cooldownSeconds={}",
                    ruleId,
                    def.service(),
                    def.condition(),
                    redacted(def.webhook()),
                    def.cooldownSeconds()))
        .thenReply(c.replyTo(), s -> StatusReply.success(new PutResult(true, view((Active) s))));
  }

  private ReplyEffect<Event, State> redefine(Active state, Put c) {
    if (!ownedBy(state, c.asTenant())) {
      return Effect()
          .reply(
              c.replyTo(),
              Rejection.conflict("alert id '" + ruleId + "' is in use; choose another id"));
    }
    List<FieldProblem> problems = problems(c.def());
    if (!problems.isEmpty())
      return Effect().reply(c.replyTo(), Rejection.invalid(describe(problems)));
    AlertDefinition given = normalized(c.def());
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
              log.info(
                  "alert updated alertId={} service={} condition='{}' webhook={}"
                      + " cooldownSeconds={}",
                  ruleId,
                  def.service(),
                  def.condition(),
                  redacted(def.webhook()),
                  def.cooldownSeconds());
              rearmDeferred(state, (Active) s);
            })
        .thenReply(c.replyTo(), s -> StatusReply.success(new PutResult(false, view((Active) s))));
  }

  private static String describe(List<FieldProblem> problems) {
    return String.join("; ", problems.stream().map(p -> p.field() + " " + p.message()).toList());
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
              // rule
              // stops here and will not retry.
              for (PendingDelivery d : state.undelivered()) outbox.start(d);
              passivate();
            })
        .thenReply(c.replyTo(), s -> StatusReply.success(Done.getInstance()));
  }

  private ReplyEffect<Event, State> observe(Active state, Observe c) {
    ServiceObservation o = c.observation();
    if (o == null || o.serviceId() == null || !watches(state.def(), o.serviceId(), o.tenantId())) {
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
    String workflowId = state.def().webhook() == null ? null : deliveryWorkflowId(ruleId, seq);
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
                  redacted(state.def().webhook()),
                  repairId);
              for (PendingDelivery d : ((Active) s).undelivered()) {
                if (d.seq() == seq) outbox.start(d);
              }
              resumeRepairs((Active) s);
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

  // ---------------------------------------------------------------- delivery (outbox)

  private ReplyEffect<Event, State> deliveryStarted(Active state, DeliveryStartAcknowledged c) {
    outbox.startAnswered(c.firingSeq());
    if (state.undelivered().stream().noneMatch(d -> d.seq() == c.firingSeq()))
      return Effect().noReply();
    return Effect()
        .persist(new DeliveryStarted(c.firingSeq(), c.workflowId(), clock.instant()))
        .thenRun(
            s -> {
              log.info(
                  "alert delivery started alertId={} firingSeq={} deliveryWorkflowId={} created={}",
                  ruleId,
                  c.firingSeq(),
                  c.workflowId(),
                  c.created());
              if (followed((Active) s, c.firingSeq())) outbox.follow(c.firingSeq(), c.workflowId());
            })
        .thenNoReply();
  }

  /** Whether firing {@code seq} is one the view shows, started and not yet ended. */
  private static boolean followed(Active state, long seq) {
    return state.recentFirings().stream()
        .anyMatch(f -> f.seq() == seq && STARTED.equals(f.delivery()));
  }

  private ReplyEffect<Event, State> followDelivery(Active state, FollowDelivery c) {
    outbox.followAnswered(c.firingSeq()); // a wait that ran out, or the timer after a failed one
    state.recentFirings().stream()
        .filter(f -> f.seq() == c.firingSeq() && STARTED.equals(f.delivery()))
        .findFirst()
        .ifPresent(f -> outbox.follow(f.seq(), f.deliveryWorkflowId()));
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> deliveryEnded(Active state, DeliveryEnded c) {
    outbox.followAnswered(c.firingSeq());
    if (!followed(state, c.firingSeq())) return Effect().noReply();
    Instant now = clock.instant();
    if (c.delivered()) {
      return Effect()
          .persist(new DeliveryCompleted(c.firingSeq(), now))
          .thenRun(
              s ->
                  log.info(
                      "alert delivered alertId={} firingSeq={} deliveryWorkflowId={}",
                      ruleId,
                      c.firingSeq(),
                      c.workflowId()))
          .thenNoReply();
    }
    return Effect()
        .persist(new DeliveryAbandoned(c.firingSeq(), c.reason(), now))
        .thenRun(
            s ->
                log.warn(
                    "alert delivery abandoned alertId={} firingSeq={} deliveryWorkflowId={}"
                        + " reason={}",
                    ruleId,
                    c.firingSeq(),
                    c.workflowId(),
                    c.reason()))
        .thenNoReply();
  }

  private ReplyEffect<Event, State> followFailed(Active state, DeliveryFollowFailed c) {
    outbox.followAnswered(c.firingSeq());
    if (!followed(state, c.firingSeq())) return Effect().noReply();
    log.warn(
        "alert delivery not followed, will retry alertId={} firingSeq={} deliveryWorkflowId={}"
            + " retryIn={} reason={}",
        ruleId,
        c.firingSeq(),
        c.workflowId(),
        settings.startRetryBackoff(),
        c.reason());
    timers.startSingleTimer(
        new FollowTimer(c.firingSeq()),
        new FollowDelivery(c.firingSeq()),
        settings.startRetryBackoff());
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> deliveryFailed(Active state, DeliveryStartFailed c) {
    outbox.startAnswered(c.firingSeq());
    if (state.undelivered().stream().noneMatch(d -> d.seq() == c.firingSeq()))
      return Effect().noReply();
    if (c.permanent()) {
      return Effect()
          .persist(new DeliveryAbandoned(c.firingSeq(), c.reason(), clock.instant()))
          .thenRun(
              s ->
                  log.error(
                      "alert delivery abandoned alertId={} firingSeq={} deliveryWorkflowId={}"
                          + " reason={}",
                      ruleId,
                      c.firingSeq(),
                      c.workflowId(),
                      c.reason()))
          .thenNoReply();
    }
    log.warn(
        "alert delivery start failed, will retry alertId={} firingSeq={} deliveryWorkflowId={}"
            + " retryIn={} reason={}",
        ruleId,
        c.firingSeq(),
        c.workflowId(),
        settings.startRetryBackoff(),
        c.reason());
    if (!timers.isTimerActive(RETRY_TIMER)) {
      timers.startSingleTimer(RETRY_TIMER, RetryDeliveries.INSTANCE, settings.startRetryBackoff());
    }
    return Effect().noReply();
  }

  // ---------------------------------------------------------------- repair (outbox, see
  // AlertRepair)

  private static final String REPAIR_RETRY_TIMER = "repair-retry";

  /** Starts every shown firing's repair not yet acknowledged, and follows every started one. */
  private void resumeRepairs(Active s) {
    for (Firing f : s.recentFirings()) {
      if (f.repairWorkflowId() == null) continue;
      if (PENDING.equals(f.repair()) && s.def().repair() != null)
        repairs.start(f, s.def().repair(), s.def().tenantId());
      else if (STARTED.equals(f.repair())) repairs.follow(f.seq(), f.repairWorkflowId());
    }
  }

  private Optional<Firing> repairIn(Active s, long seq, String repair) {
    return s.recentFirings().stream()
        .filter(f -> f.seq() == seq && repair.equals(f.repair()))
        .findFirst();
  }

  private ReplyEffect<Event, State> repairStartAnswered(Active state, RepairStartAnswered c) {
    repairs.startAnswered(c.firingSeq());
    if (repairIn(state, c.firingSeq(), PENDING).isEmpty()) return Effect().noReply();
    Instant now = clock.instant();
    if (c.failure() == null) {
      return Effect()
          .persist(new RepairStarted(c.firingSeq(), c.workflowId(), now))
          .thenRun(
              s -> {
                log.info(
                    "alert repair started alertId={} firingSeq={} repairWorkflowId={} workflow={}",
                    ruleId,
                    c.firingSeq(),
                    c.workflowId(),
                    state.def().repair() == null ? null : state.def().repair().workflow());
                repairs.follow(c.firingSeq(), c.workflowId());
              })
          .thenNoReply();
    }
    if (c.permanent()) {
      return Effect()
          .persist(new RepairEnded(c.firingSeq(), ABANDONED, c.failure(), now))
          .thenRun(
              s ->
                  log.error(
                      "alert repair abandoned alertId={} firingSeq={} repairWorkflowId={}"
                          + " reason={}",
                      ruleId,
                      c.firingSeq(),
                      c.workflowId(),
                      c.failure()))
          .thenNoReply();
    }
    log.warn(
        "alert repair start failed, will retry alertId={} firingSeq={} repairWorkflowId={}"
            + " retryIn={} reason={}",
        ruleId,
        c.firingSeq(),
        c.workflowId(),
        settings.startRetryBackoff(),
        c.failure());
    retryRepairsLater();
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> repairFollowAnswered(Active state, RepairFollowAnswered c) {
    repairs.followAnswered(c.firingSeq());
    if (repairIn(state, c.firingSeq(), STARTED).isEmpty()) return Effect().noReply();
    if (c.outcome() != null) {
      return Effect()
          .persist(new RepairEnded(c.firingSeq(), c.outcome(), c.reason(), clock.instant()))
          .thenRun(
              s ->
                  log.info(
                      "alert repair ended alertId={} firingSeq={} repairWorkflowId={} outcome={}",
                      ruleId,
                      c.firingSeq(),
                      c.workflowId(),
                      c.outcome()))
          .thenNoReply();
    }
    if (c.reason() == null) {
      repairs.follow(c.firingSeq(), c.workflowId()); // still running: wait again
    } else {
      log.warn(
          "alert repair not followed, will retry alertId={} firingSeq={} repairWorkflowId={}"
              + " reason={}",
          ruleId,
          c.firingSeq(),
          c.workflowId(),
          c.reason());
      retryRepairsLater();
    }
    return Effect().noReply();
  }

  private void retryRepairsLater() {
    if (!timers.isTimerActive(REPAIR_RETRY_TIMER))
      timers.startSingleTimer(
          REPAIR_RETRY_TIMER, RetryRepairs.INSTANCE, settings.startRetryBackoff());
  }

  // ---------------------------------------------------------------- timers

  /** The timer key of a service's deferred firing. */
  private record DeferredTimer(String serviceId) {}

  /** The timer key of a delivery followed again after a failed wait. */
  private record FollowTimer(long firingSeq) {}

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

  /** A webhook URL as logs may show it: it may carry a token in its query or user info. */
  static String redacted(String webhook) {
    if (webhook == null) return "none";
    try {
      return WebhookDeliveryWorkflow.withoutSecrets(URI.create(webhook));
    } catch (IllegalArgumentException e) {
      return "(unparsable)";
    }
  }

  private AlertView view(Active s) {
    return viewOf(ruleId, s);
  }

  /** How audit rebuilds a rule as of an instant: the same event handler, the same view as GET. */
  public static final EntityAudit<State, Event> AUDIT =
      new EntityAudit<>(
          ENTITY_TYPE,
          Event.class,
          new Empty(),
          AlertRule::apply,
          (id, s) -> s instanceof Active a ? Optional.of(viewOf(id, a)) : Optional.empty());

  /** This entity type as the node declares it: sharding key, audit, snapshots on demand. */
  public static final EntityKind<Command> KIND =
      new EntityKind<>(ENTITY_KEY, AUDIT, SaveSnapshot::new);

  static AlertView viewOf(String ruleId, Active s) {
    AlertDefinition d = s.def();
    List<String> triggered = new ArrayList<>();
    List<DeferredView> deferred = new ArrayList<>();
    new TreeMap<>(s.services())
        .forEach(
            (serviceId, a) -> {
              if (a.triggered()) triggered.add(serviceId);
              if (a.deferred() != null)
                deferred.add(new DeferredView(serviceId, a.deferred().dueAt()));
            });
    List<FiringView> firings = new ArrayList<>();
    for (int i = s.recentFirings().size() - 1; i >= 0; i--) {
      Firing f = s.recentFirings().get(i);
      firings.add(
          new FiringView(
              f.seq(),
              f.serviceId(),
              f.status(),
              f.metrics(),
              f.firedAt(),
              f.deliveryWorkflowId(),
              f.delivery(),
              f.repairWorkflowId(),
              f.repair()));
    }
    return new AlertView(
        ruleId,
        d.service(),
        d.condition(),
        d.webhook(),
        d.repair(),
        d.cooldownSeconds(),
        d.tenantId(),
        s.createdAt(),
        s.updatedAt(),
        List.copyOf(triggered),
        List.copyOf(deferred),
        s.firingCount(),
        s.lastFiredAt(),
        List.copyOf(firings));
  }

  // ---------------------------------------------------------------- event handler (pure)

  @Override
  public EventHandler<State, Event> eventHandler() {
    return AlertRule::apply;
  }

  /** The state after {@code event}: a pure function, also used to rebuild past states for audit. */
  public static State apply(State state, Event event) {
    if (event instanceof SnapshotRequested) return state;
    if (state instanceof Active a) {
      if (event instanceof AlertUpdated e) {
        Map<String, ServiceAlert> services = new HashMap<>();
        a.services()
            .forEach(
                (serviceId, s) -> {
                  // A service the rule no longer watches would never be told about again: forget
                  // it.
                  if (watchesId(e.def(), serviceId)) services.put(serviceId, s);
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
      if (event instanceof AlertFired e) {
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
      if (event instanceof AlertDeferred e) {
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
      if (event instanceof AlertCleared e) {
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
      if (event instanceof ServiceForgotten e) {
        Map<String, ServiceAlert> services = new HashMap<>(a.services());
        services.remove(e.serviceId());
        return withServices(a, services);
      }
      if (event instanceof DeliveryStarted e) return delivered(a, e.firingSeq(), STARTED);
      if (event instanceof DeliveryAbandoned e) return delivered(a, e.firingSeq(), ABANDONED);
      if (event instanceof DeliveryCompleted e) return delivered(a, e.firingSeq(), DELIVERED);
      if (event instanceof RepairStarted e) return repaired(a, e.firingSeq(), STARTED);
      if (event instanceof RepairEnded e) return repaired(a, e.firingSeq(), e.outcome());
      if (event instanceof AlertDeleted e) return new Deleted(e.at(), a.lastFiringSeq());
    } else if (event instanceof AlertDefined e) {
      long lastSeq = state instanceof Deleted d ? d.lastFiringSeq() : 0;
      return new Active(e.def(), e.at(), e.at(), lastSeq, 0, null, Map.of(), List.of(), List.of());
    }
    throw new IllegalStateException(
        "unexpected event "
            + event.getClass().getSimpleName()
            + " in state "
            + state.getClass().getSimpleName());
  }

  private static boolean watchesId(AlertDefinition def, String serviceId) {
    return ANY_SERVICE.equals(def.service()) || def.service().equals(serviceId);
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
