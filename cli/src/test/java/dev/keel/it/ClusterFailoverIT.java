package dev.keel.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.keel.persistence.TestDatabases;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Three nodes (separate JVMs on 127.0.0.1, one fresh PostgreSQL database) under a steady load of
 * workflows and service heartbeats sent through all of them. Not beside a {@link CpuBurner} yet:
 * with one, a kill -9 take-over held a service's heartbeats back for 31.7 s and the service was
 * recorded stale (its grace does not yet cover so long a take-over); the burner returns here when
 * that grace does. The other fault tests run beside one.
 *
 * <ol>
 *   <li><b>Node loss.</b> Once workflows and services are spread over all three members (seen in
 *       {@code GET /api/v1/cluster}), the oldest node — leader and home of the shard coordinators —
 *       is killed with SIGKILL. The survivors must take its work over: the cluster shows two
 *       members, and the workflows that were running there make progress again (an interrupted step
 *       is called again with its idempotency key). The test prints how long that took.
 *   <li><b>Rolling restart.</b> The killed node is started again, then each of the three is stopped
 *       with SIGTERM (exit code 143), started again and awaited ready, one after the other, while
 *       the load goes on.
 * </ol>
 *
 * <p>Afterwards every workflow whose start was acknowledged (201 or 200) has completed, each of its
 * steps is recorded exactly once in its history, every registered service is still registered, and
 * none was ever recorded stale: services heartbeat every second with a TTL of 10 s, through
 * whichever node answers, and a take-over gives each one TTL of grace.
 *
 * <p>Both parts share one cluster to keep the test's run time down. Deadlines are generous ("within
 * N seconds"), since the machine may have two busy cores; timings are printed, not asserted. Logs:
 * {@code target/cluster-it/}.
 */
@Timeout(value = 8, unit = TimeUnit.MINUTES)
class ClusterFailoverIT {

  private static final String TOKEN = "cluster-it-admin-token-0123456789";
  private static final int NODES = 3;
  private static final int SERVICES = 12;
  private static final int SERVICE_TTL_SECONDS = 10;

  /** Workflow starts per second, over all nodes. */
  private static final double START_RATE = 4;

  /** A node restarted beside the CPU burner and two busy nodes on two cores takes its time. */
  private static final Duration READY_DEADLINE = Duration.ofSeconds(180);

  private static final Duration SPREAD_DEADLINE = Duration.ofSeconds(90);
  private static final Duration TAKEOVER_DEADLINE = Duration.ofSeconds(90);
  private static final Duration STOP_DEADLINE = Duration.ofSeconds(60);
  private static final Duration COMPLETE_DEADLINE = Duration.ofSeconds(180);

  /**
   * A start is retried (same id: idempotent) on the next node for this long before it counts as
   * refused.
   */
  private static final Duration START_RETRY_WINDOW = Duration.ofSeconds(120);

  private static final Path LOG_DIR = Path.of("target", "cluster-it").toAbsolutePath();
  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
  private final List<String> timings = new CopyOnWriteArrayList<>();
  private ChildNodes children;
  private TestDatabases.FreshPostgres postgres;
  private Stub stub;
  private int[] httpPorts;
  private int[] clusterPorts;
  private final KeelChildProcess[] nodes = new KeelChildProcess[NODES];

  /** Nodes the load is sent to: all but one being restarted on purpose (a load balancer's view). */
  private final Set<Integer> inRotation = ConcurrentHashMap.newKeySet();

  private Load load;
  private CpuBurner burner;

  @BeforeEach
  void setUp() throws IOException {
    postgres = TestDatabases.freshPostgres();
    children = new ChildNodes("keel-cluster-it-");
    stub = Stub.start();
    httpPorts = new int[NODES];
    clusterPorts = new int[NODES];
    for (int i = 0; i < NODES; i++) {
      httpPorts[i] = KeelChildProcess.freePort();
      clusterPorts[i] = KeelChildProcess.freePort();
    }
  }

  @AfterEach
  void tearDown() {
    if (burner != null) burner.close();
    if (load != null) load.stop();
    if (children != null) children.close();
    if (stub != null) stub.stop();
    if (postgres != null) postgres.close();
    System.out.println("[ClusterFailoverIT] timings: " + String.join(", ", timings));
    try {
      Files.createDirectories(LOG_DIR);
      Files.write(LOG_DIR.resolve("timings.txt"), timings);
    } catch (IOException e) {
      // Printed above as well.
    }
  }

