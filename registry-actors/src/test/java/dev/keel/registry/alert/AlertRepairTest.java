package dev.keel.registry.alert;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.persistence.ManualClock;
import dev.keel.registry.alert.AlertRule.AlertDefinition;
import dev.keel.registry.alert.AlertRule.AlertFired;
import dev.keel.registry.alert.AlertRule.AlertView;
import dev.keel.registry.alert.AlertRule.Command;
import dev.keel.registry.alert.AlertRule.Event;
import dev.keel.registry.alert.AlertRule.FiringView;
import dev.keel.registry.alert.AlertRule.Get;
import dev.keel.registry.alert.AlertRule.Observe;
import dev.keel.registry.alert.AlertRule.PutResult;
import dev.keel.registry.alert.AlertRule.State;
import dev.keel.registry.service.ServiceObservation;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Alerts that repair: a rule with a repair starts its workflow once per firing as {@code
 * <alert>:<firing>}, with the firing's fields put into the input, as the rule's tenant; follows it
 * to its end and shows its id and state in the firing; starts it again after a recovery until the
 * start is acknowledged; and gives up on a start refused for good. A repair-only rule delivers no
 * webhook.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AlertRepairTest {

  private static final Instant T0 = AlertRuleTest.T0;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final AtomicInteger ids = new AtomicInteger();

  private ActorTestKit testKit;
  private AlertSettings settings;
  private RecordingStarter starter;
  private String id;
  private EventSourcedBehaviorTestKit<Command, Event, State> kit;

  @BeforeAll
  void startSystem() {
    testKit = ActorTestKit.create("AlertRepairTest", AlertRuleTest.CONFIG);
    settings =
        AlertSettings.fromConfig(testKit.system().settings().config().getConfig("keel.alerts"));
  }

  @AfterAll
  void stopSystem() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void newRule() {
    starter = new RecordingStarter();
    id = "lagging-" + ids.incrementAndGet();
    kit =
        EventSourcedBehaviorTestKit.create(
            testKit.system(),
            AlertRule.create(id, starter, starter, new ManualClock(T0), settings),
            EventSourcedBehaviorTestKit.enabledSerializationSettings());
  }

  private static AlertRepair repair() throws Exception {
    return new AlertRepair(
        "restart-pipeline",
        JSON.readTree(
            "{\"pipeline\":\"${service}\",\"lag\":\"${metrics.lag}\",\"missing\":\"${metrics.x}\","
                + "\"why\":\"${alert} #${firing}: ${status}\",\"all\":\"${metrics}\",\"keep\":3}"));
  }

  private void put(AlertDefinition def) {
    StatusReply<PutResult> reply =
        kit.<StatusReply<PutResult>>runCommand(r -> new AlertRule.Put(def, null, r)).reply();
    assertThat(reply.isSuccess()).as(String.valueOf(reply)).isTrue();
  }

  private void fire() {
    kit.runCommand(
        new Observe(
            new ServiceObservation(
                "ingest-1", "t-1", "processor", "degraded", Map.of("lag", 42.0), T0)));
  }

  private FiringView firingWhen(Predicate<FiringView> until) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    FiringView last = null;
    while (System.nanoTime() < deadline) {
      AlertView v =
          kit.<StatusReply<AlertView>>runCommand(r -> new Get(null, r)).reply().getValue();
      last = v.firings().isEmpty() ? null : v.firings().get(0);
      if (last != null && until.test(last)) return last;
      Thread.sleep(20);
    }
    throw new AssertionError("the firing never got there: " + last);
  }

  @Test
  void aFiringStartsItsRepairOnceFollowsItAndShowsItsState() throws Exception {
    put(new AlertDefinition("ingest-1", "status != healthy", null, 300, "t-1", repair()));
    fire();
    FiringView started = firingWhen(f -> "started".equals(f.repair()));
    assertThat(started.repairWorkflowId()).isEqualTo(id + ":1");
    assertThat(started.delivery()).isEqualTo("none"); // no webhook: no delivery workflow
    assertThat(started.deliveryWorkflowId()).isNull();
    List<RecordingStarter.Call> calls = starter.calls();
    assertThat(calls).hasSize(1);
    RecordingStarter.Call call = calls.get(0);
    assertThat(call.workflow()).isEqualTo("restart-pipeline");
    assertThat(call.workflowId()).isEqualTo(id + ":1");
    assertThat(call.tenantId()).isEqualTo("t-1");
    JsonNode input = call.input();
    assertThat(input.get("pipeline").asText()).isEqualTo("ingest-1");
    assertThat(input.get("lag").isNumber()).isTrue();
    assertThat(input.get("lag").asDouble()).isEqualTo(42.0);
    assertThat(input.get("missing").isNull()).isTrue();
    assertThat(input.get("why").asText()).isEqualTo(id + " #1: degraded");
    assertThat(input.get("all").get("lag").asDouble()).isEqualTo(42.0);
    assertThat(input.get("keep").asInt()).isEqualTo(3);

    starter.end(id + ":1", "completed", null);
    assertThat(firingWhen(f -> "completed".equals(f.repair())).repairWorkflowId())
        .isEqualTo(id + ":1");
    // The events say so for good: the state after a recovery is the same.
    kit.restart();
    assertThat(firingWhen(f -> true).repair()).isEqualTo("completed");
    assertThat(starter.calls()).hasSize(1);
  }

  @Test
  void aStartNotAcknowledgedIsRetriedAfterRecoveryAndAWebhookIsDeliveredBesides() throws Exception {
    put(
        new AlertDefinition(
            "ingest-1", "status != healthy", AlertRuleTest.WEBHOOK, 300, null, repair()));
    starter.unavailable("the workflow side is down");
    fire();
    assertThat(
            kit.getState() instanceof AlertRule.Active a
                && a.recentFirings().get(0).repairWorkflowId().equals(id + ":1"))
        .isTrue();
    starter.unavailable(null);
    kit.restart();
    FiringView f = firingWhen(x -> "started".equals(x.repair()) && "started".equals(x.delivery()));
    assertThat(f.deliveryWorkflowId()).isEqualTo(DeliveryWorkflowInput.workflowId(id, 1));
    assertThat(starter.startedIds()).contains(id + ":1", DeliveryWorkflowInput.workflowId(id, 1));
    starter.end(id + ":1", "failed", "pipeline would not restart");
    assertThat(firingWhen(x -> "failed".equals(x.repair())).repair()).isEqualTo("failed");
  }

  @Test
  void aStartRefusedForGoodIsAbandoned() throws Exception {
    put(new AlertDefinition("ingest-1", "status != healthy", null, 300, null, repair()));
    starter.takenByAnother(id + ":1");
    fire();
    assertThat(firingWhen(f -> "abandoned".equals(f.repair())).repairWorkflowId())
        .isEqualTo(id + ":1");
  }

  @Test
  void aRuleNeedsAWebhookOrARepairAndAValidRepair() throws Exception {
    assertThat(
            AlertDefinitionRules.problems(
                new AlertDefinition("ingest-1", "status != healthy", null, 0, null)))
        .extracting(p -> p.field())
        .containsExactly("webhook");
    assertThat(
            AlertDefinitionRules.problems(
                new AlertDefinition(
                    "ingest-1",
                    "status != healthy",
                    null,
                    0,
                    null,
                    new AlertRepair("Bad Name!", JSON.readTree("[1]")))))
        .extracting(p -> p.field())
        .containsExactly("repair.workflow", "repair.input");
  }

  @Test
  void aLongRuleIdStillGivesAnIdWithinTheGrammar() {
    String longId = "r".repeat(127);
    String repairId = AlertRepair.workflowId(longId, 12);
    assertThat(repairId).hasSizeLessThanOrEqualTo(128).endsWith(":12");
    assertThat(repairId).matches(dev.keel.persistence.grammar.Ids.PATTERN);
    assertThat(AlertRepair.workflowId("disk", 3)).isEqualTo("disk:3");
  }

  @Test
  void firingsJournaledBeforeRepairsReadAsWithoutOne() throws Exception {
    String old =
        "{\"firingSeq\":1,\"serviceId\":\"s\",\"status\":\"stale\",\"metrics\":{},"
            + "\"firedAt\":\"2026-03-01T07:30:00Z\",\"deliveryWorkflowId\":\"alert.x.1\"}";
    AlertFired e = JSON.findAndRegisterModules().readValue(old, AlertFired.class);
    assertThat(e.repairWorkflowId()).isNull();
    assertThat(JSON.writeValueAsString(e)).doesNotContain("repairWorkflowId");
  }
}
