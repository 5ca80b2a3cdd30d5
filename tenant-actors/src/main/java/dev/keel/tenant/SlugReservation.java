package dev.keel.tenant;

import com.fasterxml.jackson.annotation.JsonInclude;
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
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
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
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One tenant slug, reserved by at most one tenant: the actor answer to a unique constraint. The
 * entity is the single writer for its slug across the cluster, so of two concurrent creates of one
 * slug exactly one reserves it.
 *
 * <p>A reservation is confirmed once its tenant exists. An unconfirmed one older than {@code
 * unconfirmed-reservation-expiry} belongs to a create that died half-way (its node was lost between
 * the reservation and the tenant) and may be taken by another tenant; a create that fails cleanly
 * releases its reservation at once.
 */
public final class SlugReservation
    extends SnapshottedEntity<
        SlugReservation.Command, SlugReservation.Event, SlugReservation.State> {

  public static final EntityTypeKey<Command> ENTITY_KEY =
      EntityTypeKey.create(Command.class, "slug");
  public static final String ENTITY_TYPE = "slug";

  private static final Logger log = LoggerFactory.getLogger(SlugReservation.class);

  // ---------------------------------------------------------------- commands

  public sealed interface Command extends KeelSerializable {}

  /** {@code command}, sent on behalf of request {@code requestId} (see {@link RequestScope}). */
  public record Traced(
      String requestId,
      @JsonInclude(JsonInclude.Include.NON_NULL) String traceParent,
      @JsonTypeInfo(use = JsonTypeInfo.Id.CLASS) Command command)
      implements Command, RequestScope.Traced<Command> {}

  /** Reserve for {@code tenantId}; the same tenant again succeeds without a new event. */
  public record Reserve(String tenantId, ActorRef<StatusReply<Done>> replyTo) implements Command {}

  /** The tenant now exists: the reservation no longer expires. */
  public record Confirm(String tenantId, ActorRef<StatusReply<Done>> replyTo) implements Command {}

  /** Free the slug, if {@code tenantId} holds it (a failed create, or the tenant was deleted). */
  public record Release(String tenantId, ActorRef<StatusReply<Done>> replyTo) implements Command {}

  /** Snapshot now ({@code POST /api/v1/snapshots/slug/{slug}}), as every entity type can. */
  public record SaveSnapshot(ActorRef<StatusReply<Done>> replyTo) implements Command {}

  // ---------------------------------------------------------------- events

  public sealed interface Event extends KeelSerializable {}

  public record SlugReserved(String tenantId, Instant at) implements Event {}

  public record SlugConfirmed(String tenantId, Instant at) implements Event {}

  public record SlugReleased(String tenantId, Instant at) implements Event {}

  /** The marker that makes the journal snapshot this reservation; changes nothing. */
  public record SnapshotRequested(Instant at) implements Event, EntitySnapshots.Request {}

  // ---------------------------------------------------------------- state

  public sealed interface State extends KeelSerializable {}

  public record Free() implements State {}

  public record Reserved(String tenantId, Instant at, boolean confirmed) implements State {}

  // ---------------------------------------------------------------- wiring

  public static void init(ActorSystem<?> system, Clock clock, Duration unconfirmedExpiry) {
    EntityRuntime.start(
        system,
        KIND,
        EntityRuntime.Remembered.NO,
        place -> new SlugReservation(place, clock, unconfirmedExpiry));
  }

  public static Behavior<Command> create(String slug, Clock clock, Duration unconfirmedExpiry) {
    return EntityRuntime.unsharded(
        slug, place -> new SlugReservation(place, clock, unconfirmedExpiry));
  }

  private final String slug;
  private final Clock clock;
  private final Duration unconfirmedExpiry;

  // Not projected (nothing lists slugs), but tagged like every entity so that audit can replay by
  // type.
  private SlugReservation(EntityPlace<Command> place, Clock clock, Duration unconfirmedExpiry) {
    super(place, ENTITY_TYPE, PersistenceId.of(ENTITY_TYPE, place.entityId()));
    this.slug = place.entityId();
    this.clock = clock;
    this.unconfirmedExpiry = unconfirmedExpiry;
  }

  @Override
  public State emptyState() {
    return new Free();
  }

  @Override
  protected CommandHandlerWithReply<Command, Event, State> commands() {
    CommandHandlerWithReplyBuilder<Command, Event, State> b = newCommandHandlerWithReplyBuilder();
    b.forStateType(Free.class)
        .onCommand(Reserve.class, (s, c) -> reserve(c))
        .onCommand(
            Confirm.class,
            (s, c) ->
                Effect()
                    .reply(c.replyTo(), Rejection.conflict("slug '" + slug + "' is not reserved")))
        .onCommand(
            Release.class,
            (s, c) -> Effect().reply(c.replyTo(), StatusReply.success(Done.getInstance())));
    b.forStateType(Reserved.class)
        .onCommand(Reserve.class, this::reserveTaken)
        .onCommand(Confirm.class, this::confirm)
        .onCommand(Release.class, this::release);
    b.forAnyState()
        .onCommand(
            SaveSnapshot.class,
            (s, c) ->
                saveSnapshot(
                    s instanceof Reserved, new SnapshotRequested(clock.instant()), c.replyTo()));
    return b.build();
  }

  private ReplyEffect<Event, State> reserve(Reserve c) {
    return Effect()
        .persist(new SlugReserved(c.tenantId(), clock.instant()))
        .thenRun(s -> log.info("slug reserved slug={} tenantId={}", slug, c.tenantId()))
        .thenReply(c.replyTo(), s -> StatusReply.success(Done.getInstance()));
  }

  private ReplyEffect<Event, State> reserveTaken(Reserved state, Reserve c) {
    if (state.tenantId().equals(c.tenantId()))
      return Effect().reply(c.replyTo(), StatusReply.success(Done.getInstance()));
    boolean abandoned =
        !state.confirmed() && clock.instant().isAfter(state.at().plus(unconfirmedExpiry));
    if (abandoned) {
      log.info(
          "slug reservation taken over slug={} abandonedBy={} tenantId={}",
          slug,
          state.tenantId(),
          c.tenantId());
      return reserve(c);
    }
    return Effect().reply(c.replyTo(), Rejection.conflict("slug '" + slug + "' is taken"));
  }

  private ReplyEffect<Event, State> confirm(Reserved state, Confirm c) {
    if (!state.tenantId().equals(c.tenantId())) {
      return Effect()
          .reply(
              c.replyTo(), Rejection.conflict("slug '" + slug + "' is reserved by another tenant"));
    }
    if (state.confirmed())
      return Effect().reply(c.replyTo(), StatusReply.success(Done.getInstance()));
    return Effect()
        .persist(new SlugConfirmed(c.tenantId(), clock.instant()))
        .thenReply(c.replyTo(), s -> StatusReply.success(Done.getInstance()));
  }

  private ReplyEffect<Event, State> release(Reserved state, Release c) {
    if (!state.tenantId().equals(c.tenantId())) {
      // Someone else's now (taken over after expiry): nothing of this tenant's to release.
      return Effect().reply(c.replyTo(), StatusReply.success(Done.getInstance()));
    }
    return Effect()
        .persist(new SlugReleased(c.tenantId(), clock.instant()))
        .thenRun(s -> log.info("slug released slug={} tenantId={}", slug, c.tenantId()))
        .thenReply(c.replyTo(), s -> StatusReply.success(Done.getInstance()));
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return SlugReservation::apply;
  }

  /** The state after {@code event}: pure, also used to rebuild past states for audit. */
  public static State apply(State state, Event event) {
    if (event instanceof SnapshotRequested) return state;
    if (event instanceof SlugReserved e) return new Reserved(e.tenantId(), e.at(), false);
    if (event instanceof SlugConfirmed e && state instanceof Reserved r)
      return new Reserved(r.tenantId(), r.at(), true);
    if (event instanceof SlugReleased) return new Free();
    throw new IllegalStateException(
        "unexpected event "
            + event.getClass().getSimpleName()
            + " in state "
            + state.getClass().getSimpleName());
  }

  /** Audit shows a reserved slug as its holder, whether confirmed, and since when. */
  public static final EntityAudit<State, Event> AUDIT =
      new EntityAudit<>(
          ENTITY_TYPE,
          Event.class,
          new Free(),
          SlugReservation::apply,
          (slug, s) -> s instanceof Reserved r ? Optional.<Object>of(r) : Optional.empty());

  /** This entity type as the node declares it: sharding key, audit, snapshots on demand. */
  public static final EntityKind<Command> KIND =
      new EntityKind<>(ENTITY_KEY, AUDIT, SaveSnapshot::new);
}
