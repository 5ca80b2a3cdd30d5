package dev.keel.workflow.execution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.keel.persistence.ManualClock;
import dev.keel.persistence.Rejection;
import dev.keel.workflow.execution.ExecutionView.StepView;
import dev.keel.workflow.execution.WorkflowExecution.Cancel;
import dev.keel.workflow.execution.WorkflowExecution.Command;
import dev.keel.workflow.execution.WorkflowExecution.CopiedOp;
import dev.keel.workflow.execution.WorkflowExecution.Event;
import dev.keel.workflow.execution.WorkflowExecution.Get;
import dev.keel.workflow.execution.WorkflowExecution.LinkRerun;
import dev.keel.workflow.execution.WorkflowExecution.NotStarted;
import dev.keel.workflow.execution.WorkflowExecution.PrepareRerun;
import dev.keel.workflow.execution.WorkflowExecution.RerunStarted;
import dev.keel.workflow.execution.WorkflowExecution.Retry;
import dev.keel.workflow.execution.WorkflowExecution.Start;
import dev.keel.workflow.execution.WorkflowExecution.StartAccepted;
import dev.keel.workflow.execution.WorkflowExecution.StartRerun;
import dev.keel.workflow.execution.WorkflowExecution.State;
import dev.keel.workflow.execution.WorkflowExecution.StepStarted;
import dev.keel.workflow.execution.WorkflowExecution.StepsCopied;
import dev.keel.workflow.execution.WorkflowExecution.WorkflowRetried;
import dev.keel.workflow.sdk.Workflow;
import dev.keel.workflow.sdk.WorkflowContext;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.random.RandomGenerator;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.serialization.jackson.JacksonObjectMapperProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Retry in place and rerun from a step, on the execution entity: which step bodies run again
 * (counted), what the journal says, and that the state survives a restart and an audit replay.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ExecutionRecoveryTest {

  private static final Instant T0 = Instant.parse("2026-03-01T07:30:00Z");
  private static final Duration AWAIT = Duration.ofSeconds(10);
  private static final AtomicInteger ids = new AtomicInteger();

  private ActorTestKit testKit;
  private WorkflowRunner runner;
  private WorkflowDeps deps;
  private ObjectMapper mapper;
  private final Map<String, AtomicInteger> bodyRuns = new ConcurrentHashMap<>();
  private final AtomicBoolean declineCharge = new AtomicBoolean();
  private volatile CountDownLatch gate = new CountDownLatch(1);
  private ManualClock clock;

  /** reserve, charge (declined while the flag is set, no retries), ship; one counter per body. */
  final class Order implements Workflow<JsonNode, String> {
    public String name() {
      return "order";
    }

    public Class<JsonNode> inputType() {
      return JsonNode.class;
    }

    public String run(WorkflowContext ctx, JsonNode in) throws Exception {
      String reserved = ctx.step("reserve", String.class, () -> "r" + ran(ctx, "reserve"));
      String charged =
          ctx.step(
              "charge",
              String.class,
              () -> {
                ran(ctx, "charge");
                if (in.path("gated").asBoolean()
                    && !gate.await(AWAIT.toMillis(), TimeUnit.MILLISECONDS))
                  throw new IllegalStateException("the gate never opened");
                if (declineCharge.get()) throw new IllegalStateException("card declined");
                return "c" + runsOf(ctx.workflowId(), "charge");
              });
      String shipped = ctx.step("ship", String.class, () -> "s" + ran(ctx, "ship"));
      return reserved + charged + shipped;
    }
  }

  @BeforeAll
  void startSystem() {
    testKit = ActorTestKit.create("ExecutionRecoveryTest", WorkflowExecutionTest.CONFIG);
    mapper =
        JacksonObjectMapperProvider.get(testKit.system())
            .getOrCreate("jackson-json", Optional.empty());
    runner = new WorkflowRunner(2, name -> 0);
  }

  @AfterAll
  void stopSystem() {
    runner.close();
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void fresh() {
    clock = new ManualClock(T0);
    declineCharge.set(false);
    gate = new CountDownLatch(1);
    RandomGenerator midpoint = () -> Long.MIN_VALUE;
    deps =
        new WorkflowDeps(
            clock,
            midpoint,
            WorkflowSettings.fromConfig(testKit.system().settings().config()),
            new NodeWorkflowRegistry().register(new Order()),
            runner,
            mapper,
            testKit.system().scheduler());
  }

  @AfterEach
  void openGate() {
    gate.countDown();
  }

  private int ran(WorkflowContext ctx, String step) {
    return bodyRuns
        .computeIfAbsent(ctx.workflowId() + "/" + step, k -> new AtomicInteger())
        .incrementAndGet();
  }

  private int runsOf(String id, String step) {
    AtomicInteger n = bodyRuns.get(id + "/" + step);
    return n == null ? 0 : n.get();
  }

  private EventSourcedBehaviorTestKit<Command, Event, State> kit(String id) {
    return EventSourcedBehaviorTestKit.create(
        testKit.system(),
        WorkflowExecution.create(id, deps),
        EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyEquality(true));
  }

  private static ExecutionView view(EventSourcedBehaviorTestKit<Command, Event, State> kit) {
    return kit.<StatusReply<ExecutionView>>runCommand(Get::new).reply().getValue();
  }

  private static ExecutionView await(
      EventSourcedBehaviorTestKit<Command, Event, State> kit, String status) throws Exception {
    long deadline = System.nanoTime() + AWAIT.toNanos();
    ExecutionView v = view(kit);
    while (!v.status().equals(status)) {
      if (System.nanoTime() > deadline)
        throw new AssertionError("no status " + status + " within " + AWAIT + ": " + v);
      Thread.sleep(10);
      v = view(kit);
    }
    return v;
  }

  private static List<Event> journal(
      EventSourcedBehaviorTestKit<Command, Event, State> kit, String id) {
    return kit
        .persistenceTestKit()
        .persistedInStorage(WorkflowExecution.persistenceId(id).id())
        .stream()
        .map(Event.class::cast)
        .toList();
  }

  private static void assertAuditReplayMatches(
      EventSourcedBehaviorTestKit<Command, Event, State> kit, String id) {
    State folded = new NotStarted();
    for (Event e : journal(kit, id)) folded = WorkflowExecution.apply(folded, e);
    assertThat(folded).isEqualTo(kit.getState());
  }

  private String newId() {
    return "rec-" + ids.incrementAndGet();
  }

  private void start(EventSourcedBehaviorTestKit<Command, Event, State> kit, JsonNode input) {
    StatusReply<StartAccepted> r =
        kit.<StatusReply<StartAccepted>>runCommand(
                replyTo -> new Start("order", 1, input, "acme", null, replyTo))
            .reply();
    assertThat(r.isSuccess()).as("start answered %s", r).isTrue();
  }

  @Test
  void aSnapshotTakenBeforeRerunsExistedReadsBackWithNoLineage() throws Exception {
    ExecutionData data =
        new ExecutionData(
            "old",
            "order",
            1,
            null,
            mapper.createObjectNode(),
            T0,
            T0,
            List.of(),
            Map.of(),
            false,
            null);
    com.fasterxml.jackson.databind.node.ObjectNode json =
        mapper.valueToTree(new WorkflowExecution.Running(data));
    ((com.fasterxml.jackson.databind.node.ObjectNode) json.get("data")).remove("lineage");

    WorkflowExecution.Running back = mapper.treeToValue(json, WorkflowExecution.Running.class);

    assertThat(back).isEqualTo(new WorkflowExecution.Running(data));
    assertThat(back.data().lineage()).isEqualTo(ExecutionRecovery.Lineage.NONE);
  }

  @Test
  void aRetriedFailureRunsTheFailedStepAgainButNotTheCompletedOnes() throws Exception {
    String id = newId();
    var kit = kit(id);
    declineCharge.set(true);
    start(kit, mapper.createObjectNode());
    assertThat(await(kit, "failed").error()).contains("card declined");

    declineCharge.set(false);
    clock.set(T0.plusSeconds(60));
    var retried = kit.<StatusReply<ExecutionView>>runCommand(r -> new Retry("card fixed", r));

    assertThat(retried.reply().getValue().status()).isEqualTo("running");
    // The first event is the retry's own; the relaunched attempt may already have written more.
    assertThat(retried.events())
        .first()
        .isEqualTo(new WorkflowRetried(1, "card fixed", T0.plusSeconds(60)));
    ExecutionView done = await(kit, "completed");
    assertThat(done.output()).isEqualTo(TextNode.valueOf("r1c2s1"));
    assertThat(done.completedAt()).isEqualTo(T0.plusSeconds(60));
    assertThat(done.error()).isNull();
    assertThat(List.of(runsOf(id, "reserve"), runsOf(id, "charge"), runsOf(id, "ship")))
        .containsExactly(1, 2, 1);
    // The failed step starts afresh after the retry; the one before it is not started again.
    assertThat(journal(kit, id).stream().filter(StepStarted.class::isInstance))
        .extracting(e -> ((StepStarted) e).name())
        .containsExactly("reserve", "charge", "charge", "ship");
    State before = kit.getState();
    assertThat(kit.restart().state()).isEqualTo(before);
    assertAuditReplayMatches(kit, id);
  }

  @Test
  void aRetriedCancellationRunsTheStepItCancelledAgain() throws Exception {
    String id = newId();
    var kit = kit(id);
    start(kit, mapper.createObjectNode().put("gated", true));
    long deadline = System.nanoTime() + AWAIT.toNanos();
    while (runsOf(id, "charge") == 0 && System.nanoTime() < deadline) Thread.sleep(10);
    kit.<StatusReply<ExecutionView>>runCommand(r -> new Cancel("operator", r));
    assertThat(view(kit).status()).isEqualTo("cancelled");
    gate.countDown(); // the cancelled body finishes; its result is refused

    var retried = kit.<StatusReply<ExecutionView>>runCommand(r -> new Retry(null, r));

    assertThat(retried.events()).first().isEqualTo(new WorkflowRetried(1, "retried", T0));
    ExecutionView done = await(kit, "completed");
    assertThat(done.steps())
        .extracting(StepView::name, StepView::status)
        .containsExactly(
            tuple("reserve", "completed"),
            tuple("charge", "completed"),
            tuple("ship", "completed"));
    assertThat(runsOf(id, "reserve")).isEqualTo(1);
    assertThat(runsOf(id, "charge")).isEqualTo(2);
    assertAuditReplayMatches(kit, id);
  }

  @Test
  void onlyAFailedOrCancelledExecutionCanBeRetried() throws Exception {
    String id = newId();
    var kit = kit(id);
    var unknown = kit.<StatusReply<ExecutionView>>runCommand(r -> new Retry(null, r));
    assertThat(Rejection.of(unknown.reply().getError()).map(Rejection::kind))
        .contains(Rejection.Kind.NOT_FOUND);
    start(kit, mapper.createObjectNode());
    await(kit, "completed");

    var refused = kit.<StatusReply<ExecutionView>>runCommand(r -> new Retry(null, r));

    assertThat(refused.events()).isEmpty();
    assertThat(refused.reply().getError().getMessage())
        .isEqualTo(
            "conflict: workflow '"
                + id
                + "' is completed; only a failed or cancelled execution can be retried");
  }

  @Test
  void aRerunCopiesTheStepsBeforeItsStepAndRunsTheRestLinkedBothWays() throws Exception {
    String original = newId();
    var kit = kit(original);
    start(kit, mapper.createObjectNode());
    await(kit, "completed");

    var never =
        kit.<StatusReply<ExecutionRecovery.RerunSource>>runCommand(
            r -> new PrepareRerun("refund", r));
    assertThat(never.reply().getError().getMessage())
        .isEqualTo("invalid: workflow '" + original + "' never reached a step named 'refund'");
    var source =
        kit.<StatusReply<ExecutionRecovery.RerunSource>>runCommand(r -> new PrepareRerun("ship", r))
            .reply()
            .getValue();
    assertThat(source.copied())
        .extracting(CopiedOp::seq, CopiedOp::kind, CopiedOp::name, CopiedOp::status)
        .containsExactly(
            tuple(0, RecordedCall.Kind.STEP, "reserve", RecordedCall.Status.COMPLETED),
            tuple(1, RecordedCall.Kind.STEP, "charge", RecordedCall.Status.COMPLETED));

    String rerunId = newId();
    var rerun = kit(rerunId);
    clock.set(T0.plusSeconds(5));
    var started =
        rerun.<StatusReply<StartAccepted>>runCommand(
            r ->
                new StartRerun(
                    "order",
                    1,
                    source.input(),
                    "acme",
                    original,
                    "ship",
                    source.copied(),
                    null,
                    r));
    assertThat(started.reply().getValue().created()).isTrue();
    assertThat(started.events().get(1))
        .isEqualTo(new StepsCopied(original, "ship", source.copied(), T0.plusSeconds(5)));
    ExecutionView done = await(rerun, "completed");
    assertThat(done.output()).isEqualTo(TextNode.valueOf("r1c1s1"));
    assertThat(done.rerunOf()).isEqualTo(original);
    assertThat(
            List.of(runsOf(rerunId, "reserve"), runsOf(rerunId, "charge"), runsOf(rerunId, "ship")))
        .containsExactly(0, 0, 1);
    // Asked again (a client's retry): the same execution, nothing written.
    var again =
        rerun.<StatusReply<StartAccepted>>runCommand(
            r ->
                new StartRerun(
                    "order",
                    1,
                    source.input(),
                    "acme",
                    original,
                    "ship",
                    source.copied(),
                    null,
                    r));
    assertThat(again.reply().getValue().created()).isFalse();
    assertThat(again.events()).isEmpty();

    var linked = kit.<StatusReply<Done>>runCommand(r -> new LinkRerun(rerunId, "ship", r));
    assertThat(linked.events())
        .containsExactly(new RerunStarted(rerunId, "ship", T0.plusSeconds(5)));
    assertThat(kit.<StatusReply<Done>>runCommand(r -> new LinkRerun(rerunId, "ship", r)).events())
        .isEmpty();
    assertThat(view(kit).reruns()).containsExactly(rerunId);
    assertThat(view(kit).status()).isEqualTo("completed");
    State before = rerun.getState();
    assertThat(rerun.restart().state()).isEqualTo(before);
    assertAuditReplayMatches(rerun, rerunId);
  }
}
