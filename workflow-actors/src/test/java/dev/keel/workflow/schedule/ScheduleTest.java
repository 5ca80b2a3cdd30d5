package dev.keel.workflow.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.keel.persistence.ManualClock;
import dev.keel.persistence.Rejection;
import dev.keel.workflow.schedule.Schedule.Active;
import dev.keel.workflow.schedule.Schedule.Command;
import dev.keel.workflow.schedule.Schedule.Delete;
import dev.keel.workflow.schedule.Schedule.Deleted;
import dev.keel.workflow.schedule.Schedule.Empty;
import dev.keel.workflow.schedule.Schedule.Event;
import dev.keel.workflow.schedule.Schedule.Get;
import dev.keel.workflow.schedule.Schedule.Put;
import dev.keel.workflow.schedule.Schedule.PutResult;
import dev.keel.workflow.schedule.Schedule.ScheduleDefined;
import dev.keel.workflow.schedule.Schedule.ScheduleDefinition;
import dev.keel.workflow.schedule.Schedule.ScheduleDeleted;
import dev.keel.workflow.schedule.Schedule.ScheduleTicked;
import dev.keel.workflow.schedule.Schedule.ScheduleUpdated;
import dev.keel.workflow.schedule.Schedule.ScheduleView;
import dev.keel.workflow.schedule.Schedule.State;
import dev.keel.workflow.schedule.Schedule.Tick;
import dev.keel.workflow.schedule.Schedule.TickFailed;
import dev.keel.workflow.schedule.Schedule.TickStarted;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.PersistenceTestKitSnapshotPlugin;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.CommandResultWithReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ScheduleTest {

  /**
   * The test kit's in-memory journal first, else the JDBC journal of reference.conf wins (STACK.md,
   * pitfall 9).
   */
  static final Config CONFIG =
      EventSourcedBehaviorTestKit.config()
          .withFallback(PersistenceTestKitSnapshotPlugin.config())
          .withFallback(ConfigFactory.parseResources("schedule-test.conf"))
          .withFallback(ConfigFactory.load())
          .resolve();

  private static final Instant T0 = Instant.parse("2026-03-01T07:30:00Z");
  private static final AtomicInteger ids = new AtomicInteger();

  private ActorTestKit testKit;
  private ScheduleSettings settings;
  private ManualClock clock;
  private RecordingStarter starter;
  private String id;
  private EventSourcedBehaviorTestKit<Command, Event, State> kit;

  @BeforeAll
  void startSystem() {
    testKit = ActorTestKit.create("ScheduleTest", CONFIG);
    settings =
        ScheduleSettings.fromConfig(
            testKit.system().settings().config().getConfig("keel.schedules"));
  }

  @AfterAll
  void stopSystem() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void newSchedule() {
    clock = new ManualClock(T0);
    starter = new RecordingStarter();
    id = "report-" + ids.incrementAndGet();
    kit =
        EventSourcedBehaviorTestKit.create(
            testKit.system(),
            Schedule.create(id, starter, clock, settings, ScheduleMetrics.NONE),
            EventSourcedBehaviorTestKit.enabledSerializationSettings());
  }

  // ---------------------------------------------------------------- helpers

  private static JsonNode input(String region) {
    return JsonNodeFactory.instance.objectNode().put("region", region);
  }

  private static ScheduleDefinition daily(boolean paused) {
    return new ScheduleDefinition(
        "nightly-report", "0 9 * * *", "Europe/Berlin", input("eu"), paused, "acme");
  }

  private CommandResultWithReply<Command, Event, State, StatusReply<PutResult>> put(
      ScheduleDefinition def) {
    return kit.runCommand(replyTo -> new Put(def, replyTo));
  }

  private Active active() {
    return (Active) kit.getState();
  }

  private List<Object> journal() {
    return kit.persistenceTestKit().persistedInStorage(Schedule.persistenceId(id).id());
  }

  /** Retries {@code assertion} until it holds or 5 s pass: for what the entity does on its own. */
  private static void eventually(Runnable assertion) {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (true) {
      try {
        assertion.run();
        return;
      } catch (AssertionError e) {
        if (System.nanoTime() > deadline) throw e;
        try {
          Thread.sleep(20);
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          throw e;
        }
      }
    }
  }

  /** Lets the entity run whatever it would do on its own, then proves it did nothing more. */
  private void settle() throws InterruptedException {
    Thread.sleep(300);
    kit.getState();
  }

  // ---------------------------------------------------------------- define, update, get

  @Test
  void putDefinesTheScheduleWithItsNextRun() {
    // 09:00 in Berlin on 1 March 2026 (CET) is 08:00Z.
    Instant nine = Instant.parse("2026-03-01T08:00:00Z");
    var result = put(daily(false));

    ScheduleView expected =
        new ScheduleView(
            id,
            "nightly-report",
            "0 9 * * *",
            "Europe/Berlin",
            input("eu"),
            false,
            "acme",
            nine,
            null,
            null,
            T0,
            T0,
            null,
            null,
            0,
            null);
    assertThat(result.reply()).isEqualTo(StatusReply.success(new PutResult(true, expected)));
    assertThat(result.events()).containsExactly(new ScheduleDefined(daily(false), T0, nine));
    assertThat(result.state()).isEqualTo(new Active(daily(false), T0, T0, nine, null, null, null));

    var get = kit.<StatusReply<ScheduleView>>runCommand(Get::new);
    assertThat(get.reply()).isEqualTo(StatusReply.success(expected));
    assertThat(get.hasNoEvents()).isTrue();

    kit.restart();
    assertThat(kit.getState()).isEqualTo(new Active(daily(false), T0, T0, nine, null, null, null));
  }

  @Test
  void theSamePutAgainChangesNothing() {
    put(daily(false));
    clock.advance(Duration.ofMinutes(5));

    var again = put(daily(false));

    assertThat(again.reply().getValue().created()).isFalse();
    assertThat(again.reply().getValue().view().updatedAt()).isEqualTo(T0);
    assertThat(again.hasNoEvents()).isTrue();
  }

  @Test
  void aNullInputIsTheSameAsJsonNull() {
    ScheduleDefinition withoutInput =
        new ScheduleDefinition("nightly-report", "0 9 * * *", "UTC", null, false, null);
    put(withoutInput);
    var again =
        put(
            new ScheduleDefinition(
                "nightly-report", "0 9 * * *", "UTC", NullNode.getInstance(), false, null));
    assertThat(again.hasNoEvents()).isTrue();
    assertThat(again.reply().getValue().view().input()).isEqualTo(NullNode.getInstance());
  }

  @Test
  void changingTheInputKeepsTheNextRunAndChangingTheCronMovesIt() {
    put(daily(false));
    Instant later = T0.plus(Duration.ofMinutes(10));
    clock.set(later);

    ScheduleDefinition us =
        new ScheduleDefinition(
            "nightly-report", "0 9 * * *", "Europe/Berlin", input("us"), false, "acme");
    var inputChanged = put(us);
    assertThat(inputChanged.reply().getValue().created()).isFalse();
    assertThat(inputChanged.events())
        .containsExactly(new ScheduleUpdated(us, later, Instant.parse("2026-03-01T08:00:00Z")));

    ScheduleDefinition hourly =
        new ScheduleDefinition(
            "nightly-report", "0 * * * *", "Europe/Berlin", input("us"), false, "acme");
    var cronChanged = put(hourly);
    assertThat(cronChanged.events())
        .containsExactly(new ScheduleUpdated(hourly, later, Instant.parse("2026-03-01T08:00:00Z")));
    assertThat(cronChanged.reply().getValue().view().updatedAt()).isEqualTo(later);
    assertThat(cronChanged.reply().getValue().view().createdAt()).isEqualTo(T0);

    ScheduleDefinition utc =
        new ScheduleDefinition("nightly-report", "15 * * * *", "UTC", input("us"), false, "acme");
    assertThat(put(utc).state())
        .isEqualTo(
            new Active(utc, T0, later, Instant.parse("2026-03-01T08:15:00Z"), null, null, null));
  }

  @Test
  void aBadCronIsRejectedWithoutAnEvent() {
    var bad =
        put(
            new ScheduleDefinition(
                "nightly-report", "0 25 * * *", "UTC", input("eu"), false, null));

    assertThat(bad.reply().isError()).isTrue();
    assertThat(Rejection.of(bad.reply().getError()))
        .contains(
            new Rejection(
                Rejection.Kind.INVALID, "cron '0 25 * * *': hour 25 is out of range 0-23"));
    assertThat(bad.hasNoEvents()).isTrue();
    assertThat(bad.state()).isEqualTo(new Empty());

    put(daily(false));
    var badZone =
        put(
            new ScheduleDefinition(
                "nightly-report", "0 9 * * *", "Europe/Nowhere", input("eu"), false, "acme"));
    assertThat(Rejection.of(badZone.reply().getError()).map(Rejection::kind))
        .contains(Rejection.Kind.INVALID);
    assertThat(badZone.reply().getError().getMessage()).contains("timezone 'Europe/Nowhere'");
    assertThat(badZone.hasNoEvents()).isTrue();
    assertThat(badZone.state()).isEqualTo(active());
    assertThat(active().def()).isEqualTo(daily(false));
  }

  @Test
  void aTimeZoneOrCronWithAControlCharacterOrAnOffsetIsRejectedWithoutAnEvent() {
    // ZoneId.of(" UTC\u0000".trim()) is UTC, but the NUL was stored and stopped the read model on
    // PostgreSQL.
    for (String[] cronAndZone :
        new String[][] {
          {"0 9 * * *", "UTC\u0000"},
          {"0 9 * * *", " UTC"},
          {"0 9 * * *", "+01:00"},
          {"0 9 * * *\u0000", "UTC"}
        }) {
      var bad =
          put(
              new ScheduleDefinition(
                  "nightly-report", cronAndZone[0], cronAndZone[1], input("eu"), false, null));
      assertThat(Rejection.of(bad.reply().getError()).map(Rejection::kind))
          .as(cronAndZone[1])
          .contains(Rejection.Kind.INVALID);
      assertThat(bad.hasNoEvents()).isTrue();
      assertThat(bad.state()).isEqualTo(new Empty());
    }
    assertThatThrownBy(
            () ->
                ScheduleRules.validate(
                    new ScheduleDefinition("w", "0 9 * * *", "UTC\u0000", null, false, null)))
        .isInstanceOf(InvalidCronException.class)
        .hasFieldOrPropertyWithValue("field", "timezone");
  }

  @Test
  void aMissingWorkflowIsRejected() {
    var bad = put(new ScheduleDefinition(" ", "0 9 * * *", "UTC", input("eu"), false, null));
    assertThat(Rejection.of(bad.reply().getError()))
        .contains(new Rejection(Rejection.Kind.INVALID, "workflow is required"));
    assertThat(bad.hasNoEvents()).isTrue();
  }

  @Test
  void validateIsWhatRoutesCallBeforeAsking() {
    assertThat(ScheduleRules.validate(daily(false)))
        .isEqualTo(CronSpec.parse("0 9 * * *", "Europe/Berlin"));
    try {
      ScheduleRules.validate(new ScheduleDefinition("w", "0 9 * *", "UTC", null, false, null));
    } catch (InvalidCronException e) {
      assertThat(e.field()).isEqualTo("cron");
      return;
    }
    throw new AssertionError("expected InvalidCronException");
  }

  // ---------------------------------------------------------------- ticking

  @Test
  void aDueTickStartsTheWorkflowAndRecordsIt() {
    put(daily(false));
    Instant nine = Instant.parse("2026-03-01T08:00:00Z");
    Instant firedAt = nine.plusMillis(250);
    clock.set(firedAt);
    CompletableFuture<Boolean> release = starter.holdNext();

    var tick = kit.runCommand(new Tick(nine));

    assertThat(tick.hasNoEvents()).isTrue();
    String workflowId = id + "@2026-03-01T08:00:00.000Z";
    assertThat(ScheduleRules.workflowIdFor(id, nine)).isEqualTo(workflowId);
    assertThat(starter.calls())
        .containsExactly(
            new RecordingStarter.Call(workflowId, "nightly-report", input("eu"), "acme"));

    release.complete(true);
    Instant tomorrowNine = Instant.parse("2026-03-02T08:00:00Z");
    eventually(
        () ->
            assertThat(journal())
                .last()
                .isEqualTo(new ScheduleTicked(nine, workflowId, firedAt, tomorrowNine)));
    assertThat(kit.getState())
        .isEqualTo(new Active(daily(false), T0, T0, tomorrowNine, workflowId, nine, null));

    var view = kit.<StatusReply<ScheduleView>>runCommand(Get::new).reply().getValue();
    assertThat(view.lastRunWorkflowId()).isEqualTo(workflowId);
    assertThat(view.lastRunAt()).isEqualTo(nine);
    assertThat(view.nextRunAt()).isEqualTo(tomorrowNine);

    // The same tick again (a late timer, a duplicate) neither starts nor records anything.
    var again = kit.runCommand(new Tick(nine));
    assertThat(again.hasNoEvents()).isTrue();
    assertThat(starter.calls()).hasSize(1);

    kit.restart();
    assertThat(kit.getState())
        .isEqualTo(new Active(daily(false), T0, T0, tomorrowNine, workflowId, nine, null));
  }

  @Test
  void tickStartedIsRecordedOnceEvenWhenTheWorkflowHadAlreadyStarted() {
    put(daily(false));
    Instant nine = Instant.parse("2026-03-01T08:00:00Z");
    clock.set(nine.plusSeconds(1));
    String workflowId = ScheduleRules.workflowIdFor(id, nine);

    var started = kit.runCommand(new TickStarted(nine, workflowId, false));
    assertThat(started.events())
        .containsExactly(
            new ScheduleTicked(
                nine, workflowId, nine.plusSeconds(1), Instant.parse("2026-03-02T08:00:00Z")));

    assertThat(kit.runCommand(new TickStarted(nine, workflowId, true)).hasNoEvents()).isTrue();
    assertThat(kit.runCommand(new TickFailed(nine, workflowId, "late failure")).hasNoEvents())
        .isTrue();
  }

  @Test
  void aTickBeforeItsTimeDoesNothing() {
    put(daily(false));
    var early = kit.runCommand(new Tick(Instant.parse("2026-03-01T08:00:00Z")));
    assertThat(early.hasNoEvents()).isTrue();
    assertThat(starter.calls()).isEmpty();
  }

  @Test
  void aPausedScheduleNeverTicks() throws InterruptedException {
    var paused = put(daily(true));
    assertThat(paused.reply().getValue().view().nextRunAt()).isNull();
    assertThat(paused.events()).containsExactly(new ScheduleDefined(daily(true), T0, null));

    clock.set(Instant.parse("2026-03-05T12:00:00Z"));
    kit.runCommand(new Tick(Instant.parse("2026-03-01T08:00:00Z")));
    kit.restart();
    settle();
    assertThat(starter.calls()).isEmpty();

    // Resuming counts from now: the ticks that fell while paused are skipped, even on recovery.
    Instant resumedAt = Instant.parse("2026-03-05T12:00:00Z");
    var resumed = put(daily(false));
    assertThat(resumed.events())
        .containsExactly(
            new ScheduleUpdated(daily(false), resumedAt, Instant.parse("2026-03-06T08:00:00Z")));
    kit.restart();
    settle();
    assertThat(starter.calls()).isEmpty();
  }

  // ---------------------------------------------------------------- recovery

  @Test
  void recoveryAfterMissedTicksStartsOnlyTheNewest() throws InterruptedException {
    put(daily(false)); // next run 1 March 08:00Z
    // Down for three days: the ticks of 1, 2, 3 and 4 March were missed.
    Instant back = Instant.parse("2026-03-04T10:30:00Z");
    clock.set(back);

    kit.restart();

    Instant newest = Instant.parse("2026-03-04T08:00:00Z");
    String workflowId = id + "@2026-03-04T08:00:00.000Z";
    eventually(
        () ->
            assertThat(journal())
                .last()
                .isEqualTo(
                    new ScheduleTicked(
                        newest, workflowId, back, Instant.parse("2026-03-05T08:00:00Z"))));
    settle();
    assertThat(starter.startedIds()).containsExactly(workflowId);

    // Nothing is missed any more: another restart starts nothing.
    kit.restart();
    settle();
    assertThat(starter.startedIds()).containsExactly(workflowId);
  }

  @Test
  void recoveryBeforeTheNextRunStartsNothing() throws InterruptedException {
    put(daily(false));
    clock.set(Instant.parse("2026-03-01T07:59:59Z"));
    kit.restart();
    settle();
    assertThat(starter.calls()).isEmpty();
    assertThat(kit.getState())
        .isEqualTo(
            new Active(
                daily(false), T0, T0, Instant.parse("2026-03-01T08:00:00Z"), null, null, null));
  }

  @Test
  void recoveryAfterARecordedTickOnlyCatchesUpLaterTicks() throws InterruptedException {
    put(daily(false));
    Instant nine = Instant.parse("2026-03-01T08:00:00Z");
    clock.set(nine.plusSeconds(1));
    kit.runCommand(new TickStarted(nine, ScheduleRules.workflowIdFor(id, nine), true));

    clock.set(Instant.parse("2026-03-01T20:00:00Z"));
    kit.restart();
    settle();
    assertThat(starter.calls()).isEmpty();

    clock.set(Instant.parse("2026-03-02T08:00:00Z"));
    kit.restart();
    eventually(
        () -> assertThat(starter.startedIds()).containsExactly(id + "@2026-03-02T08:00:00.000Z"));
  }

  // ---------------------------------------------------------------- delete

  @Test
  void deleteThenGetIsNotFound() {
    put(daily(false));
    Instant deletedAt = T0.plusSeconds(60);
    clock.set(deletedAt);

    var deleted = kit.<StatusReply<Done>>runCommand(Delete::new);
    assertThat(deleted.reply()).isEqualTo(StatusReply.success(Done.getInstance()));
    assertThat(deleted.events()).containsExactly(new ScheduleDeleted(deletedAt));
    assertThat(deleted.state()).isEqualTo(new Deleted(deletedAt));

    var get = kit.<StatusReply<ScheduleView>>runCommand(Get::new);
    assertThat(Rejection.of(get.reply().getError()).map(Rejection::kind))
        .contains(Rejection.Kind.NOT_FOUND);
    assertThat(get.hasNoEvents()).isTrue();

    var deleteAgain = kit.<StatusReply<Done>>runCommand(Delete::new);
    assertThat(Rejection.of(deleteAgain.reply().getError()).map(Rejection::kind))
        .contains(Rejection.Kind.NOT_FOUND);
    assertThat(deleteAgain.hasNoEvents()).isTrue();

    // A tick of the deleted schedule does nothing; a new Put defines it again.
    clock.set(Instant.parse("2026-03-01T09:00:00Z"));
    assertThat(kit.runCommand(new Tick(Instant.parse("2026-03-01T08:00:00Z"))).hasNoEvents())
        .isTrue();
    assertThat(starter.calls()).isEmpty();
    var again = put(daily(false));
    assertThat(again.reply().getValue().created()).isTrue();
    assertThat(again.events()).hasSize(1).first().isInstanceOf(ScheduleDefined.class);

    kit.restart();
    assertThat(kit.getState()).isEqualTo(again.state());
  }

  @Test
  void anUnknownScheduleIsNotFound() {
    var get = kit.<StatusReply<ScheduleView>>runCommand(Get::new);
    assertThat(Rejection.of(get.reply().getError()))
        .contains(new Rejection(Rejection.Kind.NOT_FOUND, "schedule '" + id + "' does not exist"));
    var delete = kit.<StatusReply<Done>>runCommand(Delete::new);
    assertThat(delete.reply().isError()).isTrue();
    assertThat(delete.hasNoEvents()).isTrue();
    assertThat(kit.getState()).isEqualTo(new Empty());
  }

  // ---------------------------------------------------------------- settings

  @Test
  void settingsDefaultsComeFromKeelSchedulesConf() {
    Config defaults = ConfigFactory.parseResources("keel-schedules.conf").resolve();
    assertThat(ScheduleSettings.fromConfig(defaults.getConfig("keel.schedules")))
        .isEqualTo(
            new ScheduleSettings(
                Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofMinutes(15)));
    assertThat(settings.retryBackoff()).isEqualTo(Duration.ofMillis(200));
  }
}
