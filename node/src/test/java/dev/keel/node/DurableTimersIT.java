package dev.keel.node;

import static dev.keel.node.NodeHttp.JSON;
import static dev.keel.node.NodeHttp.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import dev.keel.persistence.DatabaseSettings;
import dev.keel.persistence.TestDatabases;
import dev.keel.workflow.execution.NodeWorkflowRegistry;
import dev.keel.workflow.execution.WorkflowExecution;
import dev.keel.workflow.sdk.Workflow;
import dev.keel.workflow.sdk.WorkflowContext;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.ClusterShardingQuery;
import org.apache.pekko.cluster.sharding.typed.GetShardRegionState;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Durable timers, signal waits, pause/resume and caps, driven over HTTP against a real node in this
 * JVM, on the embedded H2 and on PostgreSQL:
 *
 * <ul>
 *   <li>a sleeping or waiting execution leaves memory (checked in the node's shard region state),
 *       its wake-up is in {@code keel_workflow_wakeups}, and the wake-up index brings it back on
 *       time; a signal to a passivated waiting execution wakes it;
 *   <li>a node stopped during a sleep or a signal wait: a new node on the same database finishes
 *       them on its own, before any request reaches it;
 *   <li>pause holds the next step back until resume; the per-workflow and the per-node caps queue
 *       executions visibly ({@code "queued": true}) and never run two bodies at once.
 * </ul>
 */
class DurableTimersIT {

  /** Short passivation and a fast wake-up index, so that the whole class fits in about a minute. */
  private static final Map<String, Object> FAST_WAKEUPS =
      Map.of(
          "keel.workflows.passivate-after", "1s",
          "keel.workflows.idle-timeout", "1s",
          "keel.workflows.wakeup-poll-interval", "1s",
          "keel.workflows.wakeup-lookahead", "3s");

  // ------------------------------------------------------------------ 1, 3, 4, 5: one node

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"h2", "postgres"})
  void passivatedTimersAndSignalsWakeOnTimeAndPauseAndCapsHold(String kind) throws Exception {
    try (Db db = Db.of(kind)) {
      String p = kind + "-";
      LatchedWorkflow pausable = new LatchedWorkflow("dt-pausable", 0);
      LatchedWorkflow capped = new LatchedWorkflow("dt-capped", 1);
      try (KeelNode node = startNode(db, FAST_WAKEUPS, pausable, capped)) {
        NodeHttp api = NodeHttp.ready(node);
        sleepAndSignalWhilePassivated(node, api, db, p);
        pauseAndResume(api, pausable, p);
        perWorkflowCap(api, capped, p);
      }
    }
  }

  /** Scenarios 1 and 3 side by side: a 6 s sleep and a signal wait, both passivated. */
  private void sleepAndSignalWhilePassivated(KeelNode node, NodeHttp api, Db db, String p)
      throws Exception {
    String sleeper = p + "nap";
    String waiter = p + "approval";
    String health = "http://127.0.0.1:" + node.httpPort() + "/health";
    Instant t0 = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    assertThat(
            start(
                    api,
                    sleeper,
                    "http-sequence",
                    "{\"steps\":[{\"name\":\"nap\",\"sleep\":\"PT6S\"},"
                        + "{\"name\":\"health\",\"request\":{\"method\":\"GET\",\"url\":\""
                        + health
                        + "\"}}]}")
                .statusCode())
        .isEqualTo(201);
    assertThat(
            start(
                    api,
                    waiter,
                    "http-sequence",
                    "{\"steps\":[{\"name\":\"approval\",\"signal\":\"approve\",\"timeout\":\"PT1M\"}]}")
                .statusCode())
        .isEqualTo(201);

    JsonNode sleeping =
        api.await(
            path(sleeper), v -> v.get("status").asText().equals("sleeping"), "showed sleeping");
    JsonNode nap = sleeping.get("steps").get(0);
    assertThat(nap.get("name").asText()).isEqualTo("nap");
    assertThat(nap.get("kind").asText()).isEqualTo("sleep");
    assertThat(nap.get("status").asText()).isEqualTo("sleeping");
    Instant dueAt = Instant.parse(nap.get("dueAt").asText());
    assertThat(dueAt).isBetween(t0.plusSeconds(6), Instant.now().plusSeconds(6));
    assertThat(sleeping.get("queued").asBoolean()).isFalse();

    JsonNode waiting =
        api.await(path(waiter), v -> v.get("status").asText().equals("waiting"), "showed waiting");
    JsonNode wait = waiting.get("steps").get(0);
    assertThat(wait.get("kind").asText()).isEqualTo("signal");
    assertThat(wait.get("status").asText()).isEqualTo("waiting");
    Instant timeoutAt = Instant.parse(wait.get("dueAt").asText());

    // Not kept in memory: both leave the shard region (nothing here sends them a message), and
    // the due wake-up index holds what brings them back.
    awaitTrue(
        Duration.ofSeconds(5),
        () -> !liveExecutions(node).contains(sleeper) && !liveExecutions(node).contains(waiter),
        () -> "both executions passivate; live: " + liveExecutions(node));
    awaitTrue(
        Duration.ofSeconds(5),
        () ->
            wakeAt(db.settings(), sleeper).isPresent() && wakeAt(db.settings(), waiter).isPresent(),
        () ->
            "wake-ups indexed: "
                + wakeAt(db.settings(), sleeper)
                + " / "
                + wakeAt(db.settings(), waiter));
    // The API shows instants to the millisecond; the index keeps them to the microsecond.
    assertThat(wakeAt(db.settings(), sleeper).map(t -> t.truncatedTo(ChronoUnit.MILLIS)))
        .contains(dueAt);
    assertThat(wakeAt(db.settings(), waiter).map(t -> t.truncatedTo(ChronoUnit.MILLIS)))
        .contains(timeoutAt);

    // 3: a signal to the passivated waiting execution wakes it and completes it with the payload.
    sleepUntil(t0.plusSeconds(3));
    assertThat(liveExecutions(node)).doesNotContain(waiter);
    HttpResponse<String> signal =
        api.send("POST", path(waiter) + "/signals/approve", "{\"ok\":true}");
    assertThat(signal.statusCode()).as(signal.body()).isEqualTo(202);
    JsonNode approved = json(api.send("GET", path(waiter) + "?wait=PT10S", null));
    assertThat(approved.get("status").asText()).as(approved.toString()).isEqualTo("completed");
    assertThat(approved.get("output").get("approval").get("signal").asText()).isEqualTo("approve");
    assertThat(approved.get("output").get("approval").get("payload"))
        .isEqualTo(JSON.readTree("{\"ok\":true}"));
    assertThat(approved.get("steps").get(0).get("status").asText()).isEqualTo("received");

    // 1: the sleeper is still parked off-memory; the long poll below revives it while more than
    // passivate-after remains, so it sets no local timer and only the index can wake it.
    Instant pollAt = Instant.now();
    assertThat(Duration.between(pollAt, dueAt))
        .as("time left for the index to do the waking")
        .isGreaterThan(Duration.ofMillis(1500));
    assertThat(liveExecutions(node)).doesNotContain(sleeper);
    JsonNode done = json(api.send("GET", path(sleeper) + "?wait=PT15S", null));
    assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("completed");
    Instant completedAt = Instant.parse(done.get("completedAt").asText());
    Instant firedAt = Instant.parse(done.get("steps").get(0).get("completedAt").asText());
    assertThat(done.get("steps").get(0).get("status").asText()).isEqualTo("fired");
    assertThat(firedAt).as("timer fired no earlier than dueAt").isAfterOrEqualTo(dueAt);
    assertThat(completedAt)
        .as("completed within dueAt + 5 s")
        .isBetween(dueAt, dueAt.plusSeconds(5));
    assertThat(done.get("output").get("nap").get("slept").asText()).isEqualTo("PT6S");
    assertThat(done.get("output").get("health").get("status").asInt()).isEqualTo(200);

    // The index forgets what is no longer due.
    awaitTrue(
        Duration.ofSeconds(10),
        () -> wakeAt(db.settings(), sleeper).isEmpty() && wakeAt(db.settings(), waiter).isEmpty(),
        () ->
            "wake-ups removed: "
                + wakeAt(db.settings(), sleeper)
                + " / "
                + wakeAt(db.settings(), waiter));
  }

  /** Scenario 4: pause while the first step body runs; the second step waits for resume. */
  private void pauseAndResume(NodeHttp api, LatchedWorkflow wf, String p) throws Exception {
    String id = p + "pausable";
    assertThat(start(api, id, wf.name(), "{}").statusCode()).isEqualTo(201);
    assertThat(gate(ENTERED, id).await(10, TimeUnit.SECONDS))
        .as("first step body started")
        .isTrue();

    HttpResponse<String> paused = api.send("POST", path(id) + "/pause", null);
    assertThat(paused.statusCode()).as(paused.body()).isEqualTo(202);
    assertThat(json(paused).get("status").asText()).isEqualTo("paused");

    gate(RELEASE, id).countDown();
    // The first step's result is journaled at the boundary, and nothing new starts.
    JsonNode atBoundary =
        api.await(
            path(id),
            v ->
                v.get("steps").size() == 1
                    && v.get("steps").get(0).get("status").asText().equals("completed"),
            "recorded the first step");
    assertThat(atBoundary.get("status").asText()).isEqualTo("paused");
    Thread.sleep(1500); // past idle-timeout: the paused execution may even leave memory meanwhile
    JsonNode still = json(api.send("GET", path(id), null));
    assertThat(still.get("status").asText()).isEqualTo("paused");
    assertThat(still.get("steps")).hasSize(1);
    assertThat(counter(SECOND_RUNS, id).get()).as("second step body while paused").isZero();

    HttpResponse<String> resumed = api.send("POST", path(id) + "/resume", null);
    assertThat(resumed.statusCode()).as(resumed.body()).isEqualTo(202);
    JsonNode done = json(api.send("GET", path(id) + "?wait=PT10S", null));
    assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("completed");
    assertThat(done.get("output").asText()).isEqualTo("one+two");
    assertThat(counter(FIRST_RUNS, id).get()).as("first step body runs").isEqualTo(1);
    assertThat(counter(SECOND_RUNS, id).get()).as("second step body runs").isEqualTo(1);

    assertProblem(api.send("POST", path(id) + "/pause", null), 409);
    assertProblem(api.send("POST", path(id) + "/resume", null), 409);
  }

  /** Scenario 5: maxConcurrent() = 1 queues the second execution, visibly. */
  private void perWorkflowCap(NodeHttp api, LatchedWorkflow wf, String p) throws Exception {
    String first = p + "capped-1";
    String second = p + "capped-2";
    assertThat(start(api, first, wf.name(), "{}").statusCode()).isEqualTo(201);
    assertThat(gate(ENTERED, first).await(10, TimeUnit.SECONDS))
        .as("first holds the slot")
        .isTrue();
    assertThat(start(api, second, wf.name(), "{}").statusCode()).isEqualTo(201);

    JsonNode queued = api.await(path(second), v -> v.get("queued").asBoolean(), "showed queued");
    assertThat(queued.get("status").asText()).isEqualTo("running");
    Thread.sleep(500);
    JsonNode stillQueued = json(api.send("GET", path(second), null));
    assertThat(stillQueued.get("queued").asBoolean()).isTrue();
    assertThat(stillQueued.get("status").asText()).isEqualTo("running");
    assertThat(counter(FIRST_RUNS, second).get())
        .as("second body before the slot is free")
        .isZero();
    JsonNode holder = json(api.send("GET", path(first), null));
    assertThat(holder.get("queued").asBoolean()).isFalse();
    assertThat(holder.get("status").asText()).isEqualTo("running");

    gate(RELEASE, first).countDown();
    gate(RELEASE, second).countDown();
    for (String id : new String[] {first, second}) {
      JsonNode done = json(api.send("GET", path(id) + "?wait=PT15S", null));
      assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("completed");
      assertThat(done.get("queued").asBoolean()).isFalse();
    }
    assertThat(wf.maxRunning.get()).as("bodies of dt-capped running at once, at most").isEqualTo(1);
  }

  // ------------------------------------------------------------------ 5b: node cap

  @Test
  void nodeCapQueuesEveryWorkflowOnH2() throws Exception {
    try (Db db = Db.of("h2")) {
      LatchedWorkflow free = new LatchedWorkflow("dt-uncapped", 0);
      Map<String, Object> overrides = new HashMap<>(FAST_WAKEUPS);
      overrides.put("keel.workflows.max-concurrent", 1);
      try (KeelNode node = startNode(db, overrides, free)) {
        NodeHttp api = NodeHttp.ready(node);
        assertThat(start(api, "nc-1", free.name(), "{}").statusCode()).isEqualTo(201);
        assertThat(gate(ENTERED, "nc-1").await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(start(api, "nc-2", free.name(), "{}").statusCode()).isEqualTo(201);
        assertThat(
                start(api, "nc-ex", "example", "{\"userId\":\"u\",\"action\":\"a\"}").statusCode())
            .isEqualTo(201);
        for (String id : new String[] {"nc-2", "nc-ex"}) {
          JsonNode v =
              api.await(
                  path(id), x -> x.get("queued").asBoolean(), "showed queued behind the node cap");
          assertThat(v.get("status").asText()).isEqualTo("running");
        }
        Thread.sleep(300);
        assertThat(json(api.send("GET", path("nc-ex"), null)).get("steps"))
            .as("example ran no step")
            .isEmpty();
        assertThat(counter(FIRST_RUNS, "nc-2").get()).isZero();

        gate(RELEASE, "nc-1").countDown();
        gate(RELEASE, "nc-2").countDown();
        for (String id : new String[] {"nc-1", "nc-2", "nc-ex"}) {
          JsonNode done = json(api.send("GET", path(id) + "?wait=PT15S", null));
          assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("completed");
        }
        assertThat(free.maxRunning.get()).isEqualTo(1);
      }
    }
  }

  // ------------------------------------------------------------------ 2: restart

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"h2", "postgres"})
  void aNewNodeFinishesSleepsAndSignalTimeoutsOfAStoppedOne(String kind) throws Exception {
    try (Db db = Db.of(kind)) {
      String p = kind + "-rs-";
      String parkedSleep = p + "parked-nap";
      String parkedSignal = p + "parked-approval";
      String liveSleep = p + "nap";
      String napOnly = "{\"steps\":[{\"name\":\"nap\",\"sleep\":\"PT5S\"}]}";
      Map<String, Instant> dueAt = new HashMap<>();
      try (KeelNode node = startNode(db, FAST_WAKEUPS)) {
        NodeHttp api = NodeHttp.ready(node);
        // Two that have left memory before the stop (only the wake-up index knows them) ...
        assertThat(start(api, parkedSleep, "http-sequence", napOnly).statusCode()).isEqualTo(201);
        assertThat(
                start(
                        api,
                        parkedSignal,
                        "http-sequence",
                        "{\"steps\":[{\"name\":\"approval\",\"signal\":\"approve\",\"timeout\":\"PT4S\"}]}")
                    .statusCode())
            .isEqualTo(201);
        dueAt.put(
            parkedSleep,
            dueOf(
                api.await(
                    path(parkedSleep), v -> v.get("status").asText().equals("sleeping"), "slept")));
        dueAt.put(
            parkedSignal,
            dueOf(
                api.await(
                    path(parkedSignal),
                    v -> v.get("status").asText().equals("waiting"),
                    "waited")));
        awaitTrue(
            Duration.ofSeconds(5),
            () ->
                !liveExecutions(node).contains(parkedSleep)
                    && !liveExecutions(node).contains(parkedSignal),
            () -> "parked executions passivate; live: " + liveExecutions(node));
        // ... and one stopped right away, still live and remembered.
        assertThat(start(api, liveSleep, "http-sequence", napOnly).statusCode()).isEqualTo(201);
        dueAt.put(
            liveSleep,
            dueOf(
                api.await(
                    path(liveSleep), v -> v.get("status").asText().equals("sleeping"), "slept")));
      }
      Instant latest = dueAt.values().stream().max(Instant::compareTo).orElseThrow();
      sleepUntil(latest.plusSeconds(1));

      try (KeelNode again = startNode(db, FAST_WAKEUPS)) {
        NodeHttp api = NodeHttp.ready(again);
        Instant readyAt = Instant.now();
        // No request at all for a while: the new node must find them on its own.
        Thread.sleep(4000);
        Instant firstRequestAt = Instant.now();
        Map<String, JsonNode> seen = new HashMap<>();
        for (String id : dueAt.keySet()) seen.put(id, json(api.send("GET", path(id), null)));
        Map<String, JsonNode> finals = new HashMap<>();
        for (String id : dueAt.keySet())
          finals.put(id, json(api.send("GET", path(id) + "?wait=PT15S", null)));

        for (String id : dueAt.keySet()) {
          JsonNode v = finals.get(id);
          String expected = id.equals(parkedSignal) ? "failed" : "completed";
          assertThat(v.get("status").asText()).as(id + ": " + v).isEqualTo(expected);
          Instant completedAt = Instant.parse(v.get("completedAt").asText());
          assertThat(completedAt)
              .as(id + " ended after its due time")
              .isAfterOrEqualTo(dueAt.get(id));
          assertThat(seen.get(id).get("status").asText())
              .as(
                  id
                      + " was already final "
                      + Duration.between(readyAt, firstRequestAt).toMillis()
                      + " ms after the new node was ready, before any request; first GET: "
                      + seen.get(id))
              .isEqualTo(expected);
          assertThat(completedAt)
              .as(id + " ended before the first request")
              .isBefore(firstRequestAt);
        }
        assertThat(finals.get(liveSleep).get("output").get("nap").get("slept").asText())
            .isEqualTo("PT5S");
        assertThat(finals.get(parkedSleep).get("output").get("nap").get("slept").asText())
            .isEqualTo("PT5S");
        JsonNode timedOut = finals.get(parkedSignal);
        // http-sequence lets SignalTimeoutException fail the run; its message is the error.
        assertThat(timedOut.get("error").asText())
            .isEqualTo("signal 'approve' did not arrive within PT4S");
        assertThat(timedOut.get("steps").get(0).get("status").asText()).isEqualTo("timed_out");
        assertThat(timedOut.get("output").isNull()).isTrue();
      }
    }
  }

  // ------------------------------------------------------------------ test workflows

  static final Map<String, CountDownLatch> ENTERED = new ConcurrentHashMap<>();
  static final Map<String, CountDownLatch> RELEASE = new ConcurrentHashMap<>();
  static final Map<String, AtomicInteger> FIRST_RUNS = new ConcurrentHashMap<>();
  static final Map<String, AtomicInteger> SECOND_RUNS = new ConcurrentHashMap<>();

  static CountDownLatch gate(Map<String, CountDownLatch> gates, String id) {
    return gates.computeIfAbsent(id, k -> new CountDownLatch(1));
  }

  static AtomicInteger counter(Map<String, AtomicInteger> counters, String id) {
    return counters.computeIfAbsent(id, k -> new AtomicInteger());
  }

  public record NoInput(String note) {}

  /**
   * Step "first" blocks until the test opens its execution's gate (at most 30 s); step "second"
   * counts its runs. Tracks how many first-step bodies of this workflow run at once.
   */
  static final class LatchedWorkflow implements Workflow<NoInput, String> {
    private final String name;
    private final int cap;
    final AtomicInteger running = new AtomicInteger();
    final AtomicInteger maxRunning = new AtomicInteger();

    LatchedWorkflow(String name, int cap) {
      this.name = name;
      this.cap = cap;
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public Class<NoInput> inputType() {
      return NoInput.class;
    }

    @Override
    public int maxConcurrent() {
      return cap;
    }

    @Override
    public String run(WorkflowContext ctx, NoInput input) {
      String id = ctx.workflowId();
      String a =
          ctx.step(
              "first",
              String.class,
              () -> {
                maxRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
                try {
                  counter(FIRST_RUNS, id).incrementAndGet();
                  gate(ENTERED, id).countDown();
                  if (!gate(RELEASE, id).await(30, TimeUnit.SECONDS))
                    throw new IllegalStateException("the test never opened the gate");
                  return "one";
                } finally {
                  running.decrementAndGet();
                }
              });
      String b =
          ctx.step(
              "second",
              String.class,
              () -> {
                counter(SECOND_RUNS, id).incrementAndGet();
                return "two";
              });
      return a + "+" + b;
    }
  }

  // ------------------------------------------------------------------ plumbing

  /**
   * A database for one test: H2 in a temp dir, or a fresh PostgreSQL database (skipped without a
   * server).
   */
  private record Db(Map<String, String> config, DatabaseSettings settings, AutoCloseable cleanup)
      implements AutoCloseable {
    static Db of(String kind) throws Exception {
      Path dir = Files.createTempDirectory("keel-it-timers-" + kind);
      if (kind.equals("h2"))
        return new Db(
            Map.of("keel.node.data-dir", dir.toString()), DatabaseSettings.embedded(dir), () -> {});
      TestDatabases.FreshPostgres pg = TestDatabases.freshPostgres();
      Map<String, String> config =
          new HashMap<>(
              Map.of(
                  "keel.node.data-dir",
                  dir.toString(),
                  "keel.database.url",
                  pg.settings().url(),
                  "keel.database.user",
                  pg.settings().user()));
      if (!pg.settings().password().isEmpty())
        config.put("keel.database.password", pg.settings().password());
      return new Db(Map.copyOf(config), pg.settings(), pg);
    }

    @Override
    public void close() throws Exception {
      cleanup.close();
    }
  }

  private static KeelNode startNode(Db db, Map<String, Object> extra, Workflow<?, ?>... workflows) {
    Map<String, Object> overrides = new HashMap<>(db.config());
    overrides.put("keel.http.port", 0);
    overrides.put("keel.cluster.port", 0);
    overrides.put("keel.node.admin-token", NodeHttp.TOKEN);
    overrides.putAll(extra);
    // A registry per node: the node registers its built-ins into it.
    NodeWorkflowRegistry registry = new NodeWorkflowRegistry();
    for (Workflow<?, ?> w : workflows) registry.register(w);
    return KeelNode.start(ConfigFactory.parseMap(overrides), registry);
  }

  private static HttpResponse<String> start(NodeHttp api, String id, String workflow, String input)
      throws Exception {
    return api.send(
        "POST",
        "/api/v1/workflows",
        "{\"workflow\":\"" + workflow + "\",\"id\":\"" + id + "\",\"input\":" + input + "}");
  }

  private static String path(String id) {
    return "/api/v1/workflows/" + id;
  }

  private static JsonNode json(HttpResponse<String> response) throws Exception {
    assertThat(response.statusCode()).as(response.body()).isBetween(200, 299);
    return JSON.readTree(response.body());
  }

  private static Instant dueOf(JsonNode execution) {
    JsonNode steps = execution.get("steps");
    return Instant.parse(steps.get(steps.size() - 1).get("dueAt").asText());
  }

  /**
   * Workflow entity ids alive on this node, from its shard region: no message reaches any entity.
   */
  private static Set<String> liveExecutions(KeelNode node) {
    ActorSystem<Void> system = node.system();
    try {
      ShardRegion.CurrentShardRegionState state =
          AskPattern.<ClusterShardingQuery, ShardRegion.CurrentShardRegionState>ask(
                  ClusterSharding.get(system).shardState(),
                  replyTo -> new GetShardRegionState(WorkflowExecution.ENTITY_KEY, replyTo),
                  Duration.ofSeconds(5),
                  system.scheduler())
              .toCompletableFuture()
              .get(6, TimeUnit.SECONDS);
      Set<String> ids = new HashSet<>();
      for (ShardRegion.ShardState shard : state.getShards()) ids.addAll(shard.getEntityIds());
      return ids;
    } catch (Exception e) {
      throw new AssertionError("shard region state: " + e, e);
    }
  }

  /** The execution's row in the due wake-up index. */
  private static Optional<Instant> wakeAt(DatabaseSettings db, String id) {
    try (Connection c = DriverManager.getConnection(db.url(), db.user(), db.password());
        PreparedStatement ps =
            c.prepareStatement("SELECT wake_at FROM keel_workflow_wakeups WHERE workflow_id = ?")) {
      ps.setString(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next()
            ? Optional.of(rs.getObject(1, OffsetDateTime.class).toInstant())
            : Optional.empty();
      }
    } catch (Exception e) {
      throw new AssertionError("keel_workflow_wakeups: " + e, e);
    }
  }

  private static void awaitTrue(
      Duration within, BooleanSupplier condition, java.util.function.Supplier<String> what)
      throws Exception {
    long deadline = System.nanoTime() + within.toNanos();
    while (System.nanoTime() < deadline) {
      if (condition.getAsBoolean()) return;
      Thread.sleep(100);
    }
    if (!condition.getAsBoolean()) throw new AssertionError("within " + within + ": " + what.get());
  }

  private static void sleepUntil(Instant at) throws InterruptedException {
    long ms = Duration.between(Instant.now(), at).toMillis();
    if (ms > 0) Thread.sleep(ms);
  }
}
