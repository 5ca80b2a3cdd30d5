package dev.keel.workflow.execution;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.keel.persistence.KeelTracing;
import dev.keel.persistence.ManualClock;
import dev.keel.persistence.RequestScope;
import dev.keel.persistence.TraceParent;
import dev.keel.workflow.execution.WorkflowExecution.Command;
import dev.keel.workflow.execution.WorkflowExecution.Event;
import dev.keel.workflow.execution.WorkflowExecution.Get;
import dev.keel.workflow.execution.WorkflowExecution.SendSignal;
import dev.keel.workflow.execution.WorkflowExecution.Start;
import dev.keel.workflow.execution.WorkflowExecution.State;
import dev.keel.workflow.execution.WorkflowExecution.Traced;
import dev.keel.workflow.execution.WorkflowExecution.Wake;
import dev.keel.workflow.execution.WorkflowExecution.WorkflowStarted;
import dev.keel.workflow.sdk.Workflow;
import dev.keel.workflow.sdk.WorkflowContext;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.random.RandomGenerator;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.serialization.jackson.JacksonObjectMapperProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.slf4j.MDC;

/**
 * An execution's spans, read from the SDK's in-memory exporter: the entity's handling of the start
 * under the sender's span, each step attempt, the sleep and the signal wait under it, all in one
 * trace that the journal keeps across a recovery; and with traces off, nothing journaled.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WorkflowTracingTest {

  private static final Instant T0 = Instant.parse("2026-03-01T07:30:00Z");

  /** The span a client's request was in (W3C's own example). */
  private static final String CALLER = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

  private static final String CALLER_TRACE = "0af7651916cd43dd8448eb211c80319c";

  private static final Duration AWAIT = Duration.ofSeconds(10);
  private static final AtomicInteger ids = new AtomicInteger();

  private final InMemorySpanExporter spans = InMemorySpanExporter.create();
  private OpenTelemetrySdk sdk;
  private ActorTestKit traced;
  private ActorTestKit untraced;
  private WorkflowRunner runner;
  private NodeWorkflowRegistry registry;

  /** What each step body saw in the logging MDC: step name -> trace_id, and its traceparent. */
  private final Map<String, String> seenTraceIds = new ConcurrentHashMap<>();

  private final Map<String, String> seenTraceParents = new ConcurrentHashMap<>();

  private ManualClock clock;
  private String id;

  @BeforeAll
  void start() {
    sdk =
        OpenTelemetrySdk.builder()
            .setTracerProvider(
                SdkTracerProvider.builder()
                    .addSpanProcessor(SimpleSpanProcessor.create(spans))
                    .build())
            .build();
    traced = ActorTestKit.create("WorkflowTracingTest", WorkflowExecutionTest.CONFIG);
    KeelTracing.get(traced.system()).install(sdk);
    untraced = ActorTestKit.create("WorkflowTracingTestOff", WorkflowExecutionTest.CONFIG);
    runner = new WorkflowRunner(2, name -> 0);
    registry = new NodeWorkflowRegistry().register(new Approval());
  }

  @AfterAll
  void stop() {
    runner.close();
    traced.shutdownTestKit();
    untraced.shutdownTestKit();
    sdk.close();
  }

  @BeforeEach
  void fresh() {
    clock = new ManualClock(T0);
    id = "traced-" + ids.incrementAndGet();
    spans.reset();
    seenTraceIds.clear();
    seenTraceParents.clear();
  }

  /** Prepare, nap an hour, wait for "approve", finish. */
  final class Approval implements Workflow<JsonNode, String> {
    public String name() {
      return "approval";
    }

    public Class<JsonNode> inputType() {
      return JsonNode.class;
    }

    public String run(WorkflowContext ctx, JsonNode in) {
      ctx.step("prepare", String.class, () -> observe("prepare"));
      ctx.sleep("nap", Duration.ofHours(1));
      String by = ctx.awaitSignal("approve", String.class, Duration.ofHours(2));
      ctx.step("finish", String.class, () -> observe("finish"));
      return "approved by " + by;
    }
  }

  private String observe(String step) {
    seenTraceIds.put(step, String.valueOf(MDC.get(RequestScope.TRACE_ID_FIELD)));
    seenTraceParents.put(step, RequestScope.traceParent().orElse("none"));
    return "ok";
  }

  @Test
  void anExecutionIsTracedUnderTheSpanItWasStartedInAcrossARecovery() {
    EventSourcedBehaviorTestKit<Command, Event, State> kit = kit(traced);

    var started =
        kit.<StatusReply<WorkflowExecution.StartAccepted>>runCommand(
            r -> new Traced("req-1", CALLER, start(r)));

    // The entity's handling of the start: a span under the caller's, journaled as the trace.
    SpanData handling = awaitSpan("workflow Start");
    assertThat(handling.getTraceId()).isEqualTo(CALLER_TRACE);
    assertThat(handling.getParentSpanId()).isEqualTo("b7ad6b7169203331");
    WorkflowStarted startedEvent = (WorkflowStarted) started.events().get(0);
    assertThat(TraceParent.parse(startedEvent.traceParent()).map(SpanContext::getSpanId))
        .contains(handling.getSpanId());

    awaitStatus(kit, "sleeping");
    SpanData prepare = awaitSpan("step prepare");
    assertThat(prepare.getParentSpanId()).isEqualTo(handling.getSpanId());
    assertThat(prepare.getTraceId()).isEqualTo(CALLER_TRACE);
    assertThat(prepare.getAttributes().asMap().toString()).contains("keel.step.attempt=1");
    // The body ran in its span: its log lines and outgoing requests name it.
    assertThat(seenTraceIds).containsEntry("prepare", CALLER_TRACE);
    assertThat(seenTraceParents.get("prepare")).contains(prepare.getSpanId());

    // A recovery (a crash, a passivated sleep) keeps the trace: it is in the journal.
    kit.restart();
    clock.set(T0.plus(Duration.ofHours(1)));
    kit.runCommand(Wake.INSTANCE);
    awaitStatus(kit, "waiting");
    SpanData nap = awaitSpan("sleep nap");
    assertThat(nap.getParentSpanId()).isEqualTo(handling.getSpanId());
    assertThat(nap.getTraceId()).isEqualTo(CALLER_TRACE);
    assertThat(Instant.ofEpochSecond(0, nap.getStartEpochNanos())).isEqualTo(T0);
    assertThat(Instant.ofEpochSecond(0, nap.getEndEpochNanos()))
        .isEqualTo(T0.plus(Duration.ofHours(1)));

    clock.set(T0.plus(Duration.ofMinutes(90)));
    kit.<StatusReply<Done>>runCommand(r -> new SendSignal("approve", TextNode.valueOf("ann"), r));
    awaitStatus(kit, "completed");
    SpanData approve = awaitSpan("signal approve");
    SpanData finish = awaitSpan("step finish");
    assertThat(List.of(approve, finish))
        .allSatisfy(
            s -> {
              assertThat(s.getTraceId()).isEqualTo(CALLER_TRACE);
              assertThat(s.getParentSpanId()).isEqualTo(handling.getSpanId());
            });
    assertThat(Instant.ofEpochSecond(0, approve.getStartEpochNanos()))
        .isEqualTo(T0.plus(Duration.ofHours(1)));
    assertThat(Instant.ofEpochSecond(0, approve.getEndEpochNanos()))
        .isEqualTo(T0.plus(Duration.ofMinutes(90)));
    // One span per step attempt: the recovery replayed "prepare" without running it again.
    assertThat(spans.getFinishedSpanItems())
        .filteredOn(s -> s.getName().equals("step prepare"))
        .hasSize(1);
  }

  @Test
  void anExecutionStartedForNoRequestIsTheRootOfATraceOfItsOwn() {
    EventSourcedBehaviorTestKit<Command, Event, State> kit = kit(traced);

    var started = kit.<StatusReply<WorkflowExecution.StartAccepted>>runCommand(this::start);

    SpanData root = awaitSpan("workflow approval");
    assertThat(root.getParentSpanContext().isValid()).isFalse();
    assertThat(((WorkflowStarted) started.events().get(0)).traceParent())
        .contains(root.getTraceId());
    awaitStatus(kit, "sleeping");
    assertThat(awaitSpan("step prepare").getParentSpanId()).isEqualTo(root.getSpanId());
  }

  @Test
  void withTracesOffNothingIsJournaledAndNoSpanIsMade() throws Exception {
    EventSourcedBehaviorTestKit<Command, Event, State> kit = kit(untraced);

    var started =
        kit.<StatusReply<WorkflowExecution.StartAccepted>>runCommand(
            r -> new Traced("req-1", CALLER, start(r)));
    awaitStatus(kit, "sleeping");

    WorkflowStarted event = (WorkflowStarted) started.events().get(0);
    assertThat(event.traceParent()).isNull();
    // The stored shape is the one written before traces existed: no traceParent key at all.
    ObjectMapper mapper =
        JacksonObjectMapperProvider.get(untraced.system())
            .getOrCreate("jackson-json", Optional.empty());
    assertThat(mapper.writeValueAsString(event)).doesNotContain("traceParent");
    assertThat(spans.getFinishedSpanItems()).isEmpty();
    // A step body runs in no span, whatever span the start was sent in.
    assertThat(seenTraceIds).containsEntry("prepare", "null");
    assertThat(seenTraceParents).containsEntry("prepare", "none");
  }

  // ---------------------------------------------------------------- helpers

  private EventSourcedBehaviorTestKit<Command, Event, State> kit(ActorTestKit on) {
    ObjectMapper mapper =
        JacksonObjectMapperProvider.get(on.system()).getOrCreate("jackson-json", Optional.empty());
    RandomGenerator random = () -> Long.MIN_VALUE;
    WorkflowDeps deps =
        new WorkflowDeps(
            clock,
            random,
            WorkflowSettings.fromConfig(on.system().settings().config()),
            registry,
            runner,
            mapper,
            on.system().scheduler());
    return EventSourcedBehaviorTestKit.create(
        on.system(),
        WorkflowExecution.create(id, deps),
        EventSourcedBehaviorTestKit.enabledSerializationSettings());
  }

  private Start start(
      org.apache.pekko.actor.typed.ActorRef<StatusReply<WorkflowExecution.StartAccepted>> r) {
    return new Start("approval", 1, TextNode.valueOf("in"), "acme", null, r);
  }

  private void awaitStatus(EventSourcedBehaviorTestKit<Command, Event, State> kit, String status) {
    long deadline = System.nanoTime() + AWAIT.toNanos();
    while (true) {
      ExecutionView v = kit.<StatusReply<ExecutionView>>runCommand(Get::new).reply().getValue();
      if (v.status().equals(status)) return;
      if (System.nanoTime() > deadline)
        throw new AssertionError("no status " + status + " within " + AWAIT + ": " + v);
      sleepBriefly();
    }
  }

  private SpanData awaitSpan(String name) {
    long deadline = System.nanoTime() + AWAIT.toNanos();
    while (true) {
      Optional<SpanData> span =
          spans.getFinishedSpanItems().stream().filter(s -> s.getName().equals(name)).findFirst();
      if (span.isPresent()) return span.get();
      if (System.nanoTime() > deadline)
        throw new AssertionError(
            "no span '"
                + name
                + "' within "
                + AWAIT
                + "; spans: "
                + spans.getFinishedSpanItems().stream().map(SpanData::getName).toList());
      sleepBriefly();
    }
  }

  private static void sleepBriefly() {
    try {
      Thread.sleep(10);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
