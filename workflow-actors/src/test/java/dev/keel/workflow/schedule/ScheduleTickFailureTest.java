package dev.keel.workflow.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.keel.persistence.ManualClock;
import dev.keel.workflow.execution.InvalidInputException;
import dev.keel.workflow.schedule.Schedule.Active;
import dev.keel.workflow.schedule.Schedule.Command;
import dev.keel.workflow.schedule.Schedule.Event;
import dev.keel.workflow.schedule.Schedule.Get;
import dev.keel.workflow.schedule.Schedule.Put;
import dev.keel.workflow.schedule.Schedule.PutResult;
import dev.keel.workflow.schedule.Schedule.ScheduleDefinition;
import dev.keel.workflow.schedule.Schedule.ScheduleTickFailed;
import dev.keel.workflow.schedule.Schedule.ScheduleTicked;
import dev.keel.workflow.schedule.Schedule.ScheduleView;
import dev.keel.workflow.schedule.Schedule.State;
import dev.keel.workflow.schedule.Schedule.Tick;
import dev.keel.workflow.schedule.Schedule.TickFailure;
import dev.keel.workflow.sdk.InputProblem;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A tick whose workflow does not start: journaled, shown in the view, counted, retried with a
 * doubling backoff (200 ms, then 400 ms here) for the newest due tick, and kept over a restart. The
 * retries run on the real scheduler; the entity's clock is moved by hand past each retry time.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ScheduleTickFailureTest {

  private static final Instant T0 = Instant.parse("2026-03-01T07:30:00Z");

  /** 09:00 in Berlin on 1 March 2026. */
  private static final Instant NINE = Instant.parse("2026-03-01T08:00:00Z");

  private static final AtomicInteger ids = new AtomicInteger();
  private static final InvalidInputException BAD_INPUT =
      new InvalidInputException(
          List.of(new InputProblem("input.userId", "has the wrong type or shape")));

  private ActorTestKit testKit;
  private ScheduleSettings settings;
  private ManualClock clock;
  private RecordingStarter starter;
  private SimpleMeterRegistry meters;
  private String id;
  private EventSourcedBehaviorTestKit<Command, Event, State> kit;

  @BeforeAll
  void startSystem() {
    testKit = ActorTestKit.create("ScheduleTickFailureTest", ScheduleTest.CONFIG);
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
    meters = new SimpleMeterRegistry();
    id = "failing-" + ids.incrementAndGet();
    kit =
        EventSourcedBehaviorTestKit.create(
            testKit.system(),
            Schedule.create(id, starter, clock, settings, new ScheduleMetrics(meters)),
            EventSourcedBehaviorTestKit.enabledSerializationSettings());
    put(daily("u-1"));
    clock.set(NINE.plusSeconds(2));
  }

  private static ScheduleDefinition daily(String userId) {
    JsonNode input = JsonNodeFactory.instance.objectNode().put("userId", userId);
    return new ScheduleDefinition("example", "0 9 * * *", "Europe/Berlin", input, false, "acme");
  }

  private void put(ScheduleDefinition def) {
    kit.<StatusReply<PutResult>>runCommand(replyTo -> new Put(def, replyTo));
  }

  private ScheduleView view() {
    return kit.<StatusReply<ScheduleView>>runCommand(Get::new).reply().getValue();
  }

  private List<Object> journal() {
    return kit.persistenceTestKit().persistedInStorage(Schedule.persistenceId(id).id());
  }

  private long failuresJournaled() {
    return journal().stream().filter(ScheduleTickFailed.class::isInstance).count();
  }

  private double failuresCounted() {
    return meters.counter("keel.schedules.tick.failures").count();
  }

  private void settle() throws InterruptedException {
    Thread.sleep(500);
    kit.getState();
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
  void aFailedStartIsJournaledShownCountedAndRetriedWithADoublingBackoffUntilItStarts()
      throws InterruptedException {
    starter.failNextWith(2, BAD_INPUT);
    String workflowId = ScheduleRules.workflowIdFor(id, NINE);
    Instant firstFailure = NINE.plusSeconds(2);

    kit.runCommand(new Tick(NINE));

    eventually(() -> assertThat(failuresJournaled()).isEqualTo(1));
    String error = "the input does not fit the workflow: input.userId has the wrong type or shape";
    assertThat(journal())
        .last()
        .isEqualTo(
            new ScheduleTickFailed(
                NINE, workflowId, error, firstFailure, firstFailure.plusMillis(200)));
    assertThat(((Active) kit.getState()).failing())
        .isEqualTo(new TickFailure(NINE, error, firstFailure, 1, firstFailure.plusMillis(200)));
    ScheduleView failing = view();
    assertThat(failing.lastError()).isEqualTo(error);
    assertThat(failing.lastErrorAt()).isEqualTo(firstFailure);
    assertThat(failing.failedStarts()).isEqualTo(1);
    assertThat(failing.nextRetryAt()).isEqualTo(firstFailure.plusMillis(200));
    assertThat(failing.nextRunAt()).isEqualTo(NINE);
    assertThat(failing.lastRunAt()).isNull();
    assertThat(failuresCounted()).isEqualTo(1.0);
    // Not before the retry's time, however often a timer fires.
    settle();
    assertThat(starter.calls()).hasSize(1);

    Instant secondFailure = firstFailure.plusSeconds(1);
    clock.set(secondFailure);
    eventually(() -> assertThat(failuresJournaled()).isEqualTo(2));
    assertThat(view().failedStarts()).isEqualTo(2);
    assertThat(view().nextRetryAt()).isEqualTo(secondFailure.plusMillis(400)); // doubled

    Instant started = secondFailure.plusSeconds(1);
    clock.set(started);
    eventually(
        () ->
            assertThat(journal())
                .last()
                .isEqualTo(
                    new ScheduleTicked(
                        NINE, workflowId, started, Instant.parse("2026-03-02T08:00:00Z"))));
    assertThat(starter.startedIds()).containsExactly(workflowId, workflowId, workflowId);
    ScheduleView ok = view();
    assertThat(ok.lastError()).isNull();
    assertThat(ok.lastErrorAt()).isNull();
    assertThat(ok.failedStarts()).isZero();
    assertThat(ok.nextRetryAt()).isNull();
    assertThat(ok.lastRunWorkflowId()).isEqualTo(workflowId);
    assertThat(failuresCounted()).isEqualTo(2.0);
  }

  @Test
  void theFailureSurvivesARestartAndTheRetryResumesThen() {
    starter.failNextWith(1, BAD_INPUT);
    kit.runCommand(new Tick(NINE));
    eventually(() -> assertThat(failuresJournaled()).isEqualTo(1));
    State before = kit.getState();

    kit.restart();

    assertThat(kit.getState()).isEqualTo(before);
    assertThat(view().failedStarts()).isEqualTo(1);
    clock.advance(Duration.ofSeconds(1));
    eventually(() -> assertThat(journal()).last().isInstanceOf(ScheduleTicked.class));
    assertThat(((Active) kit.getState()).failing()).isNull();
    assertThat(starter.calls()).hasSize(2);
  }

  @Test
  void anUnexpectedFailureShowsNoClassNameAndNothingOfItsMessage() {
    starter.failNextWith(
        1, new IllegalStateException("jdbc:postgresql://db/keel?password=hunter2"));
    kit.runCommand(new Tick(NINE));
    eventually(() -> assertThat(failuresJournaled()).isEqualTo(1));
    assertThat(view().lastError())
        .isEqualTo(TickErrors.UNEXPECTED)
        .doesNotContain("Exception")
        .doesNotContain("hunter2");
  }

  @Test
  void aNewInputIsTriedAtOnceAndNewTimingDropsTheFailingTick() throws InterruptedException {
    starter.failNextWith(1, BAD_INPUT);
    kit.runCommand(new Tick(NINE));
    eventually(() -> assertThat(failuresJournaled()).isEqualTo(1));

    // Only the input changes: the failing tick is still due and is tried now, not at its retry
    // time.
    put(daily("u-2"));
    eventually(() -> assertThat(journal()).last().isInstanceOf(ScheduleTicked.class));
    assertThat(starter.calls())
        .last()
        .extracting(c -> c.input().get("userId").asText())
        .isEqualTo("u-2");
    assertThat(view().lastError()).isNull();

    // Failing again on the next day's tick, then a new cron: the due tick is dropped with its
    // error.
    Instant nextNine = Instant.parse("2026-03-02T08:00:00Z");
    clock.set(nextNine.plusSeconds(1));
    starter.failNextWith(1, BAD_INPUT);
    kit.runCommand(new Tick(nextNine));
    eventually(() -> assertThat(failuresJournaled()).isEqualTo(2));
    put(
        new ScheduleDefinition(
            "example", "0 10 * * *", "Europe/Berlin", daily("u-2").input(), false, "acme"));
    ScheduleView moved = view();
    assertThat(moved.lastError()).isNull();
    assertThat(moved.nextRetryAt()).isNull();
    assertThat(moved.nextRunAt()).isEqualTo(Instant.parse("2026-03-02T09:00:00Z"));
    int calls = starter.calls().size();
    clock.advance(Duration.ofSeconds(5));
    settle();
    assertThat(starter.calls()).hasSize(calls);
  }

  @Test
  void pausingDropsTheFailureAndStopsTheRetries() throws InterruptedException {
    starter.failNextWith(1000, BAD_INPUT);
    kit.runCommand(new Tick(NINE));
    eventually(() -> assertThat(failuresJournaled()).isEqualTo(1));

    ScheduleDefinition paused =
        new ScheduleDefinition(
            "example", "0 9 * * *", "Europe/Berlin", daily("u-1").input(), true, "acme");
    put(paused);
    clock.advance(Duration.ofMinutes(1));
    settle();
    assertThat(starter.calls()).hasSize(1);
    assertThat(view().lastError()).isNull();
    assertThat(journal()).noneMatch(ScheduleTicked.class::isInstance);
  }
}
