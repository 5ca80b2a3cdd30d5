package dev.keel.workflow.schedule;

import dev.keel.persistence.ManualClock;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.typesafe.config.ConfigFactory;
import dev.keel.workflow.schedule.Schedule.Active;
import dev.keel.workflow.schedule.Schedule.Command;
import dev.keel.workflow.schedule.Schedule.Event;
import dev.keel.workflow.schedule.Schedule.Put;
import dev.keel.workflow.schedule.Schedule.PutResult;
import dev.keel.workflow.schedule.Schedule.ScheduleDefinition;
import dev.keel.workflow.schedule.Schedule.State;
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

/** The schedule's own Pekko timers, driven by {@link ManualTime} in step with a {@link ManualClock}. */
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
    testKit = ActorTestKit.create("ScheduleTimerTest", ManualTime.config().withFallback(ScheduleTest.CONFIG));
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
    ScheduleSettings defaults = ScheduleSettings.fromConfig(
        ConfigFactory.parseResources("keel-schedules.conf").resolve().getConfig("keel.schedules"));
    kit = EventSourcedBehaviorTestKit.create(testKit.system(), Schedule.create(id, starter, clock, defaults),
        EventSourcedBehaviorTestKit.enabledSerializationSettings());
    ScheduleDefinition def = new ScheduleDefinition("nightly-report", "0 9 * * *", "UTC",
        JsonNodeFactory.instance.objectNode().put("region", "eu"), false, null);
    kit.<StatusReply<PutResult>>runCommand(replyTo -> new Put(def, replyTo));
  }

  /** Moves both the entity's clock and Pekko's scheduler, then waits until the entity has caught up. */
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
    eventually(() -> assertThat(starter.startedIds()).containsExactly(id + "@2026-03-01T09:00:00.000Z"));
    eventually(() -> assertThat(((Active) kit.getState()).nextRunAt()).isEqualTo(Instant.parse("2026-03-02T09:00:00Z")));

    for (int hour = 0; hour < 24; hour++) pass(Duration.ofHours(1));
    eventually(() -> assertThat(starter.startedIds())
        .containsExactly(id + "@2026-03-01T09:00:00.000Z", id + "@2026-03-02T09:00:00.000Z"));
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
    eventually(() -> assertThat(((Active) kit.getState()).lastRunWorkflowId()).isEqualTo(workflowId));
  }
}
