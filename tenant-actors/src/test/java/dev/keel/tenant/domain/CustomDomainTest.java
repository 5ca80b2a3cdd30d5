package dev.keel.tenant.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.keel.persistence.ManualClock;
import dev.keel.persistence.Rejection;
import dev.keel.persistence.UnexpectedEvent;
import dev.keel.tenant.domain.CustomDomain.CertificateChanged;
import dev.keel.tenant.domain.CustomDomain.CheckDue;
import dev.keel.tenant.domain.CustomDomain.Claim;
import dev.keel.tenant.domain.CustomDomain.ClaimResult;
import dev.keel.tenant.domain.CustomDomain.Command;
import dev.keel.tenant.domain.CustomDomain.DomainClaimed;
import dev.keel.tenant.domain.CustomDomain.DomainReleased;
import dev.keel.tenant.domain.CustomDomain.DomainVerified;
import dev.keel.tenant.domain.CustomDomain.DomainView;
import dev.keel.tenant.domain.CustomDomain.Event;
import dev.keel.tenant.domain.CustomDomain.Get;
import dev.keel.tenant.domain.CustomDomain.Release;
import dev.keel.tenant.domain.CustomDomain.SetCertificate;
import dev.keel.tenant.domain.CustomDomain.State;
import dev.keel.tenant.domain.CustomDomain.VerificationCheckFailed;
import dev.keel.tenant.domain.CustomDomain.VerificationGaveUp;
import dev.keel.tenant.domain.CustomDomain.VerificationRestarted;
import dev.keel.tenant.domain.CustomDomain.Verify;
import dev.keel.tenant.domain.DnsTxtResolver.LookupFailed;
import dev.keel.tenant.domain.DnsTxtResolver.NoRecords;
import dev.keel.tenant.domain.DnsTxtResolver.NoSuchName;
import dev.keel.tenant.domain.DnsTxtResolver.Records;
import dev.keel.tenant.domain.DnsTxtResolver.TimedOut;
import dev.keel.tenant.domain.DnsTxtResolver.TxtAnswer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.PersistenceTestKitSnapshotPlugin;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Every transition of a custom hostname on the in-memory journal, with a clock the tests move and a
 * resolver that answers what each test says: claim and its uniqueness across tenants, the checks on
 * their schedule and on request, each failure reason, giving up after the schedule, the
 * certificate's own state machine, release and a new claim by another tenant, and recovery.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CustomDomainTest {

  /**
   * The test kit's in-memory journal first, else the JDBC journal of reference.conf wins
   * (STACK.md).
   */
  static final Config CONFIG =
      EventSourcedBehaviorTestKit.config()
          .withFallback(PersistenceTestKitSnapshotPlugin.config())
          .withFallback(ConfigFactory.parseString("pekko.loglevel = INFO"))
          .withFallback(ConfigFactory.load())
          .resolve();

  private static final Instant T0 = Instant.parse("2026-11-22T09:00:00Z");
  private static final String ACME = "acme";
  private static final String GLOBEX = "globex";
  private static final String TOKEN = "Zk9xV2hT0m1ZQ2ZkRjFuS3JvYnNUcWx3b0h4Y3BtN0E";
  private static final AtomicInteger ids = new AtomicInteger();

  static DomainSettings settings(VerificationSchedule schedule) {
    return new DomainSettings(
        "tenants.keel.dev",
        Optional.empty(),
        Duration.ofSeconds(1),
        Duration.ofSeconds(5),
        schedule,
        Duration.ofMinutes(2),
        200,
        Duration.ofMillis(50));
  }

  private ActorTestKit testKit;
  private ManualClock clock;
  private FakeTxtResolver dns;
  private String hostname;
  private String challengeName;
  private EventSourcedBehaviorTestKit<Command, Event, State> kit;

  @BeforeAll
  void startSystem() {
    testKit = ActorTestKit.create("CustomDomainTest", CONFIG);
  }

  @AfterAll
  void stopSystem() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void newHostname() {
    clock = new ManualClock(T0);
    dns = new FakeTxtResolver();
    hostname = "shop" + ids.incrementAndGet() + ".example.com";
    challengeName = "_keel-challenge." + hostname;
    kit =
        EventSourcedBehaviorTestKit.create(
            testKit.system(),
            CustomDomain.create(
                hostname, dns, clock, settings(VerificationSchedule.cloudflareLike())),
            EventSourcedBehaviorTestKit.enabledSerializationSettings());
  }

  // ---------------------------------------------------------------- helpers

  private EventSourcedBehaviorTestKit.CommandResultWithReply<
          Command, Event, State, StatusReply<ClaimResult>>
      claim(String tenant, String token) {
    return kit.runCommand(r -> new Claim(tenant, token, r));
  }

  private DomainView view() {
    StatusReply<DomainView> reply =
        kit.<StatusReply<DomainView>>runCommand(r -> new Get(ACME, r)).reply();
    assertThat(reply.isSuccess()).as("get answers %s", reply).isTrue();
    return reply.getValue();
  }

  private List<Event> journal() {
    List<Event> events = new ArrayList<>();
    for (Object e :
        kit.persistenceTestKit().persistedInStorage(CustomDomain.persistenceId(hostname).id()))
      events.add((Event) e);
    return events;
  }

  /**
   * The timer's command sent by hand; the lookup's result is journaled before the next command is
   * handled.
   */
  private List<Event> checkDue() {
    int before = journal().size();
    kit.runCommand(new CheckDue());
    view(); // behind the lookup's result in the mailbox
    List<Event> all = journal();
    return all.subList(before, all.size());
  }

  private EventSourcedBehaviorTestKit.CommandResultWithReply<
          Command, Event, State, StatusReply<DomainView>>
      verify(String tenant) {
    return kit.runCommand(r -> new Verify(tenant, r));
  }

  private EventSourcedBehaviorTestKit.CommandResultWithReply<
          Command, Event, State, StatusReply<DomainView>>
      certificate(String status, Instant expiresAt) {
    return kit.runCommand(r -> new SetCertificate(ACME, status, expiresAt, null, r));
  }

  private static Rejection rejection(StatusReply<?> reply) {
    assertThat(reply.isError()).as("expected a rejection, got %s", reply).isTrue();
    return Rejection.of(reply.getError()).orElseThrow();
  }

  private static Instant at(Duration sinceT0) {
    return T0.plus(sinceT0);
  }

  // ---------------------------------------------------------------- claims

  @Test
  void aClaimIsPendingWithItsChallengeAndTheFirstCheckInAMinute() {
    var result = claim(ACME, TOKEN);

    assertThat(result.event())
        .isEqualTo(new DomainClaimed(ACME, TOKEN, T0, at(Duration.ofMinutes(1))));
    ClaimResult answer = result.reply().getValue();
    assertThat(answer.created()).isTrue();
    DomainView v = answer.view();
    assertThat(v.hostname()).isEqualTo(hostname);
    assertThat(v.tenantId()).isEqualTo(ACME);
    assertThat(v.status()).isEqualTo("pending_verification");
    assertThat(v.verification())
        .isEqualTo(new CustomDomain.Verification("TXT", challengeName, TOKEN));
    assertThat(v.certificate().status()).isEqualTo("none");
    assertThat(v.nextCheckAt()).isEqualTo(at(Duration.ofMinutes(1)));
    assertThat(v.lastCheckedAt()).isNull();
    assertThat(v.verificationErrors()).isEmpty();
    assertThat(v.createdAt()).isEqualTo(T0);
    assertThat(dns.lookups.get()).as("nothing is looked up before the first check").isZero();
  }

  @Test
  void theSameTenantClaimingAgainGetsTheSameClaimAndNothingIsJournaled() {
    claim(ACME, TOKEN);
    clock.advance(Duration.ofSeconds(10));

    var again = claim(ACME, "another-token-that-is-not-used");

    assertThat(again.hasNoEvents()).isTrue();
    assertThat(again.reply().getValue().created()).isFalse();
    assertThat(again.reply().getValue().view().verification().value())
        .as("the first challenge stays")
        .isEqualTo(TOKEN);
  }

  @Test
  void anotherTenantClaimingIsAConflictThatDoesNotSayWhose() {
    claim(ACME, TOKEN);

    var result = claim(GLOBEX, "globex-token");

    assertThat(result.hasNoEvents()).isTrue();
    Rejection r = rejection(result.reply());
    assertThat(r.kind()).isEqualTo(Rejection.Kind.CONFLICT);
    assertThat(r.detail()).isEqualTo("hostname is claimed by another tenant").doesNotContain(ACME);
  }

  @Test
  void toAnotherTenantAClaimedHostnameDoesNotExist() {
    claim(ACME, TOKEN);

    List<StatusReply<?>> replies =
        List.of(
            kit.<StatusReply<DomainView>>runCommand(r -> new Get(GLOBEX, r)).reply(),
            verify(GLOBEX).reply(),
            kit.<StatusReply<DomainView>>runCommand(
                    r -> new SetCertificate(GLOBEX, "pending", null, null, r))
                .reply(),
            kit.<StatusReply<Done>>runCommand(r -> new Release(GLOBEX, null, r)).reply());

    for (StatusReply<?> reply : replies) {
      Rejection r = rejection(reply);
      assertThat(r.kind()).isEqualTo(Rejection.Kind.NOT_FOUND);
      assertThat(r.detail()).doesNotContain(ACME);
    }
    assertThat(journal()).hasSize(1);
    assertThat(dns.lookups.get()).isZero();
  }

  @Test
  void anUnclaimedHostnameDoesNotExist() {
    assertThat(
            rejection(kit.<StatusReply<DomainView>>runCommand(r -> new Get(ACME, r)).reply())
                .kind())
        .isEqualTo(Rejection.Kind.NOT_FOUND);
    assertThat(rejection(verify(ACME).reply()).kind()).isEqualTo(Rejection.Kind.NOT_FOUND);
    assertThat(
            rejection(kit.<StatusReply<Done>>runCommand(r -> new Release(ACME, null, r)).reply())
                .kind())
        .isEqualTo(Rejection.Kind.NOT_FOUND);
    assertThat(journal()).isEmpty();
  }

  @Test
  void aClaimWithoutATokenIsRefused() {
    var result = claim(ACME, " ");

    assertThat(result.hasNoEvents()).isTrue();
    assertThat(rejection(result.reply()).kind()).isEqualTo(Rejection.Kind.INVALID);
  }

  // ---------------------------------------------------------------- scheduled checks

  @Test
  void aScheduledCheckFailsThenTheRecordAppearsAndTheNextCheckVerifies() {
    claim(ACME, TOKEN);
    clock.advance(Duration.ofMinutes(1));

    List<Event> first = checkDue();

    assertThat(first)
        .containsExactly(
            new VerificationCheckFailed(
                CustomDomain.NXDOMAIN,
                challengeName
                    + " does not exist (NXDOMAIN); add a TXT record there with the challenge value",
                "schedule",
                at(Duration.ofMinutes(1)),
                at(Duration.ofMinutes(3))));
    DomainView pending = view();
    assertThat(pending.status()).isEqualTo("pending_verification");
    assertThat(pending.lastCheckedAt()).isEqualTo(at(Duration.ofMinutes(1)));
    assertThat(pending.verificationErrors())
        .extracting(CustomDomain.VerificationError::code)
        .containsExactly("nxdomain");
    assertThat(pending.nextCheckAt()).isEqualTo(at(Duration.ofMinutes(3)));

    dns.answer(challengeName, new Records(List.of("v=spf1 -all", TOKEN)));
    clock.advance(Duration.ofMinutes(2));
    List<Event> second = checkDue();

    assertThat(second)
        .containsExactly(
            new DomainVerified(
                "TXT record " + challengeName + " holds the challenge",
                "schedule",
                at(Duration.ofMinutes(3))));
    DomainView verified = view();
    assertThat(verified.status()).isEqualTo("verified");
    assertThat(verified.verifiedAt()).isEqualTo(at(Duration.ofMinutes(3)));
    assertThat(verified.lastCheckedAt()).isEqualTo(at(Duration.ofMinutes(3)));
    assertThat(verified.nextCheckAt()).as("verified: no more checks").isNull();
    assertThat(verified.verificationErrors()).as("the history of failures stays").hasSize(1);

    int lookups = dns.lookups.get();
    clock.advance(Duration.ofHours(5));
    assertThat(checkDue()).isEmpty();
    assertThat(dns.lookups.get()).isEqualTo(lookups);
  }

  @Test
  void aCheckBeforeItsTimeDoesNothing() {
    claim(ACME, TOKEN);
    clock.advance(Duration.ofSeconds(59));

    assertThat(checkDue()).isEmpty();
    assertThat(dns.lookups.get()).isZero();
  }

  @Test
  void checksAreFrequentAtFirstThenHourly() {
    claim(ACME, TOKEN);
    // 1, 2, 5, 10, 15 and 30 minutes apart, then every hour.
    List<Duration> expected =
        List.of(
            Duration.ofMinutes(1),
            Duration.ofMinutes(3),
            Duration.ofMinutes(8),
            Duration.ofMinutes(18),
            Duration.ofMinutes(33),
            Duration.ofMinutes(63),
            Duration.ofMinutes(123),
            Duration.ofMinutes(183));
    for (int i = 0; i < expected.size() - 1; i++) {
      assertThat(view().nextCheckAt()).isEqualTo(at(expected.get(i)));
      clock.set(at(expected.get(i)));
      List<Event> events = checkDue();
      assertThat(events).hasSize(1);
      assertThat(((VerificationCheckFailed) events.get(0)).nextCheckAt())
          .isEqualTo(at(expected.get(i + 1)));
    }
    assertThat(dns.lookups.get()).isEqualTo(expected.size() - 1);
  }

  @Test
  void eachReasonACheckFailsIsToldApart() {
    claim(ACME, TOKEN);
    Map<TxtAnswer, String> cases = new java.util.LinkedHashMap<>();
    cases.put(new NoSuchName(), "nxdomain");
    cases.put(new NoRecords(), "no_record");
    cases.put(new Records(List.of("stale-token-from-last-year")), "wrong_value");
    cases.put(new TimedOut(Duration.ofSeconds(1)), "timeout");
    cases.put(new LookupFailed("the DNS server answered SERVFAIL"), "lookup_failed");

    for (Map.Entry<TxtAnswer, String> c : cases.entrySet()) {
      dns.answer(challengeName, c.getKey());
      clock.advance(Duration.ofSeconds(1));
      DomainView v = verify(ACME).reply().getValue();
      assertThat(v.verificationErrors().get(v.verificationErrors().size() - 1).code())
          .isEqualTo(c.getValue());
    }

    List<CustomDomain.VerificationError> errors = view().verificationErrors();
    assertThat(errors)
        .extracting(CustomDomain.VerificationError::code)
        .containsExactly("nxdomain", "no_record", "wrong_value", "timeout", "lookup_failed");
    assertThat(errors.get(1).reason()).contains("has no TXT record");
    assertThat(errors.get(2).reason())
        .contains("stale-token-from-last-year", "not the challenge value");
    assertThat(errors.get(3).reason()).contains("did not answer", "1000 ms");
    assertThat(errors.get(4).reason()).contains("SERVFAIL");
    assertThat(errors)
        .extracting(CustomDomain.VerificationError::at)
        .isSorted()
        .doesNotHaveDuplicates();
  }

  @Test
  void onlyTheLastTenReasonsAreKeptInTheState() {
    claim(ACME, TOKEN);
    for (int i = 0; i < CustomDomain.MAX_ERRORS_KEPT + 3; i++) {
      clock.advance(Duration.ofSeconds(1));
      verify(ACME);
    }

    List<CustomDomain.VerificationError> errors = view().verificationErrors();
    assertThat(errors).hasSize(CustomDomain.MAX_ERRORS_KEPT);
    assertThat(errors.get(0).at()).isEqualTo(T0.plusSeconds(4));
    assertThat(journal())
        .as("every check stays in the journal")
        .hasSize(1 + CustomDomain.MAX_ERRORS_KEPT + 3);
  }

  @Test
  void afterSevenDaysWithoutTheRecordTheHostnameFails() {
    claim(ACME, TOKEN);
    clock.set(at(Duration.ofDays(7).minusMinutes(1)));
    List<Event> beforeDeadline = checkDue();
    assertThat(((VerificationCheckFailed) beforeDeadline.get(0)).nextCheckAt())
        .as("the last check is at the deadline")
        .isEqualTo(at(Duration.ofDays(7)));

    clock.set(at(Duration.ofDays(7)));
    List<Event> last = checkDue();

    assertThat(last)
        .containsExactly(
            new VerificationGaveUp(
                CustomDomain.NXDOMAIN,
                challengeName
                    + " does not exist (NXDOMAIN); add a TXT record there with the challenge value",
                at(Duration.ofDays(7))));
    DomainView failed = view();
    assertThat(failed.status()).isEqualTo("failed");
    assertThat(failed.nextCheckAt()).isNull();
    assertThat(failed.verificationErrors()).hasSize(2);

    int lookups = dns.lookups.get();
    clock.advance(Duration.ofHours(1));
    assertThat(checkDue()).as("failed: no more scheduled checks").isEmpty();
    assertThat(dns.lookups.get()).isEqualTo(lookups);
  }

  @Test
  void aCheckMissedWhileNoNodeRanTheHostnameRunsOnceAndTheScheduleGoesOn() {
    claim(ACME, TOKEN);
    // Down from minute 0.5 to minute 20: the checks at 1, 3, 8 and 18 were missed.
    clock.set(at(Duration.ofMinutes(20)));

    List<Event> events = checkDue();

    assertThat(events).hasSize(1);
    assertThat(((VerificationCheckFailed) events.get(0)).nextCheckAt())
        .isEqualTo(at(Duration.ofMinutes(33)));
  }

  // ---------------------------------------------------------------- verify on request

  @Test
  void verifyChecksAtOnceAndKeepsTheSchedule() {
    claim(ACME, TOKEN);
    clock.advance(Duration.ofSeconds(30));

    var failed = verify(ACME);

    assertThat(failed.events())
        .containsExactly(
            new VerificationCheckFailed(
                CustomDomain.NXDOMAIN,
                challengeName
                    + " does not exist (NXDOMAIN); add a TXT record there with the challenge value",
                "request",
                T0.plusSeconds(30),
                at(Duration.ofMinutes(1))));
    DomainView stillPending = failed.reply().getValue();
    assertThat(stillPending.status()).isEqualTo("pending_verification");
    assertThat(stillPending.verificationErrors()).hasSize(1);
    assertThat(stillPending.nextCheckAt()).isEqualTo(at(Duration.ofMinutes(1)));

    dns.answer(challengeName, new Records(List.of(TOKEN)));
    clock.advance(Duration.ofSeconds(5));
    var verified = verify(ACME);

    assertThat(verified.events())
        .containsExactly(
            new DomainVerified(
                "TXT record " + challengeName + " holds the challenge",
                "request",
                T0.plusSeconds(35)));
    assertThat(verified.reply().getValue().status()).isEqualTo("verified");

    int lookups = dns.lookups.get();
    var again = verify(ACME);
    assertThat(again.hasNoEvents()).isTrue();
    assertThat(again.reply().getValue().status()).isEqualTo("verified");
    assertThat(dns.lookups.get())
        .as("verified: verify answers without a lookup")
        .isEqualTo(lookups);
  }

  @Test
  void verifyOnAFailedHostnameRestartsTheSchedule() {
    claim(ACME, TOKEN);
    clock.set(at(Duration.ofDays(7)));
    checkDue();
    assertThat(view().status()).isEqualTo("failed");
    clock.advance(Duration.ofDays(2));
    Instant restartedAt = clock.instant();

    var result = verify(ACME);

    assertThat(result.events()).hasSize(2);
    assertThat(result.events().get(0))
        .isEqualTo(
            new VerificationRestarted(
                "verification requested after it had failed",
                restartedAt,
                restartedAt.plus(Duration.ofMinutes(1))));
    assertThat(result.events().get(1)).isInstanceOf(VerificationCheckFailed.class);
    DomainView v = result.reply().getValue();
    assertThat(v.status()).isEqualTo("pending_verification");
    assertThat(v.nextCheckAt()).isEqualTo(restartedAt.plus(Duration.ofMinutes(1)));

    // A fresh week: not failed at the old deadline's distance from the restart minus a day.
    clock.set(restartedAt.plus(Duration.ofDays(6)));
    checkDue();
    assertThat(view().status()).isEqualTo("pending_verification");

    dns.answer(challengeName, new Records(List.of(TOKEN)));
    assertThat(verify(ACME).reply().getValue().status()).isEqualTo("verified");
  }

  @Test
  void aRestartKeepsTheStateAndTheScheduleAndRunsACheckMissedMeanwhile() {
    claim(ACME, TOKEN);
    clock.set(at(Duration.ofMinutes(1)));
    checkDue();
    certificate("pending", null);
    State before = kit.getState();

    clock.set(at(Duration.ofMinutes(2)));
    kit.restart();
    assertThat(kit.getState()).isEqualTo(before);
    assertThat(view().nextCheckAt()).isEqualTo(at(Duration.ofMinutes(3)));

    // Down past the next check (minute 3), while the record appeared: recovery checks at once,
    // unasked.
    dns.answer(challengeName, new Records(List.of(TOKEN)));
    clock.set(at(Duration.ofMinutes(4)));
    kit.restart();

    testKit
        .createTestProbe()
        .awaitAssert(
            Duration.ofSeconds(10),
            () -> {
              assertThat(kit.getState()).isInstanceOf(CustomDomain.Verified.class);
              return null;
            });
    DomainView v = view();
    assertThat(v.verifiedAt()).isEqualTo(at(Duration.ofMinutes(4)));
    assertThat(v.certificate().status()).isEqualTo("pending");
    assertThat(v.verificationErrors()).hasSize(1);
  }

  // ---------------------------------------------------------------- certificate

  @Test
  void theCertificateGoesFromNoneToPendingToIssuedToExpiredAndIsRenewed() {
    claim(ACME, TOKEN);
    Instant expiresAt = Instant.parse("2027-02-20T09:00:00Z");

    clock.advance(Duration.ofSeconds(1));
    var pending = certificate("pending", null);
    assertThat(pending.event())
        .isEqualTo(
            new CertificateChanged(
                "none", "pending", null, "set by the certificate issuer", T0.plusSeconds(1)));
    assertThat(pending.reply().getValue().certificate().status()).isEqualTo("pending");

    clock.advance(Duration.ofSeconds(1));
    var issued = certificate("issued", expiresAt);
    assertThat(issued.event())
        .isEqualTo(
            new CertificateChanged(
                "pending",
                "issued",
                expiresAt,
                "set by the certificate issuer",
                T0.plusSeconds(2)));
    assertThat(issued.reply().getValue().certificate().expiresAt()).isEqualTo(expiresAt);
    assertThat(issued.reply().getValue().status())
        .as("a certificate does not verify the hostname")
        .isEqualTo("pending_verification");

    var same = certificate("issued", expiresAt);
    assertThat(same.hasNoEvents()).as("the same again changes nothing").isTrue();
    assertThat(same.reply().isSuccess()).isTrue();

    var expired = certificate("expired", null);
    assertThat(expired.event())
        .isEqualTo(
            new CertificateChanged(
                "issued",
                "expired",
                expiresAt,
                "set by the certificate issuer",
                T0.plusSeconds(2)));

    var renewing = certificate("pending", null);
    assertThat(renewing.reply().getValue().certificate().status()).isEqualTo("pending");
    var renewed = certificate("issued", expiresAt.plus(Duration.ofDays(90)));
    assertThat(renewed.reply().getValue().certificate().expiresAt())
        .isEqualTo(expiresAt.plus(Duration.ofDays(90)));
  }

  @Test
  void aFailedCertificateCanBeTriedAgain() {
    claim(ACME, TOKEN);
    certificate("pending", null);
    assertThat(certificate("failed", null).reply().getValue().certificate().status())
        .isEqualTo("failed");
    assertThat(certificate("pending", null).reply().getValue().certificate().status())
        .isEqualTo("pending");
  }

  @Test
  void anIllegalCertificateTransitionIsAConflictNamingTheAllowedOnes() {
    claim(ACME, TOKEN);

    var fromNone = certificate("issued", Instant.parse("2027-01-01T00:00:00Z"));
    assertThat(fromNone.hasNoEvents()).isTrue();
    Rejection r = rejection(fromNone.reply());
    assertThat(r.kind()).isEqualTo(Rejection.Kind.CONFLICT);
    assertThat(r.detail())
        .isEqualTo(
            "the certificate is none and cannot become issued; from none it may become pending");

    certificate("pending", null);
    certificate("issued", Instant.parse("2027-01-01T00:00:00Z"));
    Rejection fromIssued = rejection(certificate("failed", null).reply());
    assertThat(fromIssued.kind()).isEqualTo(Rejection.Kind.CONFLICT);
    assertThat(fromIssued.detail()).contains("may become expired or pending");
    assertThat(view().certificate().status()).isEqualTo("issued");
  }

  @Test
  void aBadCertificateStatusOrAnIssuedOneWithoutExpiryIsInvalid() {
    claim(ACME, TOKEN);
    certificate("pending", null);

    for (String bad : new String[] {"revoked", "none", null}) {
      var result = certificate(bad, null);
      assertThat(result.hasNoEvents()).isTrue();
      assertThat(rejection(result.reply()).kind()).isEqualTo(Rejection.Kind.INVALID);
    }
    var noExpiry = certificate("issued", null);
    assertThat(noExpiry.hasNoEvents()).isTrue();
    assertThat(rejection(noExpiry.reply()).detail()).contains("expiresAt");
  }

  @Test
  void aVerifiedHostnameCanHaveACertificateThatIsNotIssued() {
    claim(ACME, TOKEN);
    dns.answer(challengeName, new Records(List.of(TOKEN)));
    verify(ACME);
    certificate("pending", null);
    certificate("failed", null);

    DomainView v = view();
    assertThat(v.status()).isEqualTo("verified");
    assertThat(v.certificate().status()).isEqualTo("failed");
  }

  // ---------------------------------------------------------------- release

  @Test
  void releasingFreesTheHostnameAndAnotherTenantCanClaimItAfresh() {
    claim(ACME, TOKEN);
    verify(ACME);
    certificate("pending", null);
    clock.advance(Duration.ofMinutes(5));

    var released = kit.<StatusReply<Done>>runCommand(r -> new Release(ACME, null, r));

    assertThat(released.event())
        .isEqualTo(new DomainReleased(ACME, "released by the tenant", T0.plusSeconds(300)));
    assertThat(
            rejection(kit.<StatusReply<DomainView>>runCommand(r -> new Get(ACME, r)).reply())
                .kind())
        .isEqualTo(Rejection.Kind.NOT_FOUND);
    var retried = kit.<StatusReply<Done>>runCommand(r -> new Release(ACME, null, r));
    assertThat(retried.hasNoEvents()).isTrue();
    assertThat(retried.reply().isSuccess()).as("a retried delete answers as the first").isTrue();
    int lookups = dns.lookups.get();
    clock.advance(Duration.ofMinutes(5));
    kit.runCommand(new CheckDue());
    assertThat(dns.lookups.get()).as("released: no more checks").isEqualTo(lookups);

    var globex = claim(GLOBEX, "globex-token");

    assertThat(globex.reply().getValue().created()).isTrue();
    DomainView fresh = globex.reply().getValue().view();
    assertThat(fresh.tenantId()).isEqualTo(GLOBEX);
    assertThat(fresh.verification().value()).isEqualTo("globex-token");
    assertThat(fresh.verificationErrors()).isEmpty();
    assertThat(fresh.certificate().status()).isEqualTo("none");
    assertThat(fresh.createdAt()).isEqualTo(T0.plusSeconds(600));
    var acmeAgain = kit.<StatusReply<Done>>runCommand(r -> new Release(ACME, null, r));
    assertThat(rejection(acmeAgain.reply()).kind())
        .as("acme's old release is not globex's claim")
        .isEqualTo(Rejection.Kind.NOT_FOUND);
  }

  // ---------------------------------------------------------------- replay and real timers

  @Test
  void theEventHandlerRebuildsTheStateFromTheJournal() {
    claim(ACME, TOKEN);
    verify(ACME);
    certificate("pending", null);
    dns.answer(challengeName, new Records(List.of(TOKEN)));
    clock.advance(Duration.ofMinutes(1));
    checkDue();
    certificate("issued", Instant.parse("2027-01-01T00:00:00Z"));

    State replayed = new CustomDomain.Unclaimed();
    for (Event e : journal()) replayed = CustomDomain.apply(replayed, e);

    assertThat(replayed).isEqualTo(kit.getState());
    assertThat(replayed).isInstanceOf(CustomDomain.Verified.class);
  }

  @Test
  void theCheckTimerFiresOnItsOwn() {
    // A real clock and Pekko's own timer, no hand-sent CheckDue: this is what runs in production.
    VerificationSchedule fast =
        new VerificationSchedule(
            List.of(Duration.ofMillis(100)), Duration.ofMillis(100), Duration.ofHours(1));
    String name = "timer" + ids.incrementAndGet() + ".example.com";
    ActorRef<Command> domain =
        testKit.spawn(CustomDomain.create(name, dns, Clock.systemUTC(), settings(fast)));
    TestProbe<StatusReply<ClaimResult>> claimed = testKit.createTestProbe();
    domain.tell(new Claim(ACME, TOKEN, claimed.ref()));
    assertThat(claimed.receiveMessage().isSuccess()).isTrue();

    TestProbe<StatusReply<DomainView>> probe = testKit.createTestProbe();
    probe.awaitAssert(
        Duration.ofSeconds(10),
        Duration.ofMillis(100),
        () -> {
          domain.tell(new Get(ACME, probe.ref()));
          assertThat(probe.receiveMessage().getValue().verificationErrors()).isNotEmpty();
          return null;
        });
    dns.answer("_keel-challenge." + name, new Records(List.of(TOKEN)));
    probe.awaitAssert(
        Duration.ofSeconds(10),
        Duration.ofMillis(100),
        () -> {
          domain.tell(new Get(ACME, probe.ref()));
          assertThat(probe.receiveMessage().getValue().status()).isEqualTo("verified");
          return null;
        });
  }

  @Test
  void withTheRealResolverAgainstARealDnsServerVerificationFailsUntilTheRecordAppears()
      throws Exception {
    try (FakeDnsServer server = FakeDnsServer.start()) {
      DnsTxtResolver real =
          DnsJavaTxtResolver.create(
              Optional.of(server.address()),
              Duration.ofSeconds(1),
              testKit.system().executionContext());
      String name = "real" + ids.incrementAndGet() + ".example.com";
      var domain =
          EventSourcedBehaviorTestKit.<Command, Event, State>create(
              testKit.system(),
              CustomDomain.create(
                  name, real, clock, settings(VerificationSchedule.cloudflareLike())),
              EventSourcedBehaviorTestKit.enabledSerializationSettings());
      domain.<StatusReply<ClaimResult>>runCommand(r -> new Claim(ACME, TOKEN, r));

      DomainView pending =
          domain.<StatusReply<DomainView>>runCommand(r -> new Verify(ACME, r)).reply().getValue();
      assertThat(pending.status()).isEqualTo("pending_verification");
      assertThat(pending.verificationErrors())
          .extracting(CustomDomain.VerificationError::code)
          .containsExactly("nxdomain");

      server.exists("_keel-challenge." + name);
      DomainView noRecord =
          domain.<StatusReply<DomainView>>runCommand(r -> new Verify(ACME, r)).reply().getValue();
      assertThat(noRecord.verificationErrors())
          .extracting(CustomDomain.VerificationError::code)
          .containsExactly("nxdomain", "no_record");

      server.putTxt("_keel-challenge." + name, TOKEN);
      DomainView verified =
          domain.<StatusReply<DomainView>>runCommand(r -> new Verify(ACME, r)).reply().getValue();
      assertThat(verified.status()).isEqualTo("verified");
    }
  }

  /** Answers what the test set for each name, NXDOMAIN otherwise, at once. */
  static final class FakeTxtResolver implements DnsTxtResolver {
    final Map<String, TxtAnswer> answers = new ConcurrentHashMap<>();
    final AtomicInteger lookups = new AtomicInteger();

    void answer(String name, TxtAnswer answer) {
      answers.put(name, answer);
    }

    @Override
    public CompletionStage<TxtAnswer> txt(String name) {
      lookups.incrementAndGet();
      return CompletableFuture.completedFuture(answers.getOrDefault(name, new NoSuchName()));
    }
  }

  @Test
  void anEventTheStateCannotTakeFailsTheReplayInsteadOfBeingIgnored() {
    assertThatThrownBy(
            () ->
                CustomDomain.apply(
                    new CustomDomain.Unclaimed(),
                    new CustomDomain.DomainVerified("found", "request", T0)))
        .isInstanceOf(UnexpectedEvent.class)
        .hasMessage("unexpected event DomainVerified in state Unclaimed");
  }
}
