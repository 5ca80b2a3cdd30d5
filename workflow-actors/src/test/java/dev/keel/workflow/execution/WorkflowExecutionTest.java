package dev.keel.workflow.execution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.keel.persistence.ManualClock;
import dev.keel.persistence.Rejection;
import dev.keel.workflow.execution.ExecutionView.StepView;
import dev.keel.workflow.execution.WorkflowExecution.Cancel;
import dev.keel.workflow.execution.WorkflowExecution.Cancelled;
import dev.keel.workflow.execution.WorkflowExecution.Command;
import dev.keel.workflow.execution.WorkflowExecution.Completed;
import dev.keel.workflow.execution.WorkflowExecution.Event;
import dev.keel.workflow.execution.WorkflowExecution.Failed;
import dev.keel.workflow.execution.WorkflowExecution.Get;
import dev.keel.workflow.execution.WorkflowExecution.NotStarted;
import dev.keel.workflow.execution.WorkflowExecution.Pause;
import dev.keel.workflow.execution.WorkflowExecution.Resume;
import dev.keel.workflow.execution.WorkflowExecution.Running;
import dev.keel.workflow.execution.WorkflowExecution.SendSignal;
import dev.keel.workflow.execution.WorkflowExecution.SignalAwaited;
import dev.keel.workflow.execution.WorkflowExecution.SignalConsumed;
import dev.keel.workflow.execution.WorkflowExecution.SignalReceived;
import dev.keel.workflow.execution.WorkflowExecution.SignalTimedOut;
import dev.keel.workflow.execution.WorkflowExecution.Start;
import dev.keel.workflow.execution.WorkflowExecution.StartAccepted;
import dev.keel.workflow.execution.WorkflowExecution.State;
import dev.keel.workflow.execution.WorkflowExecution.StepCompleted;
import dev.keel.workflow.execution.WorkflowExecution.StepFailed;
import dev.keel.workflow.execution.WorkflowExecution.StepStarted;
import dev.keel.workflow.execution.WorkflowExecution.TimerFired;
import dev.keel.workflow.execution.WorkflowExecution.TimerStarted;
import dev.keel.workflow.execution.WorkflowExecution.Wake;
import dev.keel.workflow.execution.WorkflowExecution.WorkflowCancelled;
import dev.keel.workflow.execution.WorkflowExecution.WorkflowCompleted;
import dev.keel.workflow.execution.WorkflowExecution.WorkflowFailed;
import dev.keel.workflow.execution.WorkflowExecution.WorkflowPaused;
import dev.keel.workflow.execution.WorkflowExecution.WorkflowResumed;
import dev.keel.workflow.execution.WorkflowExecution.WorkflowStarted;
import dev.keel.workflow.sdk.RetryPolicy;
import dev.keel.workflow.sdk.SignalTimeoutException;
import dev.keel.workflow.sdk.Workflow;
import dev.keel.workflow.sdk.WorkflowContext;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.random.RandomGenerator;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.JournalOperation;
import org.apache.pekko.persistence.testkit.PersistenceTestKitSnapshotPlugin;
import org.apache.pekko.persistence.testkit.ProcessingPolicy;
import org.apache.pekko.persistence.testkit.ProcessingResult;
import org.apache.pekko.persistence.testkit.ProcessingSuccess;
import org.apache.pekko.persistence.testkit.WriteEvents;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.CommandResultWithReply;
import org.apache.pekko.serialization.jackson.JacksonObjectMapperProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The execution entity with real attempts on a real {@link WorkflowRunner}: the test drives time
 * with a manual clock and {@link Wake}, and waits for what attempts do on their own by polling
 * {@link Get}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WorkflowExecutionTest {

  /** The test kit's in-memory journal first, else the JDBC journal wins (STACK.md, pitfall 9). */
  static final Config CONFIG =
      EventSourcedBehaviorTestKit.config()
          .withFallback(PersistenceTestKitSnapshotPlugin.config())
          .withFallback(ConfigFactory.parseResources("execution-test.conf"))
          .withFallback(ConfigFactory.load())
          .resolve();

  private static final Instant T0 = Instant.parse("2026-03-01T07:30:00Z");
  private static final String TENANT = "acme";
  private static final Duration AWAIT = Duration.ofSeconds(10);

  /**
   * {@code nextDouble()} is exactly 0.5, where the jitter spreads a backoff by nothing: backoffs
   * are exact.
   */
  private static final RandomGenerator MIDPOINT = () -> Long.MIN_VALUE;

  /**
   * 3 attempts, 5 ms then 10 ms apart; the jitter is there to prove the fixed random cancels it.
   */
  private static final RetryPolicy QUICK_RETRY =
      new RetryPolicy(3, Duration.ofMillis(5), Duration.ofMillis(50), 2.0, 0.2, List.of());

  private static final AtomicInteger ids = new AtomicInteger();

  private ActorTestKit testKit;
  private WorkflowSettings settings;
  private NodeWorkflowRegistry registry;
  private WorkflowRunner runner;
  private io.micrometer.core.instrument.simple.SimpleMeterRegistry meters;
  private ObjectMapper mapper;

  /** Step body runs by {@code <workflowId>/<step>}: what "ran exactly once" is measured with. */
  private final Map<String, AtomicInteger> bodyRuns = new ConcurrentHashMap<>();

  private final AtomicBoolean diverge = new AtomicBoolean();
  private volatile CountDownLatch gateEntered = new CountDownLatch(1);
  private volatile CountDownLatch gate = new CountDownLatch(1);

  private ManualClock clock;
  private String id;
  private EventSourcedBehaviorTestKit<Command, Event, State> kit;

  @BeforeAll
  void startSystem() {
    testKit = ActorTestKit.create("WorkflowExecutionTest", CONFIG);
    settings = WorkflowSettings.fromConfig(testKit.system().settings().config());
    mapper =
        JacksonObjectMapperProvider.get(testKit.system())
            .getOrCreate("jackson-json", Optional.empty());
    runner = new WorkflowRunner(4, name -> 0);
    registry =
        new NodeWorkflowRegistry()
            .register(new ThreeSteps())
            .register(new Flaky())
            .register(new Nap())
            .register(new Approval())
            .register(new Gated())
            .register(new Diverging())
            .register(new Oversleeper());
  }

  @AfterAll
  void stopSystem() {
    runner.close();
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void newExecution() {
    clock = new ManualClock(T0);
    id = "wf-" + ids.incrementAndGet();
    diverge.set(false);
    gateEntered = new CountDownLatch(1);
    gate = new CountDownLatch(1);
    meters = new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
    WorkflowDeps deps =
        new WorkflowDeps(
            clock,
            MIDPOINT,
            settings,
            registry,
            runner,
            mapper,
            testKit.system().scheduler(),
            new WorkflowMetrics(meters));
    // Round-trip equality is not verified: Jackson reads a null JsonNode field back as NullNode, so
    // Op.output == null (and ExecutionView.output) come back unequal though they mean the same.
    kit =
        EventSourcedBehaviorTestKit.create(
            testKit.system(),
            WorkflowExecution.create(id, deps),
            EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyEquality(true));
  }

  @AfterEach
  void openGates() {
    gate.countDown(); // never leave a runner thread parked in a step body
  }

  // ---------------------------------------------------------------- test workflows

  public record Numbers(int start) {}

  public record Result(int value) {}

  public record Charge(int failures) {}

  public record ApprovalRequest(boolean napFirst, int timeoutMinutes) {}

  public record Approver(String by) {}

  /** (start + 1) * 2 + 3, one step per operation. */
  final class ThreeSteps implements Workflow<Numbers, Result> {
    public String name() {
      return "three-steps";
    }

    public Class<Numbers> inputType() {
      return Numbers.class;
    }

    public Result run(WorkflowContext ctx, Numbers in) {
      int a =
          ctx.step(
              "add-one",
              Integer.class,
              () -> {
                ran(ctx, "add-one");
                return in.start() + 1;
              });
      int b =
          ctx.step(
              "double",
              Integer.class,
              () -> {
                ran(ctx, "double");
                return a * 2;
              });
      int c =
          ctx.step(
              "add-three",
              Integer.class,
              () -> {
                ran(ctx, "add-three");
                return b + 3;
              });
      return new Result(c);
    }
  }

  /** One step that fails its first {@code failures} runs. */
  final class Flaky implements Workflow<Charge, String> {
    public String name() {
      return "flaky";
    }

    public Class<Charge> inputType() {
      return Charge.class;
    }

    public String run(WorkflowContext ctx, Charge in) {
      return ctx.step(
          "charge",
          String.class,
          QUICK_RETRY,
          () -> {
            int n = ran(ctx, "charge");
            if (n <= in.failures())
              throw new IllegalStateException("card declined (attempt " + n + ")");
            return "charged";
          });
    }
  }

  final class Nap implements Workflow<JsonNode, String> {
    public String name() {
      return "nap";
    }

    public Class<JsonNode> inputType() {
      return JsonNode.class;
    }

    public String run(WorkflowContext ctx, JsonNode in) {
      ctx.step("before", String.class, () -> String.valueOf(ran(ctx, "before")));
      ctx.sleep("nap", Duration.ofHours(1));
      ctx.step("after", String.class, () -> String.valueOf(ran(ctx, "after")));
      return "rested";
    }
  }

  /**
   * Prepares, optionally naps an hour, then waits for "approve"; a timeout is caught and reported.
   */
  final class Approval implements Workflow<ApprovalRequest, String> {
    public String name() {
      return "approval";
    }

    public Class<ApprovalRequest> inputType() {
      return ApprovalRequest.class;
    }

    public String run(WorkflowContext ctx, ApprovalRequest in) {
      String prepared =
          ctx.step(
              "prepare",
              String.class,
              () -> {
                ran(ctx, "prepare");
                return "prepared";
              });
      if (in.napFirst()) ctx.sleep("nap", Duration.ofHours(1));
      try {
        Approver approver =
            ctx.awaitSignal("approve", Approver.class, Duration.ofMinutes(in.timeoutMinutes()));
        return ctx.step(
            "finish",
            String.class,
            () -> {
              ran(ctx, "finish");
              return prepared + ", approved by " + approver.by();
            });
      } catch (SignalTimeoutException e) {
        return "gave up: " + e.getMessage();
      }
    }
  }

  /** Three steps; the first holds until the test opens the gate. */
  final class Gated implements Workflow<JsonNode, String> {
    public String name() {
      return "gated";
    }

    public Class<JsonNode> inputType() {
      return JsonNode.class;
    }

    public String run(WorkflowContext ctx, JsonNode in) {
      ctx.step(
          "first",
          String.class,
          () -> {
            ran(ctx, "first");
            gateEntered.countDown();
            if (!gate.await(AWAIT.toMillis(), TimeUnit.MILLISECONDS))
              throw new IllegalStateException("the gate never opened");
            return "one";
          });
      ctx.step("second", String.class, () -> String.valueOf(ran(ctx, "second")));
      ctx.step("third", String.class, () -> String.valueOf(ran(ctx, "third")));
      return "done";
    }
  }

  /** Breaks the determinism rule: reads a flag outside any step to choose which step to call. */
  final class Diverging implements Workflow<JsonNode, String> {
    public String name() {
      return "diverging";
    }

    public Class<JsonNode> inputType() {
      return JsonNode.class;
    }

    public String run(WorkflowContext ctx, JsonNode in) {
      if (diverge.get())
        ctx.step(
            "second-thoughts", String.class, () -> String.valueOf(ran(ctx, "second-thoughts")));
      else
        ctx.step("first-thoughts", String.class, () -> String.valueOf(ran(ctx, "first-thoughts")));
      ctx.sleep("nap", Duration.ofHours(1));
      return "consistent";
    }
  }

  /** Sleeps longer than any timer may last: its deadline would overflow a long of milliseconds. */
  final class Oversleeper implements Workflow<JsonNode, String> {
    public String name() {
      return "oversleeper";
    }

    public Class<JsonNode> inputType() {
      return JsonNode.class;
    }

    public String run(WorkflowContext ctx, JsonNode in) {
      ctx.sleep("forever", Duration.ofSeconds(Long.MAX_VALUE));
      return "woke";
    }
  }

  private int ran(WorkflowContext ctx, String step) {
    return bodyRuns
        .computeIfAbsent(ctx.workflowId() + "/" + step, k -> new AtomicInteger())
        .incrementAndGet();
  }

  private int runs(String step) {
    AtomicInteger n = bodyRuns.get(id + "/" + step);
    return n == null ? 0 : n.get();
  }

  // ---------------------------------------------------------------- helpers

  private JsonNode json(Object value) {
    return mapper.valueToTree(value);
  }

  private JsonNode noInput() {
    return mapper.createObjectNode();
  }

  private CommandResultWithReply<Command, Event, State, StatusReply<StartAccepted>> start(
      String workflow, JsonNode input) {
    return kit.runCommand(replyTo -> new Start(workflow, 1, input, TENANT, null, replyTo));
  }

  private ExecutionView view() {
    StatusReply<ExecutionView> reply = kit.<StatusReply<ExecutionView>>runCommand(Get::new).reply();
    assertThat(reply.isSuccess()).as("Get answered %s", reply).isTrue();
    return reply.getValue();
  }

  private CommandResultWithReply<Command, Event, State, StatusReply<Done>> signal(
      String name, JsonNode payload) {
    return kit.runCommand(replyTo -> new SendSignal(name, payload, replyTo));
  }

  private void wake() {
    kit.runCommand(Wake.INSTANCE);
  }

  private ExecutionView awaitStatus(String status) {
    return awaitView("status " + status, v -> v.status().equals(status));
  }

  /** Polls the entity until {@code condition} holds; fails at once if the execution ends first. */
  private ExecutionView awaitView(String what, Predicate<ExecutionView> condition) {
    long deadline = System.nanoTime() + AWAIT.toNanos();
    ExecutionView v = view();
    while (!condition.test(v)) {
      if (v.isFinal()) throw new AssertionError("the execution ended before " + what + ": " + v);
      if (System.nanoTime() > deadline)
        throw new AssertionError("no " + what + " within " + AWAIT + "; last view: " + v);
      pause();
      v = view();
    }
    return v;
  }

  /** Every attempt handed to the runner has returned: nothing more happens until the test acts. */
  private void awaitRunnerIdle() {
    long deadline = System.nanoTime() + AWAIT.toNanos();
    while (runner.runningCount() > 0 || runner.queuedCount() > 0) {
      if (System.nanoTime() > deadline)
        throw new AssertionError("the runner is still busy after " + AWAIT);
      pause();
    }
  }

  private static void pause() {
    try {
      Thread.sleep(10);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  private List<Event> journal() {
    return kit
        .persistenceTestKit()
        .persistedInStorage(WorkflowExecution.persistenceId(id).id())
        .stream()
        .map(Event.class::cast)
        .toList();
  }

  private <E extends Event> List<E> journal(Class<E> type) {
    return journal().stream().filter(type::isInstance).map(type::cast).toList();
  }

  private static StepView step(ExecutionView view, String name) {
    return view.steps().stream()
        .filter(s -> s.name().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no step '" + name + "' in " + view));
  }

  private static boolean retrying(ExecutionView v, int failedAttempts) {
    return !v.steps().isEmpty()
        && v.steps().get(0).status().equals("retrying")
        && v.steps().get(0).attempts() == failedAttempts;
  }

  /**
   * The audit path: folding the journal with the pure event handler gives the entity's own state.
   */
  private void assertAuditReplayMatchesEntity() {
    State folded = new NotStarted();
    for (Event e : journal()) folded = WorkflowExecution.apply(folded, e);
    assertThat(folded).isEqualTo(kit.getState());
  }

  private static void assertConflict(StatusReply<?> reply, String detail) {
    assertThat(reply.isError()).as("reply %s", reply).isTrue();
    assertThat(reply.getError().getMessage()).isEqualTo("conflict: " + detail);
    assertThat(Rejection.of(reply.getError()).map(Rejection::kind))
        .contains(Rejection.Kind.CONFLICT);
  }

  // ---------------------------------------------------------------- start, complete, idempotence

  @Test
  void runsEveryStepOnceAndCompletesWithTheOutput() {
    JsonNode input = json(new Numbers(1));

    var started = start("three-steps", input);

    StartAccepted accepted = started.reply().getValue();
    assertThat(accepted.created()).isTrue();
    assertThat(accepted.execution())
        .extracting(
            ExecutionView::id,
            ExecutionView::workflow,
            ExecutionView::version,
            ExecutionView::tenantId,
            ExecutionView::status,
            ExecutionView::input,
            ExecutionView::createdAt)
        .containsExactly(id, "three-steps", 1, TENANT, "running", input, T0);
    assertThat(started.events())
        .first()
        .isEqualTo(new WorkflowStarted(id, "three-steps", 1, TENANT, input, T0));

    ExecutionView done = awaitStatus("completed");

    JsonNode output = json(new Result(7));
    assertThat(done.output()).isEqualTo(output);
    assertThat(done.error()).isNull();
    assertThat(done.completedAt()).isEqualTo(T0);
    assertThat(done.steps())
        .extracting(
            StepView::name, StepView::kind, StepView::status, StepView::attempts, StepView::output)
        .containsExactly(
            tuple("add-one", "step", "completed", 1, IntNode.valueOf(2)),
            tuple("double", "step", "completed", 1, IntNode.valueOf(4)),
            tuple("add-three", "step", "completed", 1, IntNode.valueOf(7)));
    assertThat(List.of(runs("add-one"), runs("double"), runs("add-three")))
        .containsExactly(1, 1, 1);
    assertThat(journal())
        .containsExactly(
            new WorkflowStarted(id, "three-steps", 1, TENANT, input, T0),
            new StepStarted(0, "add-one", 1, T0),
            new StepCompleted(0, "add-one", IntNode.valueOf(2), T0),
            new StepStarted(1, "double", 1, T0),
            new StepCompleted(1, "double", IntNode.valueOf(4), T0),
            new StepStarted(2, "add-three", 1, T0),
            new StepCompleted(2, "add-three", IntNode.valueOf(7), T0),
            new WorkflowCompleted(output, T0));
    assertThat(kit.getState()).isInstanceOf(Completed.class);
    assertAuditReplayMatchesEntity();
  }

  @Test
  void aQuickStepIsJournaledWithItsStartInOneWriteAndTheLastOneWithTheCompletion() {
    List<List<String>> writes = new java.util.concurrent.CopyOnWriteArrayList<>();
    kit.persistenceTestKit()
        .withPolicy(
            new ProcessingPolicy<JournalOperation>() {
              @Override
              public ProcessingResult tryProcess(String persistenceId, JournalOperation op) {
                if (op instanceof WriteEvents w) {
                  writes.add(
                      w.getBatch().stream()
                          .map(
                              e ->
                                  e instanceof org.apache.pekko.persistence.journal.Tagged t
                                      ? t.payload()
                                      : e)
                          .map(e -> e.getClass().getSimpleName())
                          .toList());
                }
                return ProcessingSuccess.getInstance();
              }
            });
    try {
      start("three-steps", json(new Numbers(1)));

      awaitStatus("completed");

      // Four writes, each waiting for the journal, where a start announced before its body made
      // five: a body's result is durable before the next body runs, and a step's start rides with
      // its result.
      assertThat(writes)
          .containsExactly(
              List.of("WorkflowStarted"),
              List.of("StepStarted", "StepCompleted"),
              List.of("StepStarted", "StepCompleted"),
              List.of("StepStarted", "StepCompleted", "WorkflowCompleted"));
      assertThat(List.of(runs("add-one"), runs("double"), runs("add-three")))
          .containsExactly(1, 1, 1);
    } finally {
      kit.persistenceTestKit().resetPolicy();
    }
  }

  @Test
  void aBodyThatRunsLongShowsRunningAndItsStartIsJournaledOnce() throws InterruptedException {
    start("gated", noInput());
    assertThat(gateEntered.await(AWAIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();

    // Past StepStartNotes' quarter of a second, the start is journaled while the body still runs.
    ExecutionView running =
        awaitView(
            "the first step shown running",
            v -> !v.steps().isEmpty() && v.steps().get(0).status().equals("running"));

    assertThat(step(running, "first").attempts()).isEqualTo(1);
    assertThat(journal(StepStarted.class)).containsExactly(new StepStarted(0, "first", 1, T0));
    gate.countDown();
    ExecutionView done = awaitStatus("completed");
    assertThat(done.steps())
        .extracting(StepView::name, StepView::status, StepView::attempts)
        .containsExactly(
            tuple("first", "completed", 1),
            tuple("second", "completed", 1),
            tuple("third", "completed", 1));
    assertThat(journal(StepStarted.class))
        .extracting(StepStarted::name)
        .containsExactly("first", "second", "third");
    assertAuditReplayMatchesEntity();
  }

  @Test
  void cancellingWhileABodyRunsStartsNoFurtherBodyAndRecordsNoResult() throws InterruptedException {
    start("gated", noInput());
    assertThat(gateEntered.await(AWAIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();

    var cancelled = kit.<StatusReply<ExecutionView>>runCommand(r -> new Cancel("stop", r));

    assertThat(cancelled.reply().getValue().status()).isEqualTo("cancelled");
    gate.countDown();
    awaitRunnerIdle();
    assertThat(List.of(runs("first"), runs("second"), runs("third"))).containsExactly(1, 0, 0);
    assertThat(journal(StepCompleted.class)).isEmpty();
    assertAuditReplayMatchesEntity();
  }

  @Test
  void aTimerTooLongFailsTheExecutionWithAMessageThatNamesTheCallAndNoJavaClass() {
    start("oversleeper", noInput());

    ExecutionView failed = awaitStatus("failed");

    // Was "ArithmeticException: long overflow", from the deadline's arithmetic.
    assertThat(failed.error()).isEqualTo("sleep 'forever' must be at most 3650 days (P3650D)");
    assertThat(journal()).noneMatch(e -> e instanceof TimerStarted);
  }

  @Test
  void startingAgainIsIdempotentAndOtherInputIsAConflict() {
    JsonNode input = json(new Numbers(1));
    start("three-steps", input);
    ExecutionView done = awaitStatus("completed");
    clock.advance(Duration.ofMinutes(5));

    var again = start("three-steps", input);
    assertThat(again.reply()).isEqualTo(StatusReply.success(new StartAccepted(false, done)));
    assertThat(again.hasNoEvents()).isTrue();

    var otherInput = start("three-steps", json(new Numbers(2)));
    assertConflict(
        otherInput.reply(),
        "workflow id '"
            + id
            + "' is already used by an execution of 'three-steps' with other input");
    assertThat(otherInput.hasNoEvents()).isTrue();

    var otherWorkflow = start("nap", input);
    assertThat(otherWorkflow.reply().getError().getMessage()).startsWith("conflict: ");
    assertThat(otherWorkflow.hasNoEvents()).isTrue();

    var otherTenant =
        kit.<StatusReply<StartAccepted>>runCommand(
            r -> new Start("three-steps", 1, input, "globex", null, r));
    assertThat(otherTenant.reply().getError().getMessage()).startsWith("conflict: ");
    assertThat(otherTenant.hasNoEvents()).isTrue();

    assertThat(List.of(runs("add-one"), runs("double"), runs("add-three")))
        .containsExactly(1, 1, 1);
    assertThat(view()).isEqualTo(done);
  }

  @Test
  void recoveryAfterCompletionRebuildsTheStateWithoutRunningAnyStep() {
    start("three-steps", json(new Numbers(1)));
    ExecutionView done = awaitStatus("completed");
    State before = kit.getState();

    State recovered = kit.restart().state();

    assertThat(recovered).isEqualTo(before).isInstanceOf(Completed.class);
    assertThat(view()).isEqualTo(done);
    awaitRunnerIdle();
    assertThat(List.of(runs("add-one"), runs("double"), runs("add-three")))
        .containsExactly(1, 1, 1);
    assertThat(journal()).hasSize(8);
  }

  // ---------------------------------------------------------------- retries

  @Test
  void aFailingStepIsRetriedAtItsJournaledTimeAndThenSucceeds() {
    start("flaky", json(new Charge(2)));

    ExecutionView firstRetry = awaitView("a first retry", v -> retrying(v, 1));
    assertThat(firstRetry.status()).isEqualTo("running");
    assertThat(firstRetry.steps().get(0).dueAt()).isEqualTo(T0.plusMillis(5));
    assertThat(firstRetry.steps().get(0).error())
        .isEqualTo("IllegalStateException: card declined (attempt 1)");
    // Not due on the execution's clock: waking it changes nothing.
    assertThat(kit.runCommand(Wake.INSTANCE).hasNoEvents()).isTrue();
    assertThat(runs("charge")).isEqualTo(1);

    Instant t1 = T0.plusSeconds(1);
    clock.set(t1);
    wake();
    awaitView("a second retry", v -> retrying(v, 2));
    Instant t2 = T0.plusSeconds(2);
    clock.set(t2);
    wake();
    ExecutionView done = awaitStatus("completed");

    assertThat(done.output()).isEqualTo(TextNode.valueOf("charged"));
    assertThat(meters.get("keel.workflows.step.retries").counter().count()).isEqualTo(2.0);
    assertThat(meters.get("keel.workflows.completed").counter().count()).isEqualTo(1.0);
    assertThat(done.steps())
        .extracting(
            StepView::name,
            StepView::status,
            StepView::attempts,
            StepView::output,
            StepView::error,
            StepView::dueAt)
        .containsExactly(tuple("charge", "completed", 3, TextNode.valueOf("charged"), null, null));
    assertThat(journal(StepFailed.class))
        .containsExactly(
            new StepFailed(
                0,
                "charge",
                1,
                "IllegalStateException: card declined (attempt 1)",
                T0.plusMillis(5),
                T0),
            new StepFailed(
                0,
                "charge",
                2,
                "IllegalStateException: card declined (attempt 2)",
                t1.plusMillis(10),
                t1));
    assertThat(journal(StepStarted.class))
        .containsExactly(
            new StepStarted(0, "charge", 1, T0),
            new StepStarted(0, "charge", 2, t1),
            new StepStarted(0, "charge", 3, t2));
    assertThat(journal()).last().isEqualTo(new WorkflowCompleted(TextNode.valueOf("charged"), t2));
    assertThat(runs("charge")).isEqualTo(3);
    assertAuditReplayMatchesEntity();
  }

  @Test
  void aStepOutOfRetriesFailsTheWorkflowWithItsError() {
    start("flaky", json(new Charge(5)));
    awaitView("a first retry", v -> retrying(v, 1));
    Instant t1 = T0.plusSeconds(1);
    clock.set(t1);
    wake();
    awaitView("a second retry", v -> retrying(v, 2));
    Instant t2 = T0.plusSeconds(2);
    clock.set(t2);
    wake();

    ExecutionView failed = awaitStatus("failed");

    String stepError = "IllegalStateException: card declined (attempt 3)";
    String error = "step 'charge' failed: " + stepError;
    assertThat(failed.error()).isEqualTo(error);
    assertThat(failed.output().isNull()).as("JSON null output").isTrue();
    assertThat(failed.completedAt()).isEqualTo(t2);
    assertThat(failed.steps())
        .extracting(
            StepView::name,
            StepView::status,
            StepView::attempts,
            StepView::error,
            StepView::completedAt,
            StepView::dueAt)
        .containsExactly(tuple("charge", "failed", 3, stepError, t2, null));
    assertThat(journal(StepFailed.class))
        .last()
        .isEqualTo(new StepFailed(0, "charge", 3, stepError, null, t2));
    assertThat(journal()).last().isEqualTo(new WorkflowFailed(error, t2));
    assertThat(runs("charge")).isEqualTo(3);

    State before = kit.getState();
    assertThat(kit.restart().state()).isEqualTo(before).isInstanceOf(Failed.class);
    awaitRunnerIdle();
    assertThat(runs("charge")).isEqualTo(3);
    assertAuditReplayMatchesEntity();
  }

  // ---------------------------------------------------------------- durable timers

  @Test
  void aSleepParksTheExecutionUntilItsTimerIsDue() {
    start("nap", noInput());

    ExecutionView sleeping = awaitStatus("sleeping");

    Instant due = T0.plus(Duration.ofHours(1));
    assertThat(step(sleeping, "nap"))
        .extracting(StepView::kind, StepView::status, StepView::dueAt)
        .containsExactly("sleep", "sleeping", due);
    assertThat(journal()).contains(new TimerStarted(1, "nap", due, T0));
    assertThat(kit.runCommand(Wake.INSTANCE).hasNoEvents()).isTrue();

    // A recovery while parked keeps the timer and runs no step again.
    State parked = kit.getState();
    assertThat(kit.restart().state()).isEqualTo(parked);
    assertThat(view().status()).isEqualTo("sleeping");

    clock.set(due);
    wake();
    ExecutionView done = awaitStatus("completed");

    assertThat(done.output()).isEqualTo(TextNode.valueOf("rested"));
    assertThat(step(done, "nap"))
        .extracting(StepView::status, StepView::completedAt, StepView::dueAt)
        .containsExactly("fired", due, null);
    assertThat(journal()).contains(new TimerFired(1, "nap", due));
    assertThat(List.of(runs("before"), runs("after"))).containsExactly(1, 1);
    assertAuditReplayMatchesEntity();
  }

  @Test
  void cancellingASleepingExecutionRunsNoMoreSteps() {
    start("nap", noInput());
    awaitStatus("sleeping");
    Instant t = T0.plusSeconds(30);
    clock.set(t);

    var cancelled =
        kit.<StatusReply<ExecutionView>>runCommand(r -> new Cancel("no longer needed", r));

    assertThat(cancelled.reply().getValue())
        .extracting(ExecutionView::status, ExecutionView::error, ExecutionView::completedAt)
        .containsExactly("cancelled", "no longer needed", t);
    assertThat(cancelled.events()).containsExactly(new WorkflowCancelled("no longer needed", t));
    assertThat(cancelled.state()).isInstanceOf(Cancelled.class);
    // The sleep it was parked on ends with it: no longer sleeping, and due at no time.
    assertThat(step(cancelled.reply().getValue(), "nap"))
        .extracting(StepView::status, StepView::completedAt, StepView::dueAt)
        .containsExactly("cancelled", t, null);
    assertThat(step(cancelled.reply().getValue(), "before").status()).isEqualTo("completed");

    clock.set(T0.plus(Duration.ofHours(2)));
    assertThat(kit.runCommand(Wake.INSTANCE).hasNoEvents()).isTrue();
    awaitRunnerIdle();
    assertThat(view().status()).isEqualTo("cancelled");
    assertThat(List.of(runs("before"), runs("after"))).containsExactly(1, 0);

    var again = kit.<StatusReply<ExecutionView>>runCommand(r -> new Cancel("twice", r));
    assertConflict(again.reply(), "workflow '" + id + "' is already cancelled");
    assertThat(again.hasNoEvents()).isTrue();

    State before = kit.getState();
    assertThat(kit.restart().state()).isEqualTo(before);
    awaitRunnerIdle();
    assertThat(runs("after")).isZero();
    assertAuditReplayMatchesEntity();
  }

  // ---------------------------------------------------------------- signals

  @Test
  void aSignalSentBeforeTheWorkflowWaitsIsKeptAndDelivered() {
    start("approval", json(new ApprovalRequest(true, 60)));
    awaitStatus("sleeping");
    JsonNode ann = json(new Approver("ann"));

    var sent = signal("approve", ann);

    assertThat(sent.reply()).isEqualTo(StatusReply.ack());
    assertThat(sent.events()).containsExactly(new SignalReceived("approve", ann, null, T0));
    assertThat(((Running) sent.state()).data().pendingSignals())
        .isEqualTo(Map.of("approve", List.of(ann)));
    ExecutionView kept = view();
    assertThat(kept.status()).isEqualTo("sleeping");
    assertThat(kept.pendingSignals()).containsExactly("approve");

    Instant due = T0.plus(Duration.ofHours(1));
    clock.set(due);
    wake();
    ExecutionView done = awaitStatus("completed");

    assertThat(done.output()).isEqualTo(TextNode.valueOf("prepared, approved by ann"));
    assertThat(done.pendingSignals()).isEmpty();
    assertThat(step(done, "approve"))
        .extracting(StepView::kind, StepView::status, StepView::output)
        .containsExactly("signal", "received", ann);
    assertThat(journal()).contains(new SignalConsumed(2, "approve", ann, due));
    assertThat(journal(SignalAwaited.class)).isEmpty();
    assertThat(List.of(runs("prepare"), runs("finish"))).containsExactly(1, 1);
    assertAuditReplayMatchesEntity();
  }

  @Test
  void aSignalSentWhileTheWorkflowWaitsIsDelivered() {
    start("approval", json(new ApprovalRequest(false, 60)));

    ExecutionView waiting = awaitStatus("waiting");

    assertThat(step(waiting, "approve"))
        .extracting(StepView::kind, StepView::status, StepView::dueAt)
        .containsExactly("signal", "waiting", T0.plus(Duration.ofMinutes(60)));
    assertThat(journal())
        .contains(new SignalAwaited(1, "approve", T0.plus(Duration.ofMinutes(60)), T0));

    Instant t = T0.plus(Duration.ofMinutes(1));
    clock.set(t);
    JsonNode bob = json(new Approver("bob"));
    var sent = signal("approve", bob);

    assertThat(sent.reply()).isEqualTo(StatusReply.ack());
    assertThat(sent.events()).first().isEqualTo(new SignalReceived("approve", bob, 1, t));
    ExecutionView done = awaitStatus("completed");
    assertThat(done.output()).isEqualTo(TextNode.valueOf("prepared, approved by bob"));
    assertThat(done.pendingSignals()).isEmpty();
    assertThat(step(done, "approve"))
        .extracting(StepView::status, StepView::output, StepView::completedAt)
        .containsExactly("received", bob, t);
    assertThat(List.of(runs("prepare"), runs("finish"))).containsExactly(1, 1);
    assertAuditReplayMatchesEntity();
  }

  @Test
  void cancellingAWaitingExecutionEndsTheWaitAsCancelled() {
    start("approval", json(new ApprovalRequest(false, 60)));
    awaitStatus("waiting");
    Instant t = T0.plusSeconds(45);
    clock.set(t);

    var cancelled = kit.<StatusReply<ExecutionView>>runCommand(r -> new Cancel("withdrawn", r));

    assertThat(cancelled.events()).containsExactly(new WorkflowCancelled("withdrawn", t));
    assertThat(step(cancelled.reply().getValue(), "approve"))
        .extracting(StepView::kind, StepView::status, StepView::completedAt, StepView::dueAt)
        .containsExactly("signal", "cancelled", t, null);
    assertThat(cancelled.reply().getValue().steps())
        .extracting(StepView::status)
        .doesNotContain("waiting", "sleeping");
    assertThat(kit.restart().state()).isEqualTo(cancelled.state());
    assertThat(step(view(), "approve").status()).isEqualTo("cancelled");
    assertAuditReplayMatchesEntity();
  }

  @Test
  void aSignalThatDoesNotArriveInTimeSurfacesAsSignalTimeoutException() {
    start("approval", json(new ApprovalRequest(false, 5)));
    awaitStatus("waiting");

    Instant timeout = T0.plus(Duration.ofMinutes(5));
    clock.set(timeout.minusMillis(1));
    assertThat(kit.runCommand(Wake.INSTANCE).hasNoEvents()).isTrue();
    clock.set(timeout);
    wake();
    ExecutionView done = awaitStatus("completed");

    assertThat(done.output())
        .isEqualTo(TextNode.valueOf("gave up: signal 'approve' did not arrive within PT5M"));
    assertThat(step(done, "approve"))
        .extracting(StepView::status, StepView::error, StepView::completedAt)
        .containsExactly("timed_out", "timed out", timeout);
    assertThat(journal()).contains(new SignalTimedOut(1, "approve", timeout));
    assertThat(List.of(runs("prepare"), runs("finish"))).containsExactly(1, 0);

    var late = signal("approve", json(new Approver("carol")));
    assertConflict(late.reply(), "workflow '" + id + "' is already completed");
    assertThat(late.hasNoEvents()).isTrue();
    assertAuditReplayMatchesEntity();
  }

  // ---------------------------------------------------------------- pause, resume

  @Test
  void pauseStopsAtTheNextStepBoundaryAndResumeCompletes() throws InterruptedException {
    start("gated", noInput());
    assertThat(gateEntered.await(AWAIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();

    var paused = kit.<StatusReply<ExecutionView>>runCommand(Pause::new);

    assertThat(paused.reply().getValue().status()).isEqualTo("paused");
    assertThat(paused.events()).containsExactly(new WorkflowPaused(T0));
    var pausedAgain = kit.<StatusReply<ExecutionView>>runCommand(Pause::new);
    assertThat(pausedAgain.reply().getValue().status()).isEqualTo("paused");
    assertThat(pausedAgain.hasNoEvents()).isTrue();

    // The step in flight finishes and is recorded; the next one is not begun.
    gate.countDown();
    awaitView(
        "the first step recorded",
        v -> !v.steps().isEmpty() && v.steps().get(0).status().equals("completed"));
    awaitRunnerIdle();
    wake(); // nothing is due while paused
    awaitRunnerIdle();
    ExecutionView stopped = view();
    assertThat(stopped.status()).isEqualTo("paused");
    assertThat(stopped.steps()).extracting(StepView::name).containsExactly("first");
    assertThat(List.of(runs("first"), runs("second"), runs("third"))).containsExactly(1, 0, 0);
    assertThat(journal(StepStarted.class)).extracting(StepStarted::name).containsExactly("first");

    Instant t = T0.plusSeconds(10);
    clock.set(t);
    var resumed = kit.<StatusReply<ExecutionView>>runCommand(Resume::new);

    assertThat(resumed.reply().getValue().status()).isEqualTo("running");
    assertThat(resumed.events()).first().isEqualTo(new WorkflowResumed(t));
    ExecutionView done = awaitStatus("completed");
    assertThat(done.output()).isEqualTo(TextNode.valueOf("done"));
    assertThat(List.of(runs("first"), runs("second"), runs("third"))).containsExactly(1, 1, 1);
    assertAuditReplayMatchesEntity();

    String finished = "workflow '" + id + "' is already completed";
    var pauseDone = kit.<StatusReply<ExecutionView>>runCommand(Pause::new);
    assertConflict(pauseDone.reply(), finished);
    assertThat(pauseDone.hasNoEvents()).isTrue();
    var resumeDone = kit.<StatusReply<ExecutionView>>runCommand(Resume::new);
    assertConflict(resumeDone.reply(), finished);
    assertThat(resumeDone.hasNoEvents()).isTrue();
    var cancelDone = kit.<StatusReply<ExecutionView>>runCommand(r -> new Cancel("too late", r));
    assertConflict(cancelDone.reply(), finished);
    assertThat(cancelDone.hasNoEvents()).isTrue();
  }

  // ---------------------------------------------------------------- slow journal

  @Test
  void anAttemptTheEntityDidNotAcknowledgeInTimeIsRelaunched() {
    // An entity that answers later than step-ack-timeout: its first step's write stalls.
    WorkflowSettings impatient =
        new WorkflowSettings(
            settings.maxConcurrent(),
            settings.maxConcurrentPerWorkflow(),
            settings.askTimeout(),
            Duration.ofMillis(200),
            settings.passivateAfter(),
            settings.idleTimeout(),
            settings.wakeupPollInterval(),
            settings.wakeupLookahead(),
            settings.longPollMax());
    id = "wf-" + ids.incrementAndGet();
    kit =
        EventSourcedBehaviorTestKit.create(
            testKit.system(),
            WorkflowExecution.create(
                id,
                new WorkflowDeps(
                    clock,
                    MIDPOINT,
                    impatient,
                    registry,
                    runner,
                    mapper,
                    testKit.system().scheduler())),
            EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyEquality(true));
    AtomicBoolean stallOnce = new AtomicBoolean(true);
    kit.persistenceTestKit()
        .withPolicy(
            new ProcessingPolicy<JournalOperation>() {
              @Override
              public ProcessingResult tryProcess(String persistenceId, JournalOperation op) {
                boolean stepStarted =
                    op instanceof WriteEvents w
                        && w.getBatch().stream().anyMatch(StepStarted.class::isInstance);
                if (stepStarted && stallOnce.getAndSet(false)) {
                  try {
                    Thread.sleep(600);
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                }
                return ProcessingSuccess.getInstance();
              }
            });
    try {
      start("three-steps", json(new Numbers(1)));

      ExecutionView done = awaitStatus("completed");

      assertThat(done.output()).isEqualTo(json(new Result(7)));
      // The abandoned attempt's result was journaled late; the relaunch replays it, and each body
      // ran once.
      assertThat(List.of(runs("add-one"), runs("double"), runs("add-three")))
          .containsExactly(1, 1, 1);
      assertAuditReplayMatchesEntity();
    } finally {
      kit.persistenceTestKit().resetPolicy();
    }
  }

  // ---------------------------------------------------------------- determinism

  @Test
  void codeThatDivergesOnReplayFailsTheExecution() {
    start("diverging", noInput());
    awaitStatus("sleeping");

    diverge.set(true);
    Instant due = T0.plus(Duration.ofHours(1));
    clock.set(due);
    wake();
    ExecutionView failed = awaitStatus("failed");

    assertThat(failed.error())
        .startsWith("replay diverged at position 0")
        .contains("'first-thoughts'")
        .contains("'second-thoughts'");
    assertThat(journal()).last().isEqualTo(new WorkflowFailed(failed.error(), due));
    assertThat(List.of(runs("first-thoughts"), runs("second-thoughts"))).containsExactly(1, 0);
    assertAuditReplayMatchesEntity();
  }

  // ---------------------------------------------------------------- not started

  @Test
  void anExecutionThatWasNeverStartedIsNotFound() {
    var get = kit.<StatusReply<ExecutionView>>runCommand(Get::new);

    assertThat(get.reply().isError()).isTrue();
    assertThat(get.reply().getError().getMessage())
        .isEqualTo("not_found: workflow '" + id + "' does not exist");
    assertThat(Rejection.of(get.reply().getError()).map(Rejection::kind))
        .contains(Rejection.Kind.NOT_FOUND);
    assertThat(get.hasNoEvents()).isTrue();
    assertThat(get.state()).isEqualTo(new NotStarted());

    var cancel =
        kit.<StatusReply<ExecutionView>>runCommand(r -> new Cancel("nothing to cancel", r));
    assertThat(cancel.reply().getError().getMessage()).startsWith("not_found: ");
    assertThat(cancel.hasNoEvents()).isTrue();
    var sent = signal("approve", json(new Approver("dave")));
    assertThat(sent.reply().getError().getMessage()).startsWith("not_found: ");
    assertThat(sent.hasNoEvents()).isTrue();
    assertThat(journal()).isEmpty();
  }

  @Test
  void aStartThatArrivesAfterItsCallerGaveUpStartsNothing() {
    // The route answered 503 at the deadline; a start delivered later must not create an execution
    // the client was never told of.
    var late =
        kit.<StatusReply<StartAccepted>>runCommand(
            r -> new Start("three-steps", 1, json(new Charge(5)), TENANT, T0.minusMillis(1), r));

    assertThat(late.reply().isError()).isTrue();
    assertThat(Rejection.of(late.reply().getError()).map(Rejection::kind))
        .contains(Rejection.Kind.UNAVAILABLE);
    assertThat(late.hasNoEvents()).isTrue();
    assertThat(late.state()).isEqualTo(new NotStarted());

    var inTime =
        kit.<StatusReply<StartAccepted>>runCommand(
            r -> new Start("three-steps", 1, json(new Charge(5)), TENANT, T0.plusSeconds(3), r));
    assertThat(inTime.reply().getValue().created()).isTrue();
  }

  // ---------------------------------------------------------------- the pure event handler (audit
  // replay)

  @Test
  void applyFoldsAJournalIntoTheLifecycleState() {
    JsonNode input = json(new ApprovalRequest(true, 60));
    JsonNode ann = json(new Approver("ann"));
    JsonNode prepared = TextNode.valueOf("prepared");
    JsonNode output = TextNode.valueOf("prepared, approved by ann");
    Instant t1 = T0.plusSeconds(1);
    Instant t2 = T0.plusSeconds(2);
    Instant wakeAt = t1.plus(Duration.ofHours(1));
    Instant t3 = wakeAt.plusSeconds(1);
    List<Event> events =
        List.of(
            new WorkflowStarted("audit-1", "approval", 1, TENANT, input, T0),
            new StepStarted(0, "prepare", 1, T0),
            new StepFailed(0, "prepare", 1, "IOException: reset", t1, T0),
            new StepStarted(0, "prepare", 2, t1),
            new StepCompleted(0, "prepare", prepared, t1),
            new TimerStarted(1, "nap", wakeAt, t1),
            new SignalReceived("approve", ann, null, t2),
            new WorkflowPaused(t2),
            new WorkflowResumed(t2),
            new TimerFired(1, "nap", wakeAt),
            new SignalConsumed(2, "approve", ann, wakeAt),
            new StepStarted(3, "finish", 1, wakeAt),
            new StepCompleted(3, "finish", output, t3),
            new WorkflowCompleted(output, t3));

    State state = new NotStarted();
    List<String> statuses = new ArrayList<>();
    for (Event e : events) {
      state = WorkflowExecution.apply(state, e);
      statuses.add(ExecutionView.statusOf(state));
    }

    assertThat(statuses)
        .containsExactly(
            "running",
            "running",
            "running",
            "running",
            "running",
            "sleeping",
            "sleeping",
            "paused",
            "sleeping",
            "running",
            "running",
            "running",
            "running",
            "completed");
    ExecutionData data =
        new ExecutionData(
            "audit-1",
            "approval",
            1,
            TENANT,
            input,
            T0,
            t3,
            List.of(
                new RecordedCall.Step(
                    0,
                    "prepare",
                    RecordedCall.StepStatus.COMPLETED,
                    2,
                    prepared,
                    null,
                    T0,
                    t1,
                    null),
                new RecordedCall.Timer(1, "nap", RecordedCall.TimerStatus.FIRED, t1, wakeAt, null),
                new RecordedCall.SignalWait(
                    2, "approve", RecordedCall.SignalStatus.RECEIVED, ann, wakeAt, wakeAt, null),
                new RecordedCall.Step(
                    3,
                    "finish",
                    RecordedCall.StepStatus.COMPLETED,
                    1,
                    output,
                    null,
                    wakeAt,
                    t3,
                    null)),
            Map.of(),
            false,
            null);
    assertThat(state).isEqualTo(new Completed(data, output, t3));
    // A final state ignores anything after it, as a replay of a journal written by an older version
    // would.
    assertThat(WorkflowExecution.apply(state, new StepStarted(4, "late", 1, t3))).isEqualTo(state);
  }

  @Test
  void applyOverTheEntitysJournalGivesTheEntitysStateAtEveryStage() {
    start("approval", json(new ApprovalRequest(true, 60)));
    awaitStatus("sleeping");
    assertAuditReplayMatchesEntity();

    signal("approve", json(new Approver("erin")));
    assertAuditReplayMatchesEntity();

    clock.set(T0.plus(Duration.ofHours(1)));
    wake();
    awaitStatus("completed");
    assertAuditReplayMatchesEntity();
    State finalState = kit.getState();
    assertThat(kit.restart().state()).isEqualTo(finalState);
  }
}
