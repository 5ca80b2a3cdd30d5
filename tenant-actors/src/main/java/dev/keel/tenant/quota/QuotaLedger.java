package dev.keel.tenant.quota;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import dev.keel.persistence.EntityAudit;
import dev.keel.persistence.EntityKind;
import dev.keel.persistence.EntityPlace;
import dev.keel.persistence.EntityRuntime;
import dev.keel.persistence.EntitySnapshots;
import dev.keel.persistence.KeelSerializable;
import dev.keel.persistence.RequestScope;
import dev.keel.persistence.SnapshottedEntity;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
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
 * One tenant's usage of one quota, and the single writer that admits against it: one entity per
 * tenant for services ({@code <tenantId>:services}) and for custom domains ({@code
 * <tenantId>:domains}), one per tenant and UTC month for workflow starts ({@code
 * <tenantId>:workflow-starts:2026-11}), so a new month starts at zero without anything being reset.
 * A create reserves its resource id here before the resource's own entity journals it; of 64
 * concurrent creates against a limit of 10, exactly 10 are granted because this entity handles one
 * reservation at a time.
 *
 * <p>Reservations are keyed by resource id, so reserving an id held already is granted without a
 * new event: a retry never counts twice and is never refused. Services and domains keep every held
 * id (their count is the number held; a deregistration or removal releases its id). Monthly starts
 * keep only the most recent ids ({@link #RECENT_STARTS}), enough for retries, since a month's
 * starts are never given back except by a start that turned out not to be new.
 *
 * <p>A new ledger is {@link Unseeded}: its first reservation answers {@link Outcome#UNSEEDED} and
 * the caller seeds it once from the read models (what existed before this entity, or before a
 * plan's limit was configured). A reservation whose create never happened (its node died in
 * between) is found by reconciliation: when a reservation is refused, held ids older than the
 * reconcile grace are listed in the reply for the caller to check against their own entities, at
 * most once per reconcile interval, and the ones that do not exist are released ({@link
 * Reconcile}).
 */
public final class QuotaLedger
    extends SnapshottedEntity<QuotaLedger.Command, QuotaLedger.Event, QuotaLedger.State> {

  public static final String ENTITY_TYPE = "quota";
  public static final EntityTypeKey<Command> ENTITY_KEY =
      EntityTypeKey.create(Command.class, ENTITY_TYPE);

  /** How many recent start ids a monthly ledger remembers for retries of the same id. */
  public static final int RECENT_STARTS = 1000;

  private static final Logger log = LoggerFactory.getLogger(QuotaLedger.class);

  // ---------------------------------------------------------------- commands

  public sealed interface Command extends KeelSerializable {}

  /** {@code command}, sent on behalf of request {@code requestId} (see {@link RequestScope}). */
  public record Traced(
      String requestId,
      @JsonInclude(JsonInclude.Include.NON_NULL) String traceParent,
      @JsonTypeInfo(use = JsonTypeInfo.Id.CLASS) Command command)
      implements Command, RequestScope.Traced<Command> {}

  /**
   * Reserve {@code resourceId} against {@code limit} ({@code -1}: unlimited); {@code counted}
   * reserves even over the limit (a tenant's own schedule runs count but are not refused).
   */
  public record Reserve(
      String resourceId, long limit, boolean counted, ActorRef<Reservation> replyTo)
      implements Command {}

  /** The usage that existed before this ledger: applied once, ignored when seeded already. */
  public record Seed(List<String> resourceIds, long used, ActorRef<StatusReply<Done>> replyTo)
      implements Command {}

  /** {@code resourceId} is gone (or its create was not new): its reservation no longer counts. */
  public record Release(String resourceId, ActorRef<StatusReply<Done>> replyTo)
      implements Command {}

  /** Of the ids a refusal listed to verify, these turned out not to exist. */
  public record Reconcile(List<String> gone, ActorRef<StatusReply<Done>> replyTo)
      implements Command {}

  /** Snapshot now ({@code POST /api/v1/snapshots/quota/{id}}), as every entity type can. */
  public record SaveSnapshot(ActorRef<StatusReply<Done>> replyTo) implements Command {}

  /** What a reservation came to. */
  public enum Outcome {
    GRANTED,
    REFUSED,
    UNSEEDED
  }

  /**
   * The answer to {@link Reserve}: {@code fresh} when this reservation added the id (the caller
   * releases it again if the create fails or was not new); {@code toVerify} lists, with a refusal,
   * held ids to check against their entities.
   */
  public record Reservation(Outcome outcome, long used, boolean fresh, List<String> toVerify)
      implements KeelSerializable {
    public Reservation {
      toVerify = List.copyOf(toVerify);
    }
  }

  // ---------------------------------------------------------------- events

  public sealed interface Event extends KeelSerializable {}

  /**
   * {@code remembered}: how many ids are kept, 0 for all of them (then {@code used} is their
   * number).
   */
  public record LedgerSeeded(List<String> resourceIds, long used, int remembered, Instant at)
      implements Event {}

  public record ResourceReserved(String resourceId, Instant at) implements Event {}

  public record ResourceReleased(String resourceId, Instant at) implements Event {}

  public record LedgerReconciled(List<String> gone, Instant at) implements Event {}

  /** The marker that makes the journal snapshot this ledger; changes nothing. */
  public record SnapshotRequested(Instant at) implements Event, EntitySnapshots.Request {}

  // ---------------------------------------------------------------- state

  public sealed interface State extends KeelSerializable {}

  /** No event yet: the usage before the ledger is unknown. */
  public record Unseeded() implements State {}

  /** A held id and when it was reserved. */
  public record Hold(String resourceId, Instant at) {}

  /** Counting: {@code used} against the plan, the ids held in reservation order. */
  public record Counting(long used, List<Hold> holds, int remembered, Instant reconciledAt)
      implements State {
    public Counting {
      holds = List.copyOf(holds);
    }

    Optional<Hold> hold(String resourceId) {
      for (Hold h : holds) if (h.resourceId().equals(resourceId)) return Optional.of(h);
      return Optional.empty();
    }
  }

  // ---------------------------------------------------------------- wiring

  /**
   * The ledger of {@code quota} for {@code tenantId}; {@code month} counts for workflow starts
   * only.
   */
  public static String entityId(String tenantId, Quota quota, YearMonth month) {
    return quota == Quota.WORKFLOW_STARTS
        ? tenantId + ":workflow-starts:" + month
        : tenantId + ":" + quota.key();
  }

  /** The timing of reconciliation; see the class comment. */
  public record Reconciliation(Duration interval, Duration grace) {}

  public static void init(ActorSystem<?> system, Clock clock, Reconciliation reconciliation) {
    EntityRuntime.start(
        system,
        KIND,
        EntityRuntime.Remembered.NO,
        place -> new QuotaLedger(place, clock, reconciliation));
  }

  public static Behavior<Command> create(
      String entityId, Clock clock, Reconciliation reconciliation) {
    return EntityRuntime.unsharded(
        entityId, place -> new QuotaLedger(place, clock, reconciliation));
  }

  public static PersistenceId persistenceId(String entityId) {
    return PersistenceId.of(ENTITY_TYPE, entityId);
  }

  private final String entityId;
  private final Clock clock;
  private final Reconciliation reconciliation;

  // Tagged like every entity so that audit can replay by type; nothing projects it.
  private QuotaLedger(EntityPlace<Command> place, Clock clock, Reconciliation reconciliation) {
    super(place, ENTITY_TYPE, persistenceId(place.entityId()));
    this.entityId = place.entityId();
    this.clock = clock;
    this.reconciliation = reconciliation;
  }

  @Override
  public State emptyState() {
    return new Unseeded();
  }

  @Override
  protected CommandHandlerWithReply<Command, Event, State> commands() {
    CommandHandlerWithReplyBuilder<Command, Event, State> b = newCommandHandlerWithReplyBuilder();
    b.forStateType(Unseeded.class)
        .onCommand(
            Reserve.class,
            (s, c) ->
                Effect().reply(c.replyTo(), new Reservation(Outcome.UNSEEDED, 0, false, List.of())))
        .onCommand(Seed.class, this::seed)
        .onCommand(
            Release.class,
            (s, c) -> Effect().reply(c.replyTo(), StatusReply.success(Done.getInstance())))
        .onCommand(
            Reconcile.class,
            (s, c) -> Effect().reply(c.replyTo(), StatusReply.success(Done.getInstance())));
    b.forStateType(Counting.class)
        .onCommand(Reserve.class, this::reserve)
        .onCommand(
            Seed.class,
            (s, c) -> Effect().reply(c.replyTo(), StatusReply.success(Done.getInstance())))
        .onCommand(Release.class, this::release)
        .onCommand(Reconcile.class, this::reconcile);
    b.forAnyState()
        .onCommand(
            SaveSnapshot.class,
            (s, c) ->
                saveSnapshot(
                    s instanceof Counting, new SnapshotRequested(clock.instant()), c.replyTo()));
    return b.build();
  }

  private ReplyEffect<Event, State> seed(Unseeded state, Seed c) {
    // Services and domains are counted by the ids held; a month's starts by their number.
    int remembered = entityId.contains(":workflow-starts:") ? RECENT_STARTS : 0;
    List<String> ids =
        remembered == 0 ? List.copyOf(new java.util.LinkedHashSet<>(c.resourceIds())) : List.of();
    long used = remembered == 0 ? ids.size() : c.used();
    return Effect()
        .persist(new LedgerSeeded(ids, used, remembered, clock.instant()))
        .thenRun(s -> log.info("quota ledger seeded ledger={} used={}", entityId, used))
        .thenReply(c.replyTo(), s -> StatusReply.success(Done.getInstance()));
  }

  private ReplyEffect<Event, State> reserve(Counting state, Reserve c) {
    if (state.hold(c.resourceId()).isPresent()) {
      return Effect()
          .reply(c.replyTo(), new Reservation(Outcome.GRANTED, state.used(), false, List.of()));
    }
    if (!c.counted() && c.limit() >= 0 && state.used() >= c.limit()) {
      return Effect()
          .reply(
              c.replyTo(), new Reservation(Outcome.REFUSED, state.used(), false, toVerify(state)));
    }
    return Effect()
        .persist(new ResourceReserved(c.resourceId(), clock.instant()))
        .thenReply(
            c.replyTo(),
            s -> new Reservation(Outcome.GRANTED, ((Counting) s).used(), true, List.of()));
  }

  /** Held ids old enough that their create has finished, when a reconciliation is due. */
  private List<String> toVerify(Counting state) {
    Instant now = clock.instant();
    if (state.remembered() != 0)
      return List.of(); // a month's starts stay counted: a start is never undone
    if (state.reconciledAt() != null
        && now.isBefore(state.reconciledAt().plus(reconciliation.interval()))) return List.of();
    Instant settled = now.minus(reconciliation.grace());
    return state.holds().stream()
        .filter(h -> h.at().isBefore(settled))
        .map(Hold::resourceId)
        .toList();
  }

  private ReplyEffect<Event, State> release(Counting state, Release c) {
    if (state.hold(c.resourceId()).isEmpty())
      return Effect().reply(c.replyTo(), StatusReply.success(Done.getInstance()));
    return Effect()
        .persist(new ResourceReleased(c.resourceId(), clock.instant()))
        .thenReply(c.replyTo(), s -> StatusReply.success(Done.getInstance()));
  }

  private ReplyEffect<Event, State> reconcile(Counting state, Reconcile c) {
    List<String> gone =
        c.gone().stream().distinct().filter(id -> state.hold(id).isPresent()).toList();
    return Effect()
        .persist(new LedgerReconciled(gone, clock.instant()))
        .thenRun(
            s -> {
              if (!gone.isEmpty())
                log.info("quota ledger reconciled ledger={} released={}", entityId, gone.size());
            })
        .thenReply(c.replyTo(), s -> StatusReply.success(Done.getInstance()));
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return QuotaLedger::apply;
  }

  /** The state after {@code event}: pure, also used to rebuild past states for audit. */
  public static State apply(State state, Event event) {
    if (event instanceof SnapshotRequested) return state;
    if (event instanceof LedgerSeeded e) {
      return new Counting(
          e.used(),
          e.resourceIds().stream().map(id -> new Hold(id, e.at())).toList(),
          e.remembered(),
          null);
    }
    if (!(state instanceof Counting s)) {
      throw new IllegalStateException(
          "unexpected event "
              + event.getClass().getSimpleName()
              + " in state "
              + state.getClass().getSimpleName());
    }
    if (event instanceof ResourceReserved e) {
      List<Hold> holds = new ArrayList<>(s.holds());
      holds.add(new Hold(e.resourceId(), e.at()));
      if (s.remembered() > 0 && holds.size() > s.remembered()) holds.remove(0);
      return new Counting(s.used() + 1, holds, s.remembered(), s.reconciledAt());
    }
    if (event instanceof ResourceReleased e) {
      List<Hold> holds =
          s.holds().stream().filter(h -> !h.resourceId().equals(e.resourceId())).toList();
      long released = s.holds().size() - holds.size();
      return new Counting(s.used() - released, holds, s.remembered(), s.reconciledAt());
    }
    if (event instanceof LedgerReconciled e) {
      Set<String> gone = new HashSet<>(e.gone());
      List<Hold> holds = s.holds().stream().filter(h -> !gone.contains(h.resourceId())).toList();
      return new Counting(
          s.used() - (s.holds().size() - holds.size()), holds, s.remembered(), e.at());
    }
    throw new IllegalStateException("unexpected event " + event.getClass().getSimpleName());
  }

  /** How audit replays a ledger: this entity's own handler; the state itself is the view. */
  public static final EntityAudit<State, Event> AUDIT =
      new EntityAudit<>(
          ENTITY_TYPE,
          Event.class,
          new Unseeded(),
          QuotaLedger::apply,
          (id, s) -> s instanceof Counting ? Optional.<Object>of(s) : Optional.empty());

  /** This entity type as the node declares it: sharding key, audit, snapshots on demand. */
  public static final EntityKind<Command> KIND =
      new EntityKind<>(ENTITY_KEY, AUDIT, SaveSnapshot::new);
}
