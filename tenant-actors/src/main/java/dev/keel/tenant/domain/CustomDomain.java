package dev.keel.tenant.domain;

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
import dev.keel.persistence.grammar.Hostnames;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
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
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReplyBuilderByState;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One custom hostname (the entity id is its normalised form, see {@link Hostnames}): the claim that
 * keeps it unique across tenants — sharding makes this entity the single writer of the name — and
 * the hostname's own state.
 *
 * <p>Verification: a claim gets a random challenge that the tenant publishes as the TXT record
 * {@code _keel-challenge.<hostname>}. A pending hostname is checked on its {@link
 * VerificationSchedule} by durable timers (the entity is remembered and journals {@code
 * nextCheckAt}, so checks go on after a restart or on another node), and at once on {@link Verify}.
 * The first check that finds the challenge makes it {@code verified} (no more checks); when the
 * schedule runs out it is {@code failed}, and a {@link Verify} starts it again. Every check is
 * journaled with its time and, when it fails, why (NXDOMAIN, no TXT record, wrong value, timeout,
 * lookup failure); the last {@value #MAX_ERRORS_KEPT} reasons are kept.
 *
 * <p>Certificate: a second state machine beside verification ({@link CertificateTransitions}). A
 * hostname can be verified while its certificate is not. The DNS lookups run in {@link
 * ChallengeLookup}.
 *
 * <p>Only the owning tenant sees or changes a claimed hostname: to any other tenant it does not
 * exist, except that claiming it is a conflict (without saying whose it is).
 */
public final class CustomDomain
    extends SnapshottedEntity<CustomDomain.Command, CustomDomain.Event, CustomDomain.State> {

  public static final EntityTypeKey<Command> ENTITY_KEY =
      EntityTypeKey.create(Command.class, "hostname");

  /** Entity type name in persistence ids and tags; never changes. */
  public static final String ENTITY_TYPE = "hostname";

  public static final String PENDING = "pending_verification";
  public static final String VERIFIED = "verified";
  public static final String FAILED = "failed";

  /** Where the challenge goes: {@code _keel-challenge.<hostname>}. */
  public static final String CHALLENGE_LABEL = "_keel-challenge";

  /** Verification errors kept in the state (older ones stay in the journal). */
  public static final int MAX_ERRORS_KEPT = 10;

  /** Check failure codes: each a distinct reason a tenant can act on. */
  public static final String NXDOMAIN = "nxdomain";

  public static final String NO_RECORD = "no_record";
  public static final String WRONG_VALUE = "wrong_value";
  public static final String TIMEOUT = "timeout";
  public static final String LOOKUP_FAILED = "lookup_failed";

  /** A Pekko timer is never armed longer than this; a far check re-arms on the way. */
  static final Duration MAX_TIMER_DELAY = Duration.ofHours(1);

  private static final String CHECK_TIMER = "check";
  private static final String IDLE_TIMER = "idle";

  private static final Logger log = LoggerFactory.getLogger(CustomDomain.class);

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
                value = Claim.class,
                name = "dev.keel.tenant.domain.CustomDomain$Claim"),
            @JsonSubTypes.Type(value = Get.class, name = "dev.keel.tenant.domain.CustomDomain$Get"),
            @JsonSubTypes.Type(
                value = Verify.class,
                name = "dev.keel.tenant.domain.CustomDomain$Verify"),
            @JsonSubTypes.Type(
                value = SetCertificate.class,
                name = "dev.keel.tenant.domain.CustomDomain$SetCertificate"),
            @JsonSubTypes.Type(
                value = Release.class,
                name = "dev.keel.tenant.domain.CustomDomain$Release")
          })
          Command command)
      implements Command, RequestScope.Traced<Command> {}

  /** Snapshot now (POST /api/v1/admin/snapshots); answered once the snapshot is stored. */
  public record SaveSnapshot(ActorRef<StatusReply<Done>> replyTo) implements Command {}

  /**
   * Claim the hostname for {@code tenantId} with {@code challengeToken} (made by the caller, so
   * that this entity needs no randomness); the same tenant again gets the claim as it is.
   */
  public record Claim(
      String tenantId, String challengeToken, ActorRef<StatusReply<ClaimResult>> replyTo)
      implements Command {}

  public record Get(String tenantId, ActorRef<StatusReply<DomainView>> replyTo)
      implements Command {}

  /** Check the TXT record now; answers once the check is journaled (or at once when verified). */
  public record Verify(String tenantId, ActorRef<StatusReply<DomainView>> replyTo)
      implements Command {}

  /** Move the certificate to {@code status}; {@code expiresAt} is required for {@code issued}. */
  public record SetCertificate(
      String tenantId,
      String status,
      Instant expiresAt,
      String reason,
      ActorRef<StatusReply<DomainView>> replyTo)
      implements Command {}

  /** Give the hostname up: it is free for any tenant again. */
  public record Release(String tenantId, String reason, ActorRef<StatusReply<Done>> replyTo)
      implements Command {}

  /** Local (timer, or a test after moving its clock): a scheduled check may be due. */
  public record CheckDue() implements Command {}

  /** Local: a lookup finished; {@code code} and {@code reason} say why it failed, when it did. */
  public record CheckCompleted(String trigger, boolean verified, String code, String reason)
      implements Command {}

  /** Local (timer): no command for a while; leave memory unless checks are pending. */
  public record Idle() implements Command {}

  // ---------------------------------------------------------------- values and replies

  /** Who claimed the hostname, with what challenge, when. */
  public record Ownership(String tenantId, String challengeToken, Instant claimedAt) {}

  /**
   * The certificate's status, why and since when it is so; {@code expiresAt} of the last one
   * issued.
   */
  public record Certificate(String status, Instant expiresAt, String reason, Instant updatedAt) {
    static Certificate none(Instant at) {
      return new Certificate("none", null, "no certificate yet", at);
    }
  }

  /** One failed check: when, which kind of failure ({@link #NXDOMAIN} …), and what it found. */
  public record VerificationError(Instant at, String code, String reason) {}

  /** The TXT record to publish. */
  public record Verification(String type, String name, String value) {}

  public record ClaimResult(boolean created, DomainView view) implements KeelSerializable {}

  /** A hostname as the API shows it; {@code nextCheckAt} only while pending. */
  public record DomainView(
      String hostname,
      String tenantId,
      String status,
      Verification verification,
      Certificate certificate,
      Instant lastCheckedAt,
      List<VerificationError> verificationErrors,
      Instant nextCheckAt,
      Instant verifiedAt,
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

      R on(DomainClaimed e);

      R on(VerificationCheckFailed e);

      R on(DomainVerified e);

      R on(VerificationGaveUp e);

      R on(VerificationRestarted e);

      R on(CertificateChanged e);

      R on(DomainReleased e);
    }
  }

  /** Marks a snapshot taken on demand; changes nothing. */
  public record SnapshotRequested(Instant at) implements Event, EntitySnapshots.Request {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.on(this);
    }
  }

  public record DomainClaimed(
      String tenantId, String challengeToken, Instant at, Instant nextCheckAt) implements Event {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.on(this);
    }
  }

  /**
   * A check ({@code trigger}: {@code schedule} or {@code request}) did not find the challenge;
   * still pending.
   */
  public record VerificationCheckFailed(
      String code, String reason, String trigger, Instant at, Instant nextCheckAt)
      implements Event {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.on(this);
    }
  }

  public record DomainVerified(String reason, String trigger, Instant at) implements Event {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.on(this);
    }
  }

  /** The last check of the schedule failed too: the hostname is failed. */
  public record VerificationGaveUp(String code, String reason, Instant at) implements Event {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.on(this);
    }
  }

  /** A failed hostname's schedule starts again (on request). */
  public record VerificationRestarted(String reason, Instant at, Instant nextCheckAt)
      implements Event {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.on(this);
    }
  }

  public record CertificateChanged(
      String from, String to, Instant expiresAt, String reason, Instant at) implements Event {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.on(this);
    }
  }

  public record DomainReleased(String tenantId, String reason, Instant at) implements Event {
    @Override
    public <R> R accept(Visitor<R> visitor) {
      return visitor.on(this);
    }
  }

  // ---------------------------------------------------------------- state

  /** The verification lifecycle is the state type. */
  public sealed interface State extends KeelSerializable {}

  /** Never claimed. */
  public record Unclaimed() implements State {}

  /** Claimed by a tenant: pending, verified or failed. */
  public sealed interface Claimed extends State {
    Ownership ownership();

    Certificate certificate();

    Instant lastCheckedAt();

    List<VerificationError> verificationErrors();

    Instant updatedAt();

    Claimed withCertificate(Certificate certificate, Instant at);
  }

  /**
   * Checked on the schedule that started at {@code scheduleStartedAt}; the next check at {@code
   * nextCheckAt}.
   */
  public record Pending(
      Ownership ownership,
      Certificate certificate,
      Instant scheduleStartedAt,
      Instant nextCheckAt,
      Instant lastCheckedAt,
      List<VerificationError> verificationErrors,
      Instant updatedAt)
      implements Claimed {
    public Pending {
      verificationErrors = verificationErrors == null ? List.of() : List.copyOf(verificationErrors);
    }

    @Override
    public Claimed withCertificate(Certificate c, Instant at) {
      return new Pending(
          ownership, c, scheduleStartedAt, nextCheckAt, lastCheckedAt, verificationErrors, at);
    }
  }

  public record Verified(
      Ownership ownership,
      Certificate certificate,
      Instant verifiedAt,
      Instant lastCheckedAt,
      List<VerificationError> verificationErrors,
      Instant updatedAt)
      implements Claimed {
    public Verified {
      verificationErrors = verificationErrors == null ? List.of() : List.copyOf(verificationErrors);
    }

    @Override
    public Claimed withCertificate(Certificate c, Instant at) {
      return new Verified(ownership, c, verifiedAt, lastCheckedAt, verificationErrors, at);
    }
  }

  /** The schedule ran out without finding the challenge. */
  public record Failed(
      Ownership ownership,
      Certificate certificate,
      Instant failedAt,
      Instant lastCheckedAt,
      List<VerificationError> verificationErrors,
      Instant updatedAt)
      implements Claimed {
    public Failed {
      verificationErrors = verificationErrors == null ? List.of() : List.copyOf(verificationErrors);
    }

    @Override
    public Claimed withCertificate(Certificate c, Instant at) {
      return new Failed(ownership, c, failedAt, lastCheckedAt, verificationErrors, at);
    }
  }

  /** Given up by {@code tenantId}: free; any tenant's claim starts afresh. */
  public record Released(String tenantId, Instant releasedAt) implements State {}

  // ---------------------------------------------------------------- wiring

  /** Starts sharding for hostnames; remembered, so that pending checks go on when a node dies. */
  public static void init(
      ActorSystem<?> system, DnsTxtResolver resolver, Clock clock, DomainSettings settings) {
    EntityRuntime.start(
        system,
        KIND,
        EntityRuntime.Remembered.YES,
        place -> new CustomDomain(place, resolver, clock, settings));
  }

  public static PersistenceId persistenceId(String hostname) {
    return PersistenceId.of(ENTITY_TYPE, hostname);
  }

  public static Behavior<Command> create(
      String hostname, DnsTxtResolver resolver, Clock clock, DomainSettings settings) {
    return EntityRuntime.unsharded(
        hostname, place -> new CustomDomain(place, resolver, clock, settings));
  }

  /** The DNS name whose TXT record carries the challenge of {@code hostname}. */
  public static String challengeName(String hostname) {
    return CHALLENGE_LABEL + "." + hostname;
  }

  // ---------------------------------------------------------------- runtime (not journaled)

  private final String hostname;
  private final Clock clock;
  private final DomainSettings settings;

  private final ChallengeLookup lookup;

  /** {@link Verify} callers waiting for the lookup under way. */
  private final List<ActorRef<StatusReply<DomainView>>> waiting = new ArrayList<>();

  private CustomDomain(
      EntityPlace<Command> place, DnsTxtResolver resolver, Clock clock, DomainSettings settings) {
    super(place, ENTITY_TYPE, persistenceId(place.entityId()));
    this.hostname = place.entityId();
    this.lookup = new ChallengeLookup(hostname, resolver, settings.dnsTimeout(), context);
    this.clock = clock;
    this.settings = settings;
  }

  @Override
  public State emptyState() {
    return new Unclaimed();
  }

  @Override
  protected void onRecovered(State state) {
    // A check due while no node ran this hostname fires at once (the timer's delay is then zero).
    arm(state);
  }

  // ---------------------------------------------------------------- command handlers

  @Override
  protected CommandHandlerWithReply<Command, Event, State> commands() {
    CommandHandlerWithReplyBuilder<Command, Event, State> b = newCommandHandlerWithReplyBuilder();
    free(b.forStateType(Unclaimed.class));
    free(b.forStateType(Released.class));
    claimed(b.forStateType(Pending.class))
        .onCommand(Verify.class, this::verifyPending)
        .onCommand(CheckDue.class, this::checkDue)
        .onCommand(CheckCompleted.class, this::checkCompleted)
        .onCommand(Idle.class, (s, c) -> Effect().noReply()); // it has checks to run: stays
    claimed(b.forStateType(Verified.class))
        .onCommand(
            Verify.class,
            (s, c) ->
                owned(
                    s,
                    c.tenantId(),
                    c.replyTo(),
                    () -> {
                      arm(s); // verified: no more checks, the current state is the answer
                      return Effect().reply(c.replyTo(), StatusReply.success(view(s)));
                    }))
        .onCommand(CheckDue.class, (s, c) -> Effect().noReply())
        .onCommand(CheckCompleted.class, this::checkCompletedElsewhere)
        .onCommand(Idle.class, (s, c) -> idle());
    claimed(b.forStateType(Failed.class))
        .onCommand(Verify.class, this::restart)
        .onCommand(CheckDue.class, (s, c) -> Effect().noReply())
        .onCommand(CheckCompleted.class, this::checkCompletedElsewhere)
        .onCommand(Idle.class, (s, c) -> idle());
    b.forAnyState()
        .onCommand(
            SaveSnapshot.class,
            (s, c) ->
                saveSnapshot(
                    !(s instanceof Unclaimed),
                    new SnapshotRequested(clock.instant()),
                    c.replyTo()));
    return b.build();
  }

  /**
   * Unclaimed and Released answer alike, but for a retried release: only a Claim brings the
   * hostname to life.
   */
  private <S extends State> void free(
      CommandHandlerWithReplyBuilderByState<Command, Event, S, State> b) {
    b.onCommand(Claim.class, (s, c) -> claim(c))
        .onCommand(Get.class, (s, c) -> notFound(c.replyTo()))
        .onCommand(Verify.class, (s, c) -> notFound(c.replyTo()))
        .onCommand(SetCertificate.class, (s, c) -> notFound(c.replyTo()))
        .onCommand(
            Release.class,
            (s, c) ->
                s instanceof Released r && r.tenantId().equals(c.tenantId())
                    // Released already by this tenant: a retried DELETE gets the same answer as the
                    // first.
                    ? Effect()
                        .none()
                        .thenRun(x -> passivate())
                        .thenReply(c.replyTo(), x -> StatusReply.success(Done.getInstance()))
                    : notFound(c.replyTo()))
        .onCommand(CheckDue.class, (s, c) -> Effect().noReply())
        .onCommand(CheckCompleted.class, this::checkCompletedElsewhere)
        .onCommand(Idle.class, (s, c) -> idle());
  }

  /** What every claimed state answers the same way. */
  private <S extends Claimed>
      CommandHandlerWithReplyBuilderByState<Command, Event, S, State> claimed(
          CommandHandlerWithReplyBuilderByState<Command, Event, S, State> b) {
    return b.onCommand(Claim.class, this::claimAgain)
        .onCommand(
            Get.class,
            (s, c) ->
                owned(
                    s,
                    c.tenantId(),
                    c.replyTo(),
                    () -> {
                      armIdle(s);
                      return Effect().reply(c.replyTo(), StatusReply.success(view(s)));
                    }))
        .onCommand(SetCertificate.class, this::setCertificate)
        .onCommand(Release.class, this::release);
  }

  private <R> ReplyEffect<Event, State> notFound(ActorRef<StatusReply<R>> replyTo) {
    // Nothing to keep in memory (or remembered) for a hostname nobody holds.
    return Effect()
        .none()
        .thenRun(s -> passivate())
        .thenReply(replyTo, s -> Rejection.notFound(doesNotExist()));
  }

  private String doesNotExist() {
    return doesNotExist(hostname);
  }

  /**
   * The not-found detail of a hostname, also answered by the façade for hostnames never claimed.
   */
  public static String doesNotExist(String hostname) {
    return "domain '" + hostname + "' does not exist";
  }

  /**
   * Runs {@code then} for the owning tenant; any other tenant is told the hostname does not exist.
   */
  private <R> ReplyEffect<Event, State> owned(
      Claimed s,
      String tenantId,
      ActorRef<StatusReply<R>> replyTo,
      java.util.function.Supplier<ReplyEffect<Event, State>> then) {
    if (!s.ownership().tenantId().equals(tenantId))
      return Effect().reply(replyTo, Rejection.notFound(doesNotExist()));
    return then.get();
  }

  private ReplyEffect<Event, State> claim(Claim c) {
    if (c.tenantId() == null
        || c.tenantId().isBlank()
        || c.challengeToken() == null
        || c.challengeToken().isBlank()) {
      return Effect()
          .none()
          .thenRun(s -> passivate())
          .thenReply(
              c.replyTo(), s -> Rejection.invalid("a claim needs a tenant and a challenge token"));
    }
    Instant now = clock.instant();
    Instant nextCheckAt = settings.schedule().nextCheckAfter(now, now).orElseThrow();
    return Effect()
        .persist(new DomainClaimed(c.tenantId(), c.challengeToken(), now, nextCheckAt))
        .thenRun(
            s -> {
              log.info(
                  "domain claimed hostname={} tenantId={} nextCheckAt={}",
                  hostname,
                  c.tenantId(),
                  nextCheckAt);
              arm(s);
            })
        .thenReply(c.replyTo(), s -> StatusReply.success(new ClaimResult(true, view((Claimed) s))));
  }

  private ReplyEffect<Event, State> claimAgain(Claimed s, Claim c) {
    if (!s.ownership().tenantId().equals(c.tenantId())) {
      log.info(
          "domain claim refused hostname={} tenantId={} reason=claimed-by-another-tenant",
          hostname,
          c.tenantId());
      // Never say whose it is: that would tell one tenant about another's domains.
      return Effect()
          .reply(c.replyTo(), Rejection.conflict("hostname is claimed by another tenant"));
    }
    armIdle(s);
    return Effect().reply(c.replyTo(), StatusReply.success(new ClaimResult(false, view(s))));
  }

  private ReplyEffect<Event, State> release(Claimed s, Release c) {
    return owned(
        s,
        c.tenantId(),
        c.replyTo(),
        () -> {
          String reason =
              c.reason() == null || c.reason().isBlank() ? "released by the tenant" : c.reason();
          return Effect()
              .persist(new DomainReleased(c.tenantId(), reason, clock.instant()))
              .thenRun(
                  after -> {
                    log.info(
                        "domain released hostname={} tenantId={} reason='{}'",
                        hostname,
                        c.tenantId(),
                        reason);
                    timers.cancel(CHECK_TIMER);
                    timers.cancel(IDLE_TIMER);
                    answerWaiters(after);
                    passivate();
                  })
              .thenReply(c.replyTo(), after -> StatusReply.success(Done.getInstance()));
        });
  }

  private ReplyEffect<Event, State> setCertificate(Claimed s, SetCertificate c) {
    return owned(
        s,
        c.tenantId(),
        c.replyTo(),
        () -> {
          armIdle(s);
          String to = c.status();
          Certificate current = s.certificate();
          Optional<Rejection> refusal = CertificateTransitions.refusal(current, to, c.expiresAt());
          if (refusal.isPresent()) return Effect().reply(c.replyTo(), refusal.get().toReply());
          Instant expiresAt = c.expiresAt() != null ? c.expiresAt() : current.expiresAt();
          if (to.equals(current.status()) && Objects.equals(expiresAt, current.expiresAt())) {
            return Effect().reply(c.replyTo(), StatusReply.success(view(s))); // nothing changes
          }
          String reason =
              c.reason() == null || c.reason().isBlank()
                  ? "set by the certificate issuer"
                  : c.reason();
          return Effect()
              .persist(
                  new CertificateChanged(current.status(), to, expiresAt, reason, clock.instant()))
              .thenRun(
                  after ->
                      log.info(
                          "domain certificate changed hostname={} from={} to={} expiresAt={}"
                              + " reason='{}'",
                          hostname,
                          current.status(),
                          to,
                          expiresAt,
                          reason))
              .thenReply(c.replyTo(), after -> StatusReply.success(view((Claimed) after)));
        });
  }

  // ---------------------------------------------------------------- verification

  private ReplyEffect<Event, State> verifyPending(Pending s, Verify c) {
    return owned(
        s,
        c.tenantId(),
        c.replyTo(),
        () -> {
          waiting.add(c.replyTo());
          lookup.start(s, "request");
          return Effect().noReply(); // answered by checkCompleted, once the check is journaled
        });
  }

  /**
   * A failed hostname checked on request: its schedule starts again, and the first check is now.
   */
  private ReplyEffect<Event, State> restart(Failed s, Verify c) {
    return owned(
        s,
        c.tenantId(),
        c.replyTo(),
        () -> {
          Instant now = clock.instant();
          Instant nextCheckAt = settings.schedule().nextCheckAfter(now, now).orElseThrow();
          return Effect()
              .persist(
                  new VerificationRestarted(
                      "verification requested after it had failed", now, nextCheckAt))
              .thenRun(
                  after -> {
                    log.info(
                        "domain verification restarted hostname={} tenantId={} nextCheckAt={}",
                        hostname,
                        s.ownership().tenantId(),
                        nextCheckAt);
                    timers.cancel(IDLE_TIMER);
                    arm(after);
                    waiting.add(c.replyTo());
                    lookup.start((Pending) after, "request");
                  })
              .thenNoReply();
        });
  }

  private ReplyEffect<Event, State> checkDue(Pending s, CheckDue c) {
    if (lookup.underWay()) return Effect().noReply();
    if (clock.instant().isBefore(s.nextCheckAt())) {
      arm(s); // a capped timer on its way to a far check, or a timer a little early
      return Effect().noReply();
    }
    lookup.start(s, "schedule");
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> checkCompleted(Pending s, CheckCompleted c) {
    lookup.answered();
    Instant now = clock.instant();
    if (c.verified()) {
      return Effect()
          .persist(new DomainVerified(c.reason(), c.trigger(), now))
          .thenRun(
              after -> {
                log.info(
                    "domain verified hostname={} tenantId={} trigger={}",
                    hostname,
                    s.ownership().tenantId(),
                    c.trigger());
                arm(after);
                answerWaiters(after);
              })
          .thenNoReply();
    }
    Optional<Instant> next = settings.schedule().nextCheckAfter(s.scheduleStartedAt(), now);
    Event event =
        next.isPresent()
            ? new VerificationCheckFailed(c.code(), c.reason(), c.trigger(), now, next.get())
            : new VerificationGaveUp(c.code(), c.reason(), now);
    return Effect()
        .persist(event)
        .thenRun(
            after -> {
              if (next.isPresent()) {
                log.info(
                    "domain check failed hostname={} tenantId={} trigger={} code={} nextCheckAt={}"
                        + " reason='{}'",
                    hostname,
                    s.ownership().tenantId(),
                    c.trigger(),
                    c.code(),
                    next.get(),
                    c.reason());
              } else {
                log.info(
                    "domain verification failed hostname={} tenantId={} code={} since={}"
                        + " reason='{}'",
                    hostname,
                    s.ownership().tenantId(),
                    c.code(),
                    s.scheduleStartedAt(),
                    c.reason());
              }
              arm(after);
              answerWaiters(after);
            })
        .thenNoReply();
  }

  /**
   * A lookup that finished after the hostname stopped being pending (released meanwhile): nothing
   * to record.
   */
  private ReplyEffect<Event, State> checkCompletedElsewhere(State s, CheckCompleted c) {
    lookup.answered();
    answerWaiters(s);
    return Effect().noReply();
  }

  private void answerWaiters(State s) {
    for (ActorRef<StatusReply<DomainView>> w : waiting) {
      w.tell(
          s instanceof Claimed claimed
              ? StatusReply.success(view(claimed))
              : Rejection.notFound(doesNotExist()));
    }
    waiting.clear();
  }

  // ---------------------------------------------------------------- timers and memory

  /**
   * Arms the check timer for a pending hostname's next check; otherwise disarms it and lets the
   * entity idle out.
   */
  private void arm(State state) {
    if (!(state instanceof Pending p)) {
      timers.cancel(CHECK_TIMER);
      armIdle(state);
      return;
    }
    timers.cancel(IDLE_TIMER);
    Duration delay = Duration.between(clock.instant(), p.nextCheckAt());
    if (delay.isNegative()) delay = Duration.ZERO;
    timers.startSingleTimer(
        CHECK_TIMER,
        new CheckDue(),
        delay.compareTo(MAX_TIMER_DELAY) > 0 ? MAX_TIMER_DELAY : delay);
  }

  /** A hostname without checks to run leaves memory (and sharding's remembered set) once idle. */
  private void armIdle(State state) {
    if (state instanceof Pending) return;
    timers.startSingleTimer(IDLE_TIMER, new Idle(), settings.idleTimeout());
  }

  private ReplyEffect<Event, State> idle() {
    if (lookup.underWay()) return Effect().noReply();
    passivate();
    return Effect().noReply();
  }

  private void passivate() {
    shard.ifPresent(sh -> sh.tell(new ClusterSharding.Passivate<>(context.getSelf())));
  }

  private DomainView view(Claimed s) {
    return DomainViews.of(hostname, s);
  }

  /**
   * How audit replays hostnames: this entity's own handler and view; nothing while unclaimed or
   * released.
   */
  public static final EntityAudit<State, Event> AUDIT =
      new EntityAudit<>(
          ENTITY_TYPE,
          Event.class,
          new Unclaimed(),
          CustomDomain::apply,
          (id, s) ->
              s instanceof Claimed c ? Optional.of(DomainViews.of(id, c)) : Optional.empty());

  /** This entity type as the node declares it: sharding key, audit, snapshots on demand. */
  public static final EntityKind<Command> KIND =
      new EntityKind<>(ENTITY_KEY, AUDIT, SaveSnapshot::new);

  // ---------------------------------------------------------------- event handler (pure)

  @Override
  public EventHandler<State, Event> eventHandler() {
    return CustomDomain::apply;
  }

  /** The state after {@code event}: a pure function, also used to rebuild past states for audit. */
  public static State apply(State state, Event event) {
    return event.accept(new Transition(state));
  }

  /** What each event makes of {@code state}; an event the state cannot take fails recovery. */
  private record Transition(State state) implements Event.Visitor<State> {

    private <S extends State> S in(Class<S> type, Event event) {
      if (type.isInstance(state)) return type.cast(state);
      throw new UnexpectedEvent(state, event);
    }

    @Override
    public State on(SnapshotRequested e) {
      return state;
    }

    @Override
    public State on(DomainClaimed e) {
      if (state instanceof Claimed) throw new UnexpectedEvent(state, e);
      return new Pending(
          new Ownership(e.tenantId(), e.challengeToken(), e.at()),
          Certificate.none(e.at()),
          e.at(),
          e.nextCheckAt(),
          null,
          List.of(),
          e.at());
    }

    @Override
    public State on(VerificationCheckFailed e) {
      Pending p = in(Pending.class, e);
      return new Pending(
          p.ownership(),
          p.certificate(),
          p.scheduleStartedAt(),
          e.nextCheckAt(),
          e.at(),
          withError(p.verificationErrors(), new VerificationError(e.at(), e.code(), e.reason())),
          e.at());
    }

    @Override
    public State on(DomainVerified e) {
      Pending p = in(Pending.class, e);
      return new Verified(
          p.ownership(), p.certificate(), e.at(), e.at(), p.verificationErrors(), e.at());
    }

    @Override
    public State on(VerificationGaveUp e) {
      Pending p = in(Pending.class, e);
      return new Failed(
          p.ownership(),
          p.certificate(),
          e.at(),
          e.at(),
          withError(p.verificationErrors(), new VerificationError(e.at(), e.code(), e.reason())),
          e.at());
    }

    @Override
    public State on(VerificationRestarted e) {
      Failed f = in(Failed.class, e);
      return new Pending(
          f.ownership(),
          f.certificate(),
          e.at(),
          e.nextCheckAt(),
          f.lastCheckedAt(),
          f.verificationErrors(),
          e.at());
    }

    @Override
    public State on(CertificateChanged e) {
      return in(Claimed.class, e)
          .withCertificate(new Certificate(e.to(), e.expiresAt(), e.reason(), e.at()), e.at());
    }

    @Override
    public State on(DomainReleased e) {
      in(Claimed.class, e);
      return new Released(e.tenantId(), e.at());
    }
  }

  /** The newest {@value #MAX_ERRORS_KEPT} errors, oldest first. */
  private static List<VerificationError> withError(
      List<VerificationError> errors, VerificationError error) {
    List<VerificationError> out = new ArrayList<>(errors);
    out.add(error);
    return List.copyOf(
        out.size() > MAX_ERRORS_KEPT ? out.subList(out.size() - MAX_ERRORS_KEPT, out.size()) : out);
  }
}