  @Test
  void killMinus9UnderLoad_thenRollingRestartUnderLoad_nothingLostNothingTwice() throws Exception {
    Instant t0 = Instant.now();
    for (int i = 0; i < NODES; i++) nodes[i] = startNode(i, "");
    for (int i = 0; i < NODES; i++) {
      nodes[i].awaitReady(http, READY_DEADLINE);
      inRotation.add(i);
    }
    awaitUpMembers(1, NODES, Duration.ofSeconds(60));
    timings.add("3 nodes ready " + ms(t0));

    load = new Load();
    load.registerServices();
    load.start();

    // ---- spread: every member holds workflows and services
    Instant spreadStart = Instant.now();
    JsonNode spread = awaitSpread();
    timings.add("spread over 3 " + ms(spreadStart));
    System.out.println("[ClusterFailoverIT] before the kill: " + spread.path("shards"));

    // ---- kill -9 the oldest node (leader, shard coordinators) while it runs workflows
    int victim = 0;
    awaitRunningOn(victim, 3);
    String victimAddress = "pekko://keel@127.0.0.1:" + clusterPorts[victim];
    Instant kill = Instant.now();
    nodes[victim].process.destroyForcibly();
    assertThat(nodes[victim].process.waitFor(30, TimeUnit.SECONDS))
        .as("the killed JVM is gone")
        .isTrue();
    // Its log names the executions it started and had not finished: those the survivors must take
    // over.
    Set<String> orphaned = runningOn(nodes[victim]);
    Instant twoMembers = awaitMembersWithout(1, victimAddress, kill.plus(TAKEOVER_DEADLINE));
    timings.add("kill -> 2 members " + Duration.between(kill, twoMembers).toMillis() + " ms");
    Instant recalled = stub.firstRepeatAfter(kill);
    if (recalled != null)
      timings.add(
          "kill -> first interrupted step called again "
              + Duration.between(kill, recalled).toMillis()
              + " ms");
    System.out.println(
        "[ClusterFailoverIT] takeover: "
            + timings
            + ", executions running on the killed node: "
            + orphaned);
    assertThat(nodes[1].process.isAlive() && nodes[2].process.isAlive())
        .as(context("both survivors live on"))
        .isTrue();

    // ---- the killed node comes back
    Instant back = Instant.now();
    nodes[victim] = startNode(victim, "-restarted");
    nodes[victim].awaitReady(http, READY_DEADLINE);
    inRotation.add(victim);
    awaitUpMembers(1, NODES, Duration.ofSeconds(60));
    timings.add("killed node back and Up " + ms(back));

    // ---- rolling restart of all three under load
    for (int i = 0; i < NODES; i++) {
      Instant stopping = Instant.now();
      inRotation.remove(i);
      nodes[i].process.destroy(); // SIGTERM
      int code = nodes[i].awaitExit(STOP_DEADLINE);
      assertThat(code)
          .as(
              nodes[i].describe(
                  "exit code after SIGTERM (CoordinatedShutdown, then the JVM's 128+15)"))
          .isEqualTo(143);
      timings.add("node " + (i + 1) + " SIGTERM -> exit " + ms(stopping));
      assertThat(nodes[i].stdoutText())
          .as(nodes[i].describe("the node handed its shards off and left"))
          .contains("Running CoordinatedShutdown")
          .contains("Exiting completed");
      Instant starting = Instant.now();
      nodes[i] = startNode(i, "-rolled");
      nodes[i].awaitReady(http, READY_DEADLINE);
      awaitUpMembers((i + 1) % NODES, NODES, Duration.ofSeconds(60));
      inRotation.add(i);
      timings.add("node " + (i + 1) + " start -> ready and Up " + ms(starting));
    }
    // A last stretch of load on the restarted cluster, then stop starting more.
    Thread.sleep(3_000);
    load.stopStarting();

    // ---- nothing lost, nothing twice
    Instant verifying = Instant.now();
    Map<String, JsonNode> finals = load.awaitAllFinal(verifying.plus(COMPLETE_DEADLINE));
    timings.add("all final " + ms(verifying));
    load.stop();
    verifyWorkflows(finals);
    verifyTakeover(orphaned, kill);
    verifyServices();
    // Every restarted node got shards again: rebalancing moves them onto a node that joins.
    Instant rebalancing = Instant.now();
    JsonNode cluster = awaitShardsOnEachMember("workflow", Duration.ofSeconds(90));
    timings.add("workflow shards on all 3 after the rolling restart (checked) " + ms(rebalancing));
    System.out.println(
        "[ClusterFailoverIT] after the rolling restart: entities "
            + cluster.path("shards")
            + " shards "
            + cluster.path("shardCounts"));
    System.out.println(
        "[ClusterFailoverIT] workflows acknowledged="
            + load.acknowledged.size()
            + " refused="
            + load.refused.get()
            + " start retries="
            + load.startRetries.get()
            + " heartbeats acked="
            + load.heartbeatsAcked.get()
            + " failed="
            + load.heartbeatsFailed.get()
            + " stub calls="
            + stub.calls.size());
  }

