package dev.keel.tenant.quota;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import dev.keel.persistence.ManualClock;
import dev.keel.tenant.quota.QuotaLedger.Command;
import dev.keel.tenant.quota.QuotaLedger.Counting;
import dev.keel.tenant.quota.QuotaLedger.Event;
import dev.keel.tenant.quota.QuotaLedger.Outcome;
import dev.keel.tenant.quota.QuotaLedger.Reservation;
import dev.keel.tenant.quota.QuotaLedger.State;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.PersistenceTestKitSnapshotPlugin;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.CommandResultWithReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A tenant's ledger admits exactly up to its limit, counts a retried id once, gives released slots
 * back, starts from its seed, lists long-held ids to verify when it refuses, and recovers.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class QuotaLedgerTest {

  private static final Instant T0 = Instant.parse("2026-11-22T09:00:00Z");
  private static final QuotaLedger.Reconciliation RECONCILE =
      new QuotaLedger.Reconciliation(Duration.ofMinutes(1), Duration.ofMinutes(2));
  private static final AtomicInteger tenants = new AtomicInteger();
  private ActorTestKit testKit;
  private final ManualClock clock = new ManualClock(T0);

  @BeforeAll
  void startSystem() {
    testKit =
        ActorTestKit.create(
            "QuotaLedgerTest",
            EventSourcedBehaviorTestKit.config()
                .withFallback(PersistenceTestKitSnapshotPlugin.config())
                .withFallback(ConfigFactory.load())
                .resolve());
  }

  @AfterAll
  void stopSystem() {
    testKit.shutdownTestKit();
  }

  private EventSourcedBehaviorTestKit<Command, Event, State> ledger(Quota quota) {
    String tenant = "tquota" + tenants.incrementAndGet();
    return EventSourcedBehaviorTestKit.create(
        testKit.system(),
        QuotaLedger.create(
            QuotaLedger.entityId(tenant, quota, YearMonth.of(2026, 11)), clock, RECONCILE),
        EventSourcedBehaviorTestKit.enabledSerializationSettings());
  }

  private static CommandResultWithReply<Command, Event, State, Reservation> reserve(
      EventSourcedBehaviorTestKit<Command, Event, State> kit, String id, long limit) {
    return kit.runCommand(r -> new QuotaLedger.Reserve(id, limit, false, r));
  }

  private static void seed(
      EventSourcedBehaviorTestKit<Command, Event, State> kit, List<String> ids, long used) {
    assertThat(
            kit.<StatusReply<Done>>runCommand(r -> new QuotaLedger.Seed(ids, used, r))
                .reply()
                .isSuccess())
        .isTrue();
  }

  @Test
  void aNewLedgerAsksForItsSeedFirstAndTakesItOnce() {
    var kit = ledger(Quota.SERVICES);
    var unseeded = reserve(kit, "billing", 2);
    assertThat(unseeded.reply().outcome()).isEqualTo(Outcome.UNSEEDED);
    assertThat(unseeded.hasNoEvents()).isTrue();

    seed(kit, List.of("ledger", "ledger"), 0);
    var again =
        kit.<StatusReply<Done>>runCommand(r -> new QuotaLedger.Seed(List.of("a", "b", "c"), 0, r));
    assertThat(again.hasNoEvents()).as("seeded by a concurrent request already").isTrue();
    assertThat(((Counting) kit.getState()).used()).isEqualTo(1);
  }

  @Test
  void grantsExactlyUpToTheLimitAndARetriedIdIsNeverCountedTwiceNorRefused() {
    var kit = ledger(Quota.SERVICES);
    seed(kit, List.of(), 0);
    var first = reserve(kit, "a", 2);
    assertThat(first.reply()).isEqualTo(new Reservation(Outcome.GRANTED, 1, true, List.of()));
    assertThat(first.event()).isInstanceOf(QuotaLedger.ResourceReserved.class);
    assertThat(reserve(kit, "b", 2).reply().outcome()).isEqualTo(Outcome.GRANTED);

    var third = reserve(kit, "c", 2);
    assertThat(third.reply().outcome()).isEqualTo(Outcome.REFUSED);
    assertThat(third.reply().used()).isEqualTo(2);
    assertThat(third.hasNoEvents()).as("a refusal journals nothing").isTrue();

    var retry = reserve(kit, "a", 2);
    assertThat(retry.reply()).isEqualTo(new Reservation(Outcome.GRANTED, 2, false, List.of()));
    assertThat(retry.hasNoEvents()).isTrue();
    var counted = kit.<Reservation>runCommand(r -> new QuotaLedger.Reserve("d", 2, true, r));
    assertThat(counted.reply().outcome()).as("counted, never refused").isEqualTo(Outcome.GRANTED);
    assertThat(counted.reply().used()).isEqualTo(3);
  }

  @Test
  void aReleasedIdFreesItsSlotAndSurvivesARestart() {
    var kit = ledger(Quota.DOMAINS);
    seed(kit, List.of("shop.acme.test"), 0);
    assertThat(reserve(kit, "blog.acme.test", 1).reply().outcome()).isEqualTo(Outcome.REFUSED);

    var released =
        kit.<StatusReply<Done>>runCommand(r -> new QuotaLedger.Release("shop.acme.test", r));
    assertThat(released.event()).isInstanceOf(QuotaLedger.ResourceReleased.class);
    assertThat(
            kit.<StatusReply<Done>>runCommand(r -> new QuotaLedger.Release("shop.acme.test", r))
                .hasNoEvents())
        .as("released twice: once")
        .isTrue();
    assertThat(reserve(kit, "blog.acme.test", 1).reply().outcome()).isEqualTo(Outcome.GRANTED);

    State before = kit.getState();
    kit.restart();
    assertThat(kit.getState()).isEqualTo(before);
    assertThat(reserve(kit, "www.acme.test", 1).reply().outcome()).isEqualTo(Outcome.REFUSED);
  }

  @Test
  void aRefusalListsLongHeldIdsToVerifyAtMostOncePerInterval() {
    var kit = ledger(Quota.SERVICES);
    seed(kit, List.of(), 0);
    reserve(kit, "old", 2);
    clock.advance(Duration.ofMinutes(3));
    reserve(kit, "new", 2);

    assertThat(reserve(kit, "more", 2).reply().toVerify())
        .as("only what is past the grace")
        .containsExactly("old");
    var reconciled =
        kit.<StatusReply<Done>>runCommand(
            r -> new QuotaLedger.Reconcile(List.of("old", "never-held"), r));
    assertThat(reconciled.event())
        .isEqualTo(new QuotaLedger.LedgerReconciled(List.of("old"), clock.instant()));
    assertThat(reserve(kit, "more", 2).reply().outcome())
        .as("the dead reservation's slot")
        .isEqualTo(Outcome.GRANTED);

    clock.advance(Duration.ofSeconds(30));
    assertThat(reserve(kit, "again", 2).reply().toVerify()).as("within the interval").isEmpty();
    clock.advance(Duration.ofMinutes(3));
    assertThat(reserve(kit, "again", 2).reply().toVerify())
        .containsExactlyInAnyOrder("new", "more");
  }

  @Test
  void aMonthOfStartsIsCountedAndRemembersOnlyRecentIds() {
    var kit = ledger(Quota.WORKFLOW_STARTS);
    seed(kit, List.of("ignored"), 5);
    assertThat(((Counting) kit.getState()).used()).as("the read models' count").isEqualTo(5);
    for (int i = 0; i < QuotaLedger.RECENT_STARTS + 5; i++) reserve(kit, "run-" + i, -1);
    Counting counting = (Counting) kit.getState();
    assertThat(counting.used()).isEqualTo(QuotaLedger.RECENT_STARTS + 10);
    assertThat(counting.holds()).hasSize(QuotaLedger.RECENT_STARTS);
    assertThat(reserve(kit, "run-" + (QuotaLedger.RECENT_STARTS + 4), 0).reply().fresh())
        .as("a recent retry")
        .isFalse();

    var refused = reserve(kit, "next", 10);
    assertThat(refused.reply().outcome()).isEqualTo(Outcome.REFUSED);
    assertThat(refused.reply().toVerify()).as("a start is never undone").isEmpty();
    kit.restart();
    assertThat(kit.getState()).isEqualTo(counting);
  }
}
