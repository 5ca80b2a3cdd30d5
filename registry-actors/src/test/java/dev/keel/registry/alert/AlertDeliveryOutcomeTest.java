package dev.keel.registry.alert;

import static dev.keel.registry.alert.AlertRuleTest.eventually;
import static dev.keel.registry.alert.AlertRuleTest.obs;
import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.persistence.ManualClock;
import dev.keel.persistence.Rejection;
import dev.keel.registry.alert.AlertRule.AlertDefinition;
import dev.keel.registry.alert.AlertRule.AlertView;
import dev.keel.registry.alert.AlertRule.Command;
import dev.keel.registry.alert.AlertRule.DeliveryAbandoned;
import dev.keel.registry.alert.AlertRule.DeliveryCompleted;
import dev.keel.registry.alert.AlertRule.DeliveryStarted;
import dev.keel.registry.alert.AlertRule.Event;
import dev.keel.registry.alert.AlertRule.FiringView;
import dev.keel.registry.alert.AlertRule.Get;
import dev.keel.registry.alert.AlertRule.Observe;
import dev.keel.registry.alert.AlertRule.Put;
import dev.keel.registry.alert.AlertRule.PutResult;
import dev.keel.registry.alert.AlertRule.State;
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
 * A firing's {@code delivery} follows its webhook workflow: {@code started}, then {@code delivered}
 * when the workflow completed or {@code abandoned} when it failed, was cancelled or does not exist;
 * journaled, so that a restarted rule shows it too, and followed again after a restart while it
 * runs.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AlertDeliveryOutcomeTest {

  private static final Instant T0 = AlertRuleTest.T0;
  private static final AtomicInteger ids = new AtomicInteger();

  private ActorTestKit testKit;
  private AlertSettings settings;
  private ManualClock clock;
  private RecordingStarter starter;
  private String id;
  private String workflowId;
  private EventSourcedBehaviorTestKit<Command, Event, State> kit;

  @BeforeAll
  void startSystem() {
    testKit = ActorTestKit.create("AlertDeliveryOutcomeTest", AlertRuleTest.CONFIG);
    settings =
        AlertSettings.fromConfig(testKit.system().settings().config().getConfig("keel.alerts"));
  }

  @AfterAll
  void stopSystem() {
    testKit.shutdownTestKit();
  }

  /** A rule that fired once and whose delivery workflow started. */
  @BeforeEach
  void firedAndStarted() {
    clock = new ManualClock(T0);
    starter = new RecordingStarter();
    id = "delivery-" + ids.incrementAndGet();
    workflowId = "alert." + id + ".1";
    kit =
        EventSourcedBehaviorTestKit.create(
            testKit.system(),
            AlertRule.create(id, starter, starter, clock, settings),
            EventSourcedBehaviorTestKit.enabledSerializationSettings());
    kit.<StatusReply<PutResult>>runCommand(
        r ->
            new Put(
                new AlertDefinition(
                    "ingest-1", "status != healthy", AlertRuleTest.WEBHOOK, 300, null),
                null,
                r));
    kit.runCommand(new Observe(obs("ingest-1", "unhealthy")));
    eventually(
        () -> assertThat(journal()).filteredOn(DeliveryStarted.class::isInstance).hasSize(1));
    eventually(() -> assertThat(starter.awaited()).contains(workflowId));
    assertThat(firing().delivery()).isEqualTo("started");
  }

  private AlertView view() {
    return kit.<StatusReply<AlertView>>runCommand(r -> new Get(null, r)).reply().getValue();
  }

  private FiringView firing() {
    return view().firings().get(0);
  }

  private List<Object> journal() {
    return kit.persistenceTestKit().persistedInStorage(AlertRule.persistenceId(id).id());
  }

  @Test
  void aCompletedDeliveryWorkflowMakesTheFiringDelivered() {
    Instant done = T0.plusSeconds(3);
    clock.set(done);

    starter.end(workflowId, "completed", null);

    eventually(() -> assertThat(journal()).last().isEqualTo(new DeliveryCompleted(1, done)));
    assertThat(firing().delivery()).isEqualTo("delivered");
    State before = kit.getState();
    assertThat(kit.restart().state()).isEqualTo(before);
    assertThat(firing().delivery()).isEqualTo("delivered");
    State folded = new AlertRule.Empty();
    for (Object e : journal()) folded = AlertRule.apply(folded, (Event) e);
    assertThat(folded).as("audit replay through the same handler").isEqualTo(before);
  }

  @Test
  void aFailedOrCancelledDeliveryWorkflowMakesTheFiringAbandoned() {
    Instant done = T0.plusSeconds(90);
    clock.set(done);

    starter.end(
        workflowId,
        "failed",
        "gave up after 20 attempts; last: POST https://hooks.example.com/… answered 500");

    eventually(
        () ->
            assertThat(journal())
                .last()
                .isEqualTo(
                    new DeliveryAbandoned(
                        1,
                        "the delivery workflow failed: gave up after 20 attempts; last: POST"
                            + " https://hooks.example.com/… answered 500",
                        done)));
    assertThat(firing().delivery()).isEqualTo("abandoned");
    assertThat(kit.restart().state()).isEqualTo(kit.getState());
    assertThat(firing().delivery()).isEqualTo("abandoned");
  }

  @Test
  void aRestartedRuleFollowsItsStartedDeliveryAgain() {
    kit.restart();
    eventually(() -> assertThat(starter.awaited()).filteredOn(workflowId::equals).hasSize(2));
    assertThat(firing().delivery()).isEqualTo("started");

    starter.end(workflowId, "cancelled", "by the operator");

    eventually(() -> assertThat(firing().delivery()).isEqualTo("abandoned"));
    assertThat(journal())
        .filteredOn(DeliveryAbandoned.class::isInstance)
        .singleElement()
        .extracting(e -> ((DeliveryAbandoned) e).reason())
        .isEqualTo("the delivery workflow was cancelled: by the operator");
  }

  @Test
  void aWaitThatFailsIsTriedAgainAndAnUnknownWorkflowIsAbandoned() throws InterruptedException {
    // The rule is told to wait again (FollowDelivery) once its wait ran out or failed; here it
    // fails twice.
    starter.failNextAwait(new IllegalStateException("the cluster did not answer"));
    starter.failNextAwait(
        Rejection.notFoundFailure("workflow '" + workflowId + "' does not exist"));
    kit.runCommand(new AlertRule.DeliveryFollowFailed(1, workflowId, "simulated"));

    eventually(() -> assertThat(firing().delivery()).isEqualTo("abandoned"));
    assertThat(journal())
        .last()
        .isEqualTo(new DeliveryAbandoned(1, "the delivery workflow does not exist", T0));
    int waits = starter.awaited().size();
    Thread.sleep(500);
    assertThat(starter.awaited()).hasSize(waits); // ended: not followed any more
  }
}