  // ---------------------------------------------------------------- checks

  private void verifyWorkflows(Map<String, JsonNode> finals) throws Exception {
    assertThat(load.acknowledged).as("workflows were started").hasSizeGreaterThan(50);
    List<String> problems = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(4, daemon("cluster-it-verify"));
    try {
      List<Future<String>> checks = new ArrayList<>();
      for (Map.Entry<String, String> w : load.acknowledged.entrySet()) {
        checks.add(
            pool.submit(() -> checkWorkflow(w.getKey(), w.getValue(), finals.get(w.getKey()))));
      }
      for (Future<String> c : checks) {
        String problem = c.get(2, TimeUnit.MINUTES);
        if (problem != null) problems.add(problem);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(problems)
        .as(context("every acknowledged workflow completed, each step recorded exactly once"))
        .isEmpty();
  }

  /** Null when the workflow completed with each step recorded once; else what is wrong. */
  private String checkWorkflow(String id, String workflow, JsonNode execution) throws Exception {
    if (execution == null) return id + ": not final";
    if (!execution.path("status").asText().equals("completed"))
      return id + ": " + execution.path("status").asText() + " " + execution;
    HttpResponse<String> r =
        send(
            anyNode(), "GET", "/api/v1/workflows/" + id + "/history", null, Duration.ofSeconds(30));
    if (r.statusCode() != 200) return id + ": history answered " + r.statusCode();
    JsonNode history = JSON.readTree(r.body());
    Map<String, Integer> completedSteps = new TreeMap<>();
    int started = 0;
    int completed = 0;
    long lastSeq = 0;
    for (JsonNode e : history) {
      String type = e.path("type").asText();
      if (type.equals("StepCompleted"))
        completedSteps.merge(e.path("data").path("name").asText(), 1, Integer::sum);
      // A sleep is a durable timer: started once and fired once, like a step recorded once.
      if (type.equals("TimerStarted") || type.equals("TimerFired")) {
        completedSteps.merge(type + ":" + e.path("data").path("name").asText(), 1, Integer::sum);
      }
      if (type.equals("WorkflowStarted")) started++;
      if (type.equals("WorkflowCompleted")) completed++;
      long seq = e.path("seq").asLong();
      if (seq <= lastSeq) return id + ": history seq not ascending at " + seq;
      lastSeq = seq;
    }
    List<String> expected =
        workflow.equals("example")
            ? List.of("process", "summarize", "validate")
            : List.of("TimerFired:pause", "TimerStarted:pause", "reserve", "ship");
    if (started != 1 || completed != 1)
      return id + ": WorkflowStarted=" + started + " WorkflowCompleted=" + completed;
    if (!completedSteps.keySet().equals(new java.util.TreeSet<>(expected)))
      return id + ": steps " + completedSteps;
    for (Map.Entry<String, Integer> s : completedSteps.entrySet()) {
      if (s.getValue() != 1)
        return id + ": step " + s.getKey() + " recorded " + s.getValue() + " times";
    }
    if (workflow.equals("http-sequence")
        && execution.path("output").path("ship").path("status").asInt() != 200) {
      return id + ": output " + execution.path("output");
    }
    return null;
  }

  private void verifyServices() throws Exception {
    List<String> problems = new ArrayList<>();
    for (String id : load.services) {
      HttpResponse<String> r =
          send(anyNode(), "GET", "/api/v1/services/" + id, null, Duration.ofSeconds(30));
      if (r.statusCode() != 200) {
        problems.add(id + ": GET answered " + r.statusCode() + " " + r.body());
        continue;
      }
      String status = JSON.readTree(r.body()).path("status").asText();
      if (!status.equals("healthy")) problems.add(id + ": status " + status);
      HttpResponse<String> events =
          send(
              anyNode(),
              "GET",
              "/api/v1/audit/service/" + id + "/events",
              null,
              Duration.ofSeconds(30));
      if (events.statusCode() != 200) {
        problems.add(id + ": audit events answered " + events.statusCode());
        continue;
      }
      for (JsonNode e : JSON.readTree(events.body())) {
        if (e.path("type").asText().equals("StatusChanged")
            && e.path("data").path("to").asText().equals("stale")) {
          problems.add(
              id
                  + ": recorded stale at "
                  + e.path("at").asText()
                  + " ("
                  + e.path("data").path("reason").asText()
                  + ")");
        }
      }
    }
    assertThat(problems)
        .as(
            context(
                "every service still registered and healthy, never recorded stale; heartbeats"
                    + " acked="
                    + load.heartbeatsAcked.get()
                    + " failed="
                    + load.heartbeatsFailed.get()
                    + ", longest gap between acked heartbeats of one service "
                    + load.longestHeartbeatGap()
                    + " ms"))
        .isEmpty();
  }

  // ---------------------------------------------------------------- cluster observation

  private JsonNode clusterView(int node) throws Exception {
    HttpResponse<String> r = send(node, "GET", "/api/v1/cluster", null, Duration.ofSeconds(15));
    assertThat(r.statusCode())
        .as(context("GET /api/v1/cluster on node " + (node + 1) + ": " + r.body()))
        .isEqualTo(200);
    return JSON.readTree(r.body());
  }

  private void awaitUpMembers(int node, int count, Duration deadline) throws Exception {
    Instant until = Instant.now().plus(deadline);
    JsonNode last = null;
    while (Instant.now().isBefore(until)) {
      try {
        last = clusterView(node);
        int up = 0;
        for (JsonNode m : last.path("members")) if (m.path("status").asText().equals("up")) up++;
        if (up == count && last.path("members").size() == count) return;
      } catch (IOException | AssertionError notYet) {
        // Starting or busy: ask again.
      }
      Thread.sleep(500);
    }
    throw new AssertionError(
        context(
            "node "
                + (node + 1)
                + " does not see "
                + count
                + " Up members within "
                + deadline
                + "; last: "
                + last));
  }

  /** Until every member holds running workflows and services. */
  private JsonNode awaitSpread() throws Exception {
    Instant until = Instant.now().plus(SPREAD_DEADLINE);
    JsonNode last = null;
    while (Instant.now().isBefore(until)) {
      last = clusterView(1);
      if (holdsOnEachMember(last, "workflow") && holdsOnEachMember(last, "service")) return last;
      Thread.sleep(500);
    }
    throw new AssertionError(
        context(
            "workflows and services not on all three members within "
                + SPREAD_DEADLINE
                + "; last: "
                + last));
  }

  private boolean holdsOnEachMember(JsonNode view, String type) {
    JsonNode perMember = view.path("shards").path(type);
    if (perMember.size() != NODES) return false;
    for (JsonNode count : perMember) if (count.asInt() < 1) return false;
    return true;
  }

  private JsonNode awaitShardsOnEachMember(String type, Duration deadline) throws Exception {
    Instant until = Instant.now().plus(deadline);
    JsonNode last = null;
    while (Instant.now().isBefore(until)) {
      last = clusterView(0);
      JsonNode perMember = last.path("shardCounts").path(type);
      boolean everywhere = perMember.size() == NODES;
      for (JsonNode count : perMember) everywhere &= count.asInt() >= 1;
      if (everywhere) return last;
      Thread.sleep(1000);
    }
    throw new AssertionError(
        context(
            type
                + " shards not on all "
                + NODES
                + " members within "
                + deadline
                + "; last: "
                + last));
  }

  /**
   * When a survivor's view first showed the cluster without the killed member (time the request was
   * sent).
   */
  private Instant awaitMembersWithout(int node, String address, Instant until) throws Exception {
    JsonNode last = null;
    while (Instant.now().isBefore(until)) {
      Instant asked = Instant.now();
      try {
        last = clusterView(node);
        boolean present = false;
        for (JsonNode m : last.path("members"))
          present |= m.path("address").asText().equals(address);
        if (!present && last.path("members").size() == NODES - 1) return asked;
      } catch (IOException | AssertionError busy) {
        // Ask again.
      }
      Thread.sleep(250);
    }
    throw new AssertionError(
        context("the cluster still lists " + address + " at the deadline; last: " + last));
  }

  /** Executions that {@code node}'s log shows started and not yet finished there. */
  private static Set<String> runningOn(KeelChildProcess node) {
    Set<String> running = new java.util.TreeSet<>();
    for (String line : node.stdoutText().lines().toList()) {
      java.util.regex.Matcher started = STARTED.matcher(line);
      if (started.find()) running.add(started.group(1));
      java.util.regex.Matcher finished = FINISHED.matcher(line);
      if (finished.find()) running.remove(finished.group(1));
    }
    return running;
  }

  private static final java.util.regex.Pattern STARTED =
      java.util.regex.Pattern.compile("workflow started id=(\\S+)");
  private static final java.util.regex.Pattern FINISHED =
      java.util.regex.Pattern.compile("workflow (?:completed|failed|cancelled) id=(\\S+)");

  private void awaitRunningOn(int node, int atLeast) throws Exception {
    Instant until = Instant.now().plus(SPREAD_DEADLINE);
    while (Instant.now().isBefore(until)) {
      if (runningOn(nodes[node]).size() >= atLeast) return;
      Thread.sleep(100);
    }
    throw new AssertionError(
        context("node " + (node + 1) + " never ran " + atLeast + " executions at once"));
  }

  /**
   * The executions that were running on the killed node went on after the kill: their first event
   * journaled after it (by a survivor) tells how long the take-over took.
   */
  private void verifyTakeover(Set<String> orphaned, Instant kill) throws Exception {
    assertThat(orphaned).as(context("executions running on the killed node")).isNotEmpty();
    List<Long> resumedAfterMs = new ArrayList<>();
    for (String id : orphaned) {
      HttpResponse<String> r =
          send(
              anyNode(),
              "GET",
              "/api/v1/workflows/" + id + "/history",
              null,
              Duration.ofSeconds(30));
      assertThat(r.statusCode()).as(context("history of " + id + ": " + r.body())).isEqualTo(200);
      Instant first = null;
      boolean finishedBefore = false;
      for (JsonNode e : JSON.readTree(r.body())) {
        Instant at = Instant.parse(e.path("at").asText());
        if (at.isAfter(kill) && (first == null || at.isBefore(first))) first = at;
        // The log is written asynchronously: its last lines may have died with the node.
        finishedBefore |= e.path("type").asText().equals("WorkflowCompleted") && !at.isAfter(kill);
      }
      if (finishedBefore) continue;
      assertThat(first)
          .as(
              context(
                  id
                      + " (running on the killed node) journaled nothing after the kill: "
                      + r.body()))
          .isNotNull();
      resumedAfterMs.add(Duration.between(kill, first).toMillis());
    }
    assertThat(resumedAfterMs)
        .as(context("executions still running on the killed node at the kill: " + orphaned))
        .isNotEmpty();
    java.util.Collections.sort(resumedAfterMs);
    timings.add(
        "kill -> first orphaned execution journals again "
            + resumedAfterMs.get(0)
            + " ms (all "
            + resumedAfterMs.size()
            + " by "
            + resumedAfterMs.get(resumedAfterMs.size() - 1)
            + " ms)");
  }

  // ---------------------------------------------------------------- nodes

  private KeelChildProcess startNode(int i, String suffix) throws IOException {
    StringBuilder seeds = new StringBuilder();
    for (int port : clusterPorts)
      seeds.append(seeds.length() == 0 ? "" : ",").append("127.0.0.1:").append(port);
    List<String> args =
        new ArrayList<>(
            List.of(
                "--host",
                "127.0.0.1",
                "--http-port",
                Integer.toString(httpPorts[i]),
                "--cluster-port",
                Integer.toString(clusterPorts[i]),
                "--seed-nodes",
                seeds.toString(),
                "--data-dir",
                children.tempDir().resolve("node-" + (i + 1)).toString(),
                "--database-url",
                postgres.settings().url(),
                "--database-user",
                postgres.settings().user()));
    Map<String, String> env = new HashMap<>();
    env.put("KEEL_ADMIN_TOKEN", TOKEN);
    if (!postgres.settings().password().isEmpty())
      env.put("KEEL_DATABASE_PASSWORD", postgres.settings().password());
    return children.track(
        KeelChildProcess.start(LOG_DIR, "node-" + (i + 1) + suffix, args, env, httpPorts[i]));
  }

  private int anyNode() {
    for (int i = 0; i < NODES; i++)
      if (inRotation.contains(i) && nodes[i].process.isAlive()) return i;
    return 0;
  }

  private HttpResponse<String> send(
      int node, String method, String path, String body, Duration timeout)
      throws IOException, InterruptedException {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPorts[node] + path))
            .timeout(timeout)
            .header("Authorization", "Bearer " + TOKEN);
    if (body == null) {
      b.method(method, HttpRequest.BodyPublishers.noBody());
    } else {
      b.header("Content-Type", "application/json")
          .method(method, HttpRequest.BodyPublishers.ofString(body));
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private String context(String message) {
    StringBuilder sb = new StringBuilder(message).append("\ntimings: ").append(timings);
    if (load != null) {
      sb.append("\nacknowledged=")
          .append(load.acknowledged.size())
          .append(" refused=")
          .append(load.refused.get())
          .append(" heartbeats acked=")
          .append(load.heartbeatsAcked.get())
          .append(" failed=")
          .append(load.heartbeatsFailed.get());
    }
    for (KeelChildProcess node : nodes) {
      if (node != null) sb.append("\n").append(node.describe("node " + node.name));
    }
    return sb.toString();
  }

  private static String ms(Instant since) {
    return Duration.between(since, Instant.now()).toMillis() + " ms";
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  // ---------------------------------------------------------------- the load

  /**
   * Workflow starts at {@link #START_RATE} per second, alternately {@code example} and an {@code
   * http-sequence} that calls the stub (with sleeps, so that steps are in flight) and sleeps
   * durably in between; and a heartbeat per service per second. Requests go round-robin to the
   * nodes in rotation; a failed one (refused connection, 503, timeout) is retried on the next node,
   * with the same id, so a start is acknowledged at most once per id.
   */
  private final class Load {
    final Map<String, String> acknowledged = new ConcurrentHashMap<>();
    final AtomicInteger refused = new AtomicInteger();
    final AtomicInteger startRetries = new AtomicInteger();
    final AtomicInteger heartbeatsAcked = new AtomicInteger();
    final AtomicInteger heartbeatsFailed = new AtomicInteger();
    final List<String> services = new ArrayList<>();
    final Map<String, Instant> lastHeartbeatAck = new ConcurrentHashMap<>();
    final Map<String, Long> longestGap = new ConcurrentHashMap<>();
    private final Map<String, AtomicBoolean> heartbeatInFlight = new ConcurrentHashMap<>();
    private final AtomicBoolean starting = new AtomicBoolean(true);
    private java.util.concurrent.ScheduledFuture<?> startTick;
    private final AtomicInteger next = new AtomicInteger();
    private final AtomicInteger roundRobin = new AtomicInteger();
    private final ScheduledExecutorService ticks =
        Executors.newScheduledThreadPool(2, daemon("cluster-it-tick"));
    private final ExecutorService workers =
        Executors.newFixedThreadPool(24, daemon("cluster-it-load"));
    // Heartbeats never wait behind starts that are being retried through a take-over.
    private final ExecutorService heartbeats =
        Executors.newFixedThreadPool(SERVICES, daemon("cluster-it-heartbeat"));

    void registerServices() throws Exception {
      for (int s = 0; s < SERVICES; s++) {
        String id = "svc-" + s;
        ObjectNode body = JSON.createObjectNode();
        body.put("name", "service " + s);
        body.put("type", "processor");
        body.put("endpoint", "127.0.0.1:" + (9000 + s));
        body.put("ttlSeconds", SERVICE_TTL_SECONDS);
        HttpResponse<String> r =
            send(
                s % NODES,
                "PUT",
                "/api/v1/services/" + id,
                body.toString(),
                Duration.ofSeconds(30));
        assertThat(r.statusCode()).as(context("register " + id + ": " + r.body())).isIn(200, 201);
        services.add(id);
        lastHeartbeatAck.put(id, Instant.now());
        heartbeatInFlight.put(id, new AtomicBoolean());
      }
    }

    void start() {
      long periodMicros = (long) (1_000_000 / START_RATE);
      startTick =
          ticks.scheduleAtFixedRate(
              () -> {
                if (starting.get()) workers.execute(this::startOne);
              },
              0,
              periodMicros,
              TimeUnit.MICROSECONDS);
      ticks.scheduleAtFixedRate(
          () -> {
            for (String id : services) {
              AtomicBoolean busy = heartbeatInFlight.get(id);
              // One heartbeat per service at a time, as a real client would.
              if (busy.compareAndSet(false, true)) heartbeats.execute(() -> heartbeat(id, busy));
            }
          },
          0,
          1,
          TimeUnit.SECONDS);
    }

    /** No more starts; returns once every start under way has been acknowledged or refused. */
    void stopStarting() throws InterruptedException {
      starting.set(false);
      if (startTick != null) startTick.cancel(false);
      workers.shutdown();
      assertThat(workers.awaitTermination(START_RETRY_WINDOW.toSeconds() + 30, TimeUnit.SECONDS))
          .as(context("starts under way finish"))
          .isTrue();
    }

    void stop() {
      starting.set(false);
      ticks.shutdownNow();
      workers.shutdownNow();
      heartbeats.shutdownNow();
    }

    long longestHeartbeatGap() {
      return longestGap.values().stream().mapToLong(Long::longValue).max().orElse(0);
    }

    private int nextNode() {
      for (int tries = 0; tries < NODES * 2; tries++) {
        int n = Math.floorMod(roundRobin.getAndIncrement(), NODES);
        if (inRotation.contains(n)) return n;
      }
      return Math.floorMod(roundRobin.getAndIncrement(), NODES);
    }

    private void startOne() {
      int n = next.getAndIncrement();
      boolean example = n % 2 == 0;
      String id = "cl-" + n;
      String body = example ? exampleBody(id, n) : sequenceBody(id, n);
      Instant giveUp = Instant.now().plus(START_RETRY_WINDOW);
      boolean first = true;
      while (Instant.now().isBefore(giveUp) && !Thread.currentThread().isInterrupted()) {
        if (!first) startRetries.incrementAndGet();
        first = false;
        try {
          HttpResponse<String> r =
              send(nextNode(), "POST", "/api/v1/workflows", body, Duration.ofSeconds(20));
          if (r.statusCode() == 201 || r.statusCode() == 200) {
            acknowledged.put(id, example ? "example" : "http-sequence");
            return;
          }
          if (r.statusCode() != 503) {
            refused.incrementAndGet();
            System.out.println(
                "[ClusterFailoverIT] start "
                    + id
                    + " answered "
                    + r.statusCode()
                    + ": "
                    + r.body());
            return;
          }
        } catch (IOException retry) {
          // Refused connection (node down) or timeout: next node.
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
        sleep(200);
      }
      refused.incrementAndGet();
    }

    private void heartbeat(String id, AtomicBoolean busy) {
      try {
        for (int attempt = 0; attempt < 2; attempt++) {
          try {
            HttpResponse<String> r =
                send(
                    nextNode(),
                    "POST",
                    "/api/v1/services/" + id + "/heartbeat",
                    "{\"status\":\"healthy\"}",
                    Duration.ofSeconds(4));
            if (r.statusCode() == 200) {
              Instant now = Instant.now();
              Instant previous = lastHeartbeatAck.put(id, now);
              if (previous != null)
                longestGap.merge(id, Duration.between(previous, now).toMillis(), Math::max);
              heartbeatsAcked.incrementAndGet();
              return;
            }
          } catch (IOException retry) {
            // Next node.
          }
        }
        heartbeatsFailed.incrementAndGet();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        busy.set(false);
      }
    }

    /** Long-polls every acknowledged workflow until it is final (or the deadline passes). */
    Map<String, JsonNode> awaitAllFinal(Instant until) throws Exception {
      Map<String, JsonNode> finals = new ConcurrentHashMap<>();
      ExecutorService pool = Executors.newFixedThreadPool(8, daemon("cluster-it-await"));
      try {
        List<Future<?>> polls = new ArrayList<>();
        for (String id : acknowledged.keySet()) {
          polls.add(
              pool.submit(
                  () -> {
                    while (Instant.now().isBefore(until)) {
                      try {
                        HttpResponse<String> r =
                            send(
                                anyNode(),
                                "GET",
                                "/api/v1/workflows/" + id + "?wait=PT20S",
                                null,
                                Duration.ofSeconds(35));
                        if (r.statusCode() == 200) {
                          JsonNode e = JSON.readTree(r.body());
                          String status = e.path("status").asText();
                          if (status.equals("completed")
                              || status.equals("failed")
                              || status.equals("cancelled")) {
                            finals.put(id, e);
                            return null;
                          }
                        }
                      } catch (IOException retry) {
                        // Ask again.
                      }
                      Thread.sleep(200);
                    }
                    return null;
                  }));
        }
        for (Future<?> p : polls)
          p.get(Duration.between(Instant.now(), until).toMillis() + 60_000, TimeUnit.MILLISECONDS);
      } finally {
        pool.shutdownNow();
      }
      List<String> notFinal =
          acknowledged.keySet().stream().filter(id -> !finals.containsKey(id)).sorted().toList();
      assertThat(notFinal).as(context("workflows not final within " + COMPLETE_DEADLINE)).isEmpty();
      return finals;
    }

    private String exampleBody(String id, int n) {
      ObjectNode body = JSON.createObjectNode();
      body.put("workflow", "example");
      body.put("id", id);
      body.putObject("input").put("userId", "u-" + n).put("action", "cluster-it");
      return body.toString();
    }

    private String sequenceBody(String id, int n) {
      ObjectNode body = JSON.createObjectNode();
      body.put("workflow", "http-sequence");
      body.put("id", id);
      ArrayNode steps = body.putObject("input").putArray("steps");
      ObjectNode reserve = steps.addObject();
      reserve.put("name", "reserve");
      ObjectNode reserveRequest = reserve.putObject("request");
      reserveRequest.put("method", "POST");
      reserveRequest.put("url", stub.url("/work?ms=500"));
      reserveRequest.putObject("body").put("n", n);
      reserveRequest.put("timeoutSeconds", 60);
      steps.addObject().put("name", "pause").put("sleep", "PT1S");
      ObjectNode ship = steps.addObject();
      ship.put("name", "ship");
      ObjectNode shipRequest = ship.putObject("request");
      shipRequest.put("method", "POST");
      shipRequest.put("url", stub.url("/work?ms=1500"));
      shipRequest.put("timeoutSeconds", 60);
      return body.toString();
    }

    private void sleep(long millis) {
      try {
        Thread.sleep(millis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  // ---------------------------------------------------------------- the service the workflows call

  /** {@code /work?ms=N} answers 200 after N ms and records each call's idempotency key and time. */
  private static final class Stub {
    record Call(String key, Instant at) {}

    final ConcurrentLinkedQueue<Call> calls = new ConcurrentLinkedQueue<>();
    private final HttpServer server;
    private final ExecutorService executor;

    private Stub(HttpServer server, ExecutorService executor) {
      this.server = server;
      this.executor = executor;
    }

    static Stub start() throws IOException {
      HttpServer server =
          HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 100);
      ExecutorService executor = Executors.newCachedThreadPool(daemon("cluster-it-stub"));
      Stub stub = new Stub(server, executor);
      server.createContext("/work", stub::work);
      server.setExecutor(executor);
      server.start();
      return stub;
    }

    String url(String path) {
      return "http://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    /** The first call after {@code instant} of a key that was also called before it. */
    Instant firstRepeatAfter(Instant instant) {
      Set<String> before = new java.util.HashSet<>();
      for (Call c : calls) if (c.at.isBefore(instant)) before.add(c.key);
      Instant first = null;
      for (Call c : calls) {
        if (!c.at.isBefore(instant)
            && before.contains(c.key)
            && (first == null || c.at.isBefore(first))) first = c.at;
      }
      return first;
    }

    private void work(HttpExchange exchange) throws IOException {
      calls.add(
          new Call(
              String.valueOf(exchange.getRequestHeaders().getFirst("Idempotency-Key")),
              Instant.now()));
      try (InputStream in = exchange.getRequestBody()) {
        in.readAllBytes();
      }
      String query = exchange.getRequestURI().getQuery();
      long ms = query != null && query.startsWith("ms=") ? Long.parseLong(query.substring(3)) : 0;
      try {
        Thread.sleep(ms);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      byte[] bytes = "{\"ok\":true}".getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "application/json");
      try {
        exchange.sendResponseHeaders(200, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(bytes);
        }
      } catch (IOException callerGone) {
        exchange.close();
      }
    }

    void stop() {
      server.stop(0);
      executor.shutdownNow();
    }
  }
}
