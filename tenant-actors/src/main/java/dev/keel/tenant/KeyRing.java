package dev.keel.tenant;

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
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
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
 * The named API keys of one owner — a tenant (entity id = tenant id) or the cluster ({@value
 * NamedKeys#CLUSTER}) — and the single writer that creates, revokes and checks them. Every request
 * with a named key asks this entity, so a revoke is refused on every node from the moment it is
 * journaled (no cache to expire), exactly as tenants' first keys are checked by their tenant
 * entity. Keys are stored as their SHA-256 only.
 */
public final class KeyRing
    extends SnapshottedEntity<KeyRing.Command, KeyRing.Event, KeyRing.State> {

  public static final String ENTITY_TYPE = "keyring";
  public static final EntityTypeKey<Command> ENTITY_KEY =
      EntityTypeKey.create(Command.class, ENTITY_TYPE);

  /** Keys per owner, revoked ones included: the state stays small. */
  public static final int MAX_KEYS = 100;

  private static final Logger log = LoggerFactory.getLogger(KeyRing.class);

  // ---------------------------------------------------------------- commands

  public sealed interface Command extends KeelSerializable {}

  public record Traced(
      String requestId,
      @JsonInclude(JsonInclude.Include.NON_NULL) String traceParent,
      @JsonTypeInfo(use = JsonTypeInfo.Id.CLASS) Command command)
      implements Command, RequestScope.Traced<Command> {}

  public record CreateKey(
      String keyId,
      String name,
      Role role,
      Instant expiresAt,
      String keyHash,
      ActorRef<StatusReply<KeyView>> replyTo)
      implements Command {}

  public record RevokeKey(String keyId, ActorRef<StatusReply<KeyView>> replyTo)
      implements Command {}

  public record ListKeys(ActorRef<StatusReply<KeyList>> replyTo) implements Command {}

  /** The answer to {@link ListKeys}: a record, as a bare list would not serialize across nodes. */
  public record KeyList(List<KeyView> keys) implements KeelSerializable {
    public KeyList {
      keys = List.copyOf(keys);
    }
  }

  public record CheckKey(String keyId, String keyHash, ActorRef<KeyCheck> replyTo)
      implements Command {}

  public record SaveSnapshot(ActorRef<StatusReply<Done>> replyTo) implements Command {}

  /**
   * The answer to {@link CheckKey}: the key's role, or empty when it is unknown, revoked or
   * expired.
   */
  public record KeyCheck(Role role, String why) implements KeelSerializable {
    /** The role when the key is live. */
    public Optional<Role> granted() {
      return Optional.ofNullable(role);
    }
  }

  /**
   * A key as listed: never its hash. {@code status}: {@code active}, {@code expired}, {@code
   * revoked}.
   */
  public record KeyView(
      String id,
      String name,
      String role,
      String status,
      Instant expiresAt,
      Instant createdAt,
      Instant revokedAt)
      implements KeelSerializable {}

  // ---------------------------------------------------------------- events

  public sealed interface Event extends KeelSerializable {}

  public record NamedKeyCreated(
      String keyId, String name, String role, Instant expiresAt, String keyHash, Instant at)
      implements Event {}

  public record NamedKeyRevoked(String keyId, Instant at) implements Event {}

  public record SnapshotRequested(Instant at) implements Event, EntitySnapshots.Request {}

  // ---------------------------------------------------------------- state

  public sealed interface State extends KeelSerializable {}

  public record NamedKey(
      String keyId,
      String name,
      String role,
      Instant expiresAt,
      String keyHash,
      Instant createdAt,
      Instant revokedAt) {

    String status(Instant now) {
      if (revokedAt != null) return "revoked";
      if (expiresAt != null && !now.isBefore(expiresAt)) return "expired";
      return "active";
    }

    KeyView view(Instant now) {
      return new KeyView(keyId, name, role, status(now), expiresAt, createdAt, revokedAt);
    }
  }

  /** The keys in creation order. */
  public record Ring(List<NamedKey> keys) implements State {
    public Ring {
      keys = List.copyOf(keys);
    }

    Optional<NamedKey> key(String keyId) {
      return keys.stream().filter(k -> k.keyId().equals(keyId)).findFirst();
    }
  }

  // ---------------------------------------------------------------- wiring

  public static void init(ActorSystem<?> system, Clock clock) {
    EntityRuntime.start(
        system, KIND, EntityRuntime.Remembered.NO, place -> new KeyRing(place, clock));
  }

  public static org.apache.pekko.actor.typed.Behavior<Command> create(String owner, Clock clock) {
    return EntityRuntime.unsharded(owner, place -> new KeyRing(place, clock));
  }

  public static PersistenceId persistenceId(String owner) {
    return PersistenceId.of(ENTITY_TYPE, owner);
  }

  private final String owner;
  private final Clock clock;

  private KeyRing(EntityPlace<Command> place, Clock clock) {
    super(place, ENTITY_TYPE, persistenceId(place.entityId()));
    this.owner = place.entityId();
    this.clock = clock;
  }

  @Override
  public State emptyState() {
    return new Ring(List.of());
  }

  @Override
  protected CommandHandlerWithReply<Command, Event, State> commands() {
    CommandHandlerWithReplyBuilder<Command, Event, State> b = newCommandHandlerWithReplyBuilder();
    b.forStateType(Ring.class)
        .onCommand(CreateKey.class, this::create)
        .onCommand(RevokeKey.class, this::revoke)
        .onCommand(
            ListKeys.class,
            (s, c) -> {
              Instant now = clock.instant();
              return Effect()
                  .reply(
                      c.replyTo(),
                      StatusReply.success(
                          new KeyList(s.keys().stream().map(k -> k.view(now)).toList())));
            })
        .onCommand(CheckKey.class, this::check);
    b.forAnyState()
        .onCommand(
            SaveSnapshot.class,
            (s, c) -> saveSnapshot(true, new SnapshotRequested(clock.instant()), c.replyTo()));
    return b.build();
  }

  private ReplyEffect<Event, State> create(Ring ring, CreateKey c) {
    Instant now = clock.instant();
    if (ring.keys().size() >= MAX_KEYS) {
      return Effect()
          .reply(
              c.replyTo(),
              dev.keel.persistence.Rejection.conflict(
                  ("at most " + MAX_KEYS + " keys per owner, revoked ones included")));
    }
    boolean nameTaken =
        ring.keys().stream()
            .anyMatch(k -> k.name().equals(c.name()) && k.status(now).equals("active"));
    if (nameTaken) {
      return Effect()
          .reply(
              c.replyTo(),
              dev.keel.persistence.Rejection.conflict(
                  ("an active key is named '" + c.name() + "' already")));
    }
    return Effect()
        .persist(
            new NamedKeyCreated(
                c.keyId(), c.name(), c.role().wire(), c.expiresAt(), c.keyHash(), now))
        .thenRun(
            s ->
                log.info(
                    "api key created owner={} key={} role={} expiresAt={}",
                    owner,
                    c.keyId(),
                    c.role().wire(),
                    c.expiresAt()))
        .thenReply(
            c.replyTo(),
            s -> StatusReply.success(((Ring) s).key(c.keyId()).orElseThrow().view(now)));
  }

  private ReplyEffect<Event, State> revoke(Ring ring, RevokeKey c) {
    Instant now = clock.instant();
    Optional<NamedKey> key = ring.key(c.keyId());
    if (key.isEmpty()) {
      return Effect()
          .reply(
              c.replyTo(), dev.keel.persistence.Rejection.notFound(("no key '" + c.keyId() + "'")));
    }
    if (key.get().revokedAt() != null) {
      return Effect().reply(c.replyTo(), StatusReply.success(key.get().view(now)));
    }
    return Effect()
        .persist(new NamedKeyRevoked(c.keyId(), now))
        .thenRun(s -> log.info("api key revoked owner={} key={}", owner, c.keyId()))
        .thenReply(
            c.replyTo(),
            s -> StatusReply.success(((Ring) s).key(c.keyId()).orElseThrow().view(now)));
  }

  private ReplyEffect<Event, State> check(Ring ring, CheckKey c) {
    Optional<NamedKey> key = ring.key(c.keyId());
    if (key.isEmpty()
        || !java.security.MessageDigest.isEqual(
            c.keyHash().getBytes(java.nio.charset.StandardCharsets.US_ASCII),
            key.get().keyHash().getBytes(java.nio.charset.StandardCharsets.US_ASCII))) {
      return Effect().reply(c.replyTo(), new KeyCheck(null, "the token is not known"));
    }
    String status = key.get().status(clock.instant());
    if (!status.equals("active")) {
      return Effect().reply(c.replyTo(), new KeyCheck(null, "the key is " + status));
    }
    return Effect()
        .reply(c.replyTo(), new KeyCheck(Role.parse(key.get().role()).orElse(null), null));
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return KeyRing::apply;
  }

  /** The state after {@code event}: pure, also used by audit. */
  public static State apply(State state, Event event) {
    Ring ring = (Ring) state;
    if (event instanceof SnapshotRequested) return ring;
    if (event instanceof NamedKeyCreated e) {
      List<NamedKey> keys = new ArrayList<>(ring.keys());
      keys.add(
          new NamedKey(e.keyId(), e.name(), e.role(), e.expiresAt(), e.keyHash(), e.at(), null));
      return new Ring(keys);
    }
    if (event instanceof NamedKeyRevoked e) {
      return new Ring(
          ring.keys().stream()
              .map(
                  k ->
                      k.keyId().equals(e.keyId())
                          ? new NamedKey(
                              k.keyId(),
                              k.name(),
                              k.role(),
                              k.expiresAt(),
                              k.keyHash(),
                              k.createdAt(),
                              e.at())
                          : k)
              .toList());
    }
    throw new IllegalStateException("unexpected event " + event.getClass().getSimpleName());
  }

  /** Audit replays a ring through this handler; its view lists the keys, never their hashes. */
  public static final EntityAudit<State, Event> AUDIT =
      new EntityAudit<>(
          ENTITY_TYPE,
          Event.class,
          new Ring(List.of()),
          KeyRing::apply,
          (id, s) ->
              ((Ring) s).keys().isEmpty()
                  ? Optional.empty()
                  : Optional.<Object>of(
                      ((Ring) s).keys().stream().map(k -> k.view(Instant.now())).toList()));

  public static final EntityKind<Command> KIND =
      new EntityKind<>(ENTITY_KEY, AUDIT, SaveSnapshot::new);
}
