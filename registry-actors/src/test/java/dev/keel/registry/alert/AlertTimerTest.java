package dev.keel.registry.alert;

import static dev.keel.registry.alert.AlertRuleTest.eventually;
import static dev.keel.registry.alert.AlertRuleTest.obs;
import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import dev.keel.persistence.ManualClock;
import dev.keel.registry.alert.AlertRule.Active;
import dev.keel.registry.alert.AlertRule.AlertFired;
import dev.keel.registry.alert.AlertRule.Command;
import dev.keel.registry.alert.AlertRule.Event;
import dev.keel.registry.alert.AlertRule.Observe;
import dev.keel.registry.alert.AlertRule.Put;
import dev.keel.registry.alert.AlertRule.PutResult;
import dev.keel.registry.alert.AlertRule.State;
import java.time.Duration;
import java.time.Instant;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ManualTime;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The rule's own Pekko timers, driven by {@link ManualTime} in step with a {@link ManualClock}. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AlertTimerTest {

  private ActorTestKit testKit;
  private ManualTime manualTime;
  private ManualClock clock;
  private RecordingStarter starter;
  private EventSourcedBehaviorTestKit<Command, Event, State> kit;
  private int seq;
  private String id;

  @BeforeAll
  void startSystem() {
    testKit =
        ActorTestKit.create(
            "AlertTimerTest", ManualTime.config().withFallback(AlertRuleTest.CONFIG));
    manualTime = ManualTime.get(testKit.system());
  }

  @AfterAll
  void stopSystem() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void newRule() {
    clock = new ManualClock(AlertRuleTest.T0);
    starter = new RecordingStarter();
    id = "timer-" + ++seq;
    AlertSettings defaults =
        AlertSettings.fromConfig(
            ConfigFactory.parseResources("keel-alerts.conf").resolve().getConfig("keel.alerts"));
    kit =
        EventSourcedBehaviorTestKit.create(
            testKit.system(),
            AlertRule.create(id, starter, starter, clock, defaults),
            EventSourcedBehaviorTestKit.enabledSerializationSettings());
    kit.<StatusReply<PutResult>>runCommand(
        r -> new Put(AlertRuleTest.def("ingest-1", "status != healthy", 300), null, r));
  }

  /**
   * Moves both the entity's clock and Pekko's scheduler, then waits until the entity has caught up.
   */
  private void pass(Duration duration) {
    clock.advance(duration);
    manualTime.timePasses(duration);
    kit.getState(); // behind every timer message in the mailbox
  }

  private long fired() {
    return kit.persistenceTestKit().persistedInStorage(AlertRule.persistenceId(id).id()).stream()
        .filter(AlertFired.class::isInstance)
        .count();
  }

  @Test
  void aDeferredFiringHappensByItselfAtTheEndOfTheCooldown() {
    kit.runCommand(new Observe(obs("ingest-1", "stale")));
    pass(Duration.ofSeconds(10));
    kit.runCommand(new Observe(obs("ingest-1", "healthy")));
    pass(Duration.ofSeconds(10));
    kit.runCommand(new Observe(obs("ingest-1", "unhealthy")));
    assertThat(fired()).isEqualTo(1);

    pass(Duration.ofSeconds(279));
    assertThat(fired()).isEqualTo(1);

    pass(Duration.ofSeconds(1));
    eventually(() -> assertThat(fired()).isEqualTo(2));
    Active active = (Active) kit.getState();
    assertThat(active.recentFirings().get(1).status()).isEqualTo("unhealthy");
    assertThat(active.recentFirings().get(1).firedAt())
        .isEqualTo(AlertRuleTest.T0.plusSeconds(300));
    eventually(
        () ->
            assertThat(starter.startedIds())
                .containsExactly("alert." + id + ".1", "alert." + id + ".2"));
  }

  @Test
  void aFailedStartIsRetriedAfterTheBackoff() {
    starter.failNext(1, "journal unreachable");
    kit.runCommand(new Observe(obs("ingest-1", "stale")));
    eventually(() -> assertThat(starter.calls()).hasSize(1));
    kit.getState(); // the failure is back: the retry timer runs

    pass(Duration.ofSeconds(9));
    assertThat(starter.calls()).hasSize(1);

    pass(Duration.ofSeconds(1));
    eventually(() -> assertThat(starter.calls()).hasSize(2));
    eventually(() -> assertThat(((Active) kit.getState()).undelivered()).isEmpty());
  }

  @Test
  void aDeferralRecoveredAfterItsDueTimeFiresAtOnce() {
    kit.runCommand(new Observe(obs("ingest-1", "stale")));
    pass(Duration.ofSeconds(10));
    kit.runCommand(new Observe(obs("ingest-1", "healthy")));
    kit.runCommand(new Observe(obs("ingest-1", "stale")));

    // Down past the end of the cooldown: the rule recovers late and fires at once.
    clock.set(Instant.parse("2026-03-01T09:00:00Z"));
    kit.restart();
    pass(Duration.ZERO);
    eventually(() -> assertThat(fired()).isEqualTo(2));
  }
}
