package dev.keel.workflow.execution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import dev.keel.persistence.ManualClock;
import dev.keel.workflow.execution.ExecutionView.StepView;
import dev.keel.workflow.execution.WorkflowExecution.Command;
import dev.keel.workflow.execution.WorkflowExecution.Event;
import dev.keel.workflow.execution.WorkflowExecution.Get;
import dev.keel.workflow.execution.WorkflowExecution.Start;
import dev.keel.workflow.execution.WorkflowExecution.State;
import dev.keel.workflow.execution.WorkflowExecution.Wake;
import dev.keel.workflow.sdk.RetryPolicy;
import dev.keel.workflow.sdk.Workflow;
import dev.keel.workflow.sdk.WorkflowContext;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.serialization.jackson.JacksonObjectMapperProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The SDK's small helpers on the real engine: {@code now()} and {@code randomUuid()} return their
 * recorded values on replay, {@code run()} is a step without a result, and the node's default retry
 * policy applies to steps that name none while a step's own policy wins.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SdkHelpersTest {

  private static final Instant T0 = Instant.parse("2026-03-01T07:30:00Z");

  private ActorTestKit testKit;
  private WorkflowRunner runner;
  private ObjectMapper mapper;
  private final Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
  private final ManualClock clock = new ManualClock(T0);

  /** Records a time and an id, notifies, survives one failure by the default policy, naps. */
  final class Helpers implements Workflow<JsonNode, String> {
    public String name() {
      return "helpers";
    }

    public Class<JsonNode> inputType() {
      return JsonNode.class;
    }

    public String run(WorkflowContext ctx, JsonNode in) {
      Instant started = ctx.now();
      UUID id = ctx.randomUuid();
      ctx.run("notify", () -> ran(ctx, "notify"));
      String flaky =
          ctx.step(
              "flaky",
              String.class,
              () -> {
                if (ran(ctx, "flaky") < 2) throw new IllegalStateException("first try fails");
                return "ok";
              });
      ctx.sleep("nap", Duration.ofMinutes(5));
      return started + "|" + id + "|" + flaky;
    }
  }

  /** A step that fails once under its own policy of one attempt. */
  final class Strict implements Workflow<JsonNode, String> {
    public String name() {
      return "strict";
    }

    public Class<JsonNode> inputType() {
      return JsonNode.class;
    }

    public String run(WorkflowContext ctx, JsonNode in) {
      return ctx.step(
          "once",
          String.class,
          RetryPolicy.none(),
          () -> {
            ran(ctx, "once");
            throw new IllegalStateException("no second chance");
          });
    }
  }

  /** Whether Evolving runs its new code: a deploy of a change, in one JVM. */
  private final java.util.concurrent.atomic.AtomicBoolean newCode =
      new java.util.concurrent.atomic.AtomicBoolean();

  /** a, then (new code only) step c behind version "add-c", a nap, b. */
  final class Evolving implements Workflow<JsonNode, String> {
    public String name() {
      return "evolving";
    }

    public Class<JsonNode> inputType() {
      return JsonNode.class;
    }

    public String run(WorkflowContext ctx, JsonNode in) {
      String a = ctx.step("a", String.class, () -> "a" + ran(ctx, "a"));
      String c = "";
      if (newCode.get() && ctx.version("add-c", 1, 2) >= 2)
        c = ctx.step("c", String.class, () -> "c" + ran(ctx, "c"));
      ctx.sleep("nap", Duration.ofMinutes(5));
      String b = ctx.step("b", String.class, () -> "b" + ran(ctx, "b"));
      return a + c + b;
    }
  }

  @BeforeAll
  void startSystem() {
    testKit = ActorTestKit.create("SdkHelpersTest", WorkflowExecutionTest.CONFIG);
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

  private int ran(WorkflowContext ctx, String step) {
    return runs.computeIfAbsent(ctx.workflowId() + "/" + step, k -> new AtomicInteger())
        .incrementAndGet();
  }

  private int runsOf(String id, String step) {
    AtomicInteger n = runs.get(id + "/" + step);
    return n == null ? 0 : n.get();
  }

  private EventSourcedBehaviorTestKit<Command, Event, State> kit(String id) {
    // Two attempts with no backoff by default, as a node with
    // KEEL_WORKFLOWS_DEFAULT_RETRY_ATTEMPTS=2
    // and default-retry.initial-backoff = 0s.
    WorkflowSettings settings =
        WorkflowSettings.fromConfig(
            ConfigFactory.parseString(
                    "keel.workflows.default-retry { max-attempts = 2, initial-backoff = 0s,"
                        + " max-backoff = 0s }")
                .withFallback(testKit.system().settings().config()));
    assertThat(settings.defaultRetry().maxAttempts()).isEqualTo(2);
    WorkflowDeps deps =
        new WorkflowDeps(
            clock,
            () -> Long.MIN_VALUE,
            settings,
            new NodeWorkflowRegistry()
                .register(new Helpers())
                .register(new Strict())
                .register(new Evolving()),
            runner,
            mapper,
            testKit.system().scheduler());
    return EventSourcedBehaviorTestKit.create(
        testKit.system(),
        WorkflowExecution.create(id, deps),
        EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyEquality(true));
  }

  private static ExecutionView await(
      EventSourcedBehaviorTestKit<Command, Event, State> kit, String status) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (true) {
      ExecutionView v = kit.<StatusReply<ExecutionView>>runCommand(Get::new).reply().getValue();
      if (v.status().equals(status)) return v;
      if (System.nanoTime() > deadline)
        throw new AssertionError("no status " + status + " within 10 s: " + v);
      Thread.sleep(10);
    }
  }

  @Test
  void nowAndRandomUuidAreJournaledRunIsAStepAndTheDefaultPolicyRetries() throws Exception {
    // The tests share the clock: this one starts wherever the others left it.
    Instant start = clock.instant();
    var kit = kit("helpers-1");
    kit.<StatusReply<WorkflowExecution.StartAccepted>>runCommand(
        r -> new Start("helpers", 1, mapper.createObjectNode(), null, null, r));
    ExecutionView sleeping = await(kit, "sleeping");
    UUID recorded = UUID.fromString(sleeping.steps().get(1).output().asText());
    assertThat(recorded.version()).isEqualTo(4);

    // Five minutes on, the execution replays from the top: now() and randomUuid() answer what was
    // recorded, not the clock and the random source of this run.
    clock.set(start.plus(Duration.ofMinutes(5)));
    kit.runCommand(Wake.INSTANCE);
    ExecutionView done = await(kit, "completed");

    assertThat(done.output().asText()).isEqualTo(start + "|" + recorded + "|ok");
    assertThat(done.steps())
        .extracting(StepView::name, StepView::status, StepView::attempts)
        .containsExactly(
            tuple("now#0", "completed", 1),
            tuple("uuid#1", "completed", 1),
            tuple("notify", "completed", 1),
            tuple("flaky", "completed", 2),
            tuple("nap", "fired", 1));
    assertThat(done.steps().get(2).output().isNull()).isTrue();
    assertThat(List.of(runsOf("helpers-1", "notify"), runsOf("helpers-1", "flaky")))
        .containsExactly(1, 2);
  }

  @Test
  void anExecutionStartedOnTheOldCodeKeepsItsBranchAfterAVersionedChange() throws Exception {
    newCode.set(false);
    var old = kit("evolving-old");
    old.<StatusReply<WorkflowExecution.StartAccepted>>runCommand(
        r -> new Start("evolving", 1, mapper.createObjectNode(), null, null, r));
    await(old, "sleeping");

    newCode.set(true); // the change is deployed while "evolving-old" sleeps
    var fresh = kit("evolving-new");
    fresh.<StatusReply<WorkflowExecution.StartAccepted>>runCommand(
        r -> new Start("evolving", 1, mapper.createObjectNode(), null, null, r));
    await(fresh, "sleeping");
    clock.set(clock.instant().plus(Duration.ofMinutes(5)));
    old.runCommand(Wake.INSTANCE);
    fresh.runCommand(Wake.INSTANCE);

    ExecutionView oldDone = await(old, "completed");
    ExecutionView newDone = await(fresh, "completed");
    assertThat(oldDone.output().asText()).isEqualTo("a1b1");
    assertThat(oldDone.steps()).extracting(StepView::name).containsExactly("a", "nap", "b");
    assertThat(newDone.output().asText()).isEqualTo("a1c1b1");
    assertThat(newDone.steps())
        .extracting(StepView::name)
        .containsExactly("a", "version:add-c", "c", "nap", "b");
    assertThat(newDone.steps().get(1).output().asInt()).isEqualTo(2);
  }

  @Test
  void aStepsOwnPolicyWinsOverTheNodesDefault() throws Exception {
    var kit = kit("strict-1");
    kit.<StatusReply<WorkflowExecution.StartAccepted>>runCommand(
        r -> new Start("strict", 1, mapper.createObjectNode(), null, null, r));

    ExecutionView failed = await(kit, "failed");

    assertThat(failed.error()).contains("no second chance");
    assertThat(failed.steps().get(0).attempts()).isEqualTo(1);
    assertThat(runsOf("strict-1", "once")).isEqualTo(1);
  }
}
