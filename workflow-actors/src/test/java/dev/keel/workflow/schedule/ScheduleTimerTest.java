package dev.keel.workflow.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.typesafe.config.ConfigFactory;
import dev.keel.persistence.ManualClock;
import dev.keel.workflow.schedule.Schedule.Active;
import dev.keel.workflow.schedule.Schedule.Command;
import dev.keel.workflow.schedule.Schedule.Event;
import dev.keel.workflow.schedule.Schedule.Put;
import dev.keel.workflow.schedule.Schedule.PutResult;
import dev.keel.workflow.schedule.Schedule.ScheduleDefinition;
import dev.keel.workflow.schedule.Schedule.State;
import dev.keel.workflow.schedule.Schedule.TickFailure;
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

/**
 * The schedule's own Pekko timers, driven by {@link ManualTime} in step with a {@link ManualClock}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ScheduleTimerTest {

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
            "ScheduleTimerTest", ManualTime.config().withFallback(ScheduleTest.CONFIG));
    manualTime = ManualTime.get(testKit.system());
  }

  @AfterAll
  void stopSystem() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void newSchedule() {
    clock = new ManualClock(Instant.parse("2026-03-01T05:30:00Z"));
    starter = new RecordingStarter();
    id = "timer-" + ++seq;
    ScheduleSettings defaults =
        ScheduleSettings.fromConfig(
            ConfigFactory.parseResources("keel-schedules.conf")
                .resolve()
                .getConfig("keel.schedules"));
    kit =
        EventSourcedBehaviorTestKit.create(
            testKit.system(),
            Schedule.create(id, starter, clock, defaults, ScheduleMetrics.NONE),
            EventSourcedBehaviorTestKit.enabledSerializationSettings());
    ScheduleDefinition def =
        new ScheduleDefinition(
            "nightly-report",
            "0 9 * * *",
            "UTC",
            JsonNodeFactory.instance.objectNode().put("region", "eu"),
            false,
            null);
    kit.<StatusReply<PutResult>>runCommand(replyTo -> new Put(def, replyTo));
  }

  /**
   * Moves both the entity's clock and Pekko's scheduler, then waits until the entity has caught up.
   */
  private void pass(Duration duration) {
    clock.advance(duration);
    manualTime.timePasses(duration);
    kit.getState(); // behind every timer message in the mailbox
  }

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

  @Test
  void theTimerFiresAtTheTickThroughHourlyReArms() {
    // 3.5 h to the first tick: the timer is capped at 1 h and re-armed on the way.
    pass(Duration.ofHours(1));
    pass(Duration.ofHours(1));
    pass(Duration.ofHours(1));
    pass(Duration.ofMinutes(29));
    assertThat(starter.calls()).isEmpty();

    pass(Duration.ofMinutes(1));
    eventually(
        () -> assertThat(starter.startedIds()).containsExactly(id + "@2026-03-01T09:00:00.000Z"));
    eventually(
        () ->
            assertThat(((Active) kit.getState()).nextRunAt())
                .isEqualTo(Instant.parse("2026-03-02T09:00:00Z")));

    for (int hour = 0; hour < 24; hour++) pass(Duration.ofHours(1));
    eventually(
        () ->
            assertThat(starter.startedIds())
                .containsExactly(
                    id + "@2026-03-01T09:00:00.000Z", id + "@2026-03-02T09:00:00.000Z"));
  }

  @Test
  void aFailedStartIsRetriedAfterTheBackoff() {
    // The start fails only once the manual clock has finished moving: ManualTime runs due tasks
    // before it advances its own time, so a retry timer armed while it moves would be dated from
    // the old time and fire early.
    var release = starter.holdNext();
    pass(Duration.ofHours(3));
    pass(Duration.ofMinutes(30));
    eventually(() -> assertThat(starter.calls()).hasSize(1));
    release.complete(false);
    kit.getState(); // the failure is back: the retry timer runs

    pass(Duration.ofSeconds(9));
    assertThat(starter.calls()).hasSize(1);

    pass(Duration.ofSeconds(1));
    String workflowId = id + "@2026-03-01T09:00:00.000Z";
    eventually(() -> assertThat(starter.startedIds()).containsExactly(workflowId, workflowId));
    eventually(
        () -> assertThat(((Active) kit.getState()).lastRunWorkflowId()).isEqualTo(workflowId));
  }

  @Test
  void aScheduleThatCannotStartBacksOffAndStartsOnlyTheNewestDueTick() {
    // Every minute, and every start fails: one attempt per backoff (10 s, doubling), each for the
    // newest tick due then, instead of a start per minute plus a retry every 10 s for each.
    ScheduleDefinition everyMinute =
        new ScheduleDefinition(
            "nightly-report",
            "* * * * *",
            "UTC",
            JsonNodeFactory.instance.objectNode().put("region", "eu"),
            false,
            null);
    kit.<StatusReply<PutResult>>runCommand(replyTo -> new Put(everyMinute, replyTo));
    starter.failNextWith(1000, new IllegalStateException("never"));

    // Up to the first tick at 05:31:00, then to each retry as it falls due: 10 s after the first
    // failure, then 20, 40, 80, 160 and 320 s after each further one.
    Duration[] waits = {
      Duration.ofSeconds(60),
      Duration.ofSeconds(10),
      Duration.ofSeconds(20),
      Duration.ofSeconds(40),
      Duration.ofSeconds(80),
      Duration.ofSeconds(160),
      Duration.ofSeconds(320)
    };
    for (int attempt = 1; attempt <= waits.length; attempt++) {
      pass(waits[attempt - 1]);
      int failures = attempt;
      eventually(
          () ->
              assertThat(((Active) kit.getState()).failing())
                  .extracting(TickFailure::failures)
                  .isEqualTo(failures));
      assertThat(starter.calls()).hasSize(attempt);
    }
    pass(Duration.ofSeconds(30)); // 05:42:00: no tick of its own while failing

    // Attempts at 05:31:00, :10, :30, 05:32:10, 05:33:30, 05:36:10 and 05:41:30.
    eventually(
        () ->
            assertThat(starter.startedIds())
                .containsExactly(
                    id + "@2026-03-01T05:31:00.000Z",
                    id + "@2026-03-01T05:31:00.000Z",
                    id + "@2026-03-01T05:31:00.000Z",
                    id + "@2026-03-01T05:32:00.000Z",
                    id + "@2026-03-01T05:33:00.000Z",
                    id + "@2026-03-01T05:36:00.000Z",
                    id + "@2026-03-01T05:41:00.000Z"));
    Active state = (Active) kit.getState();
    assertThat(state.failing().failures()).isEqualTo(7);
    assertThat(state.failing().tick()).isEqualTo(Instant.parse("2026-03-01T05:41:00Z"));
    assertThat(state.lastRunAt()).isNull();
  }
}
