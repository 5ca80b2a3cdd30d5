package dev.keel.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.bench.host.NetworkNamespaces;
import dev.keel.bench.host.PrivatePostgres;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Real partitions: three nodes, each a child JVM in a network namespace of its own, and a private
 * PostgreSQL in a fourth ({@link NetworkNamespaces}, {@link PrivatePostgres}), under a light
 * workflow load sent through nodes 1 and 2 (the majority), on a machine kept busy by a {@link
 * CpuBurner} once the nodes are Up.
 *
 * <ol>
 *   <li><b>Node 3 cut off from nodes 1 and 2</b> (it still reaches the database: the case where a
 *       second writer would do harm), held past {@code --downing-stable-after} ({@value
 *       #STABLE_AFTER}) plus a margin: node 3 downs itself and exits, the majority shows two
 *       members and keeps completing workflows, also those started after the cut. Healed, node 3 is
 *       started again and rejoins: three Up members.
 *   <li><b>Node 3 cut off from the database only</b> (it still reaches the other nodes), as long:
 *       no one is downed, nothing answers 500, and once healed the cluster has three Up members and
 *       goes on.
 * </ol>
 *
 * <p>Throughout, no entity is live on two nodes: the journal's lease epoch never changes, no node
 * logs {@code cluster forming} after the first, and every acknowledged workflow completes with each
 * step recorded once in its history. Step bodies that ran twice (an attempt in flight at the cut)
 * are counted and printed, as are the timings. Needs root and iproute2; skipped without them unless
 * {@code KEEL_REQUIRE_POSTGRES=1}. Logs: {@code target/partition-it/}.
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class NetworkPartitionIT {

  private static final String TOKEN = "partition-it-admin-token-0123456789";
  private static final List<String> NODES = List.of("node-1", "node-2", "node-3");
  private static final String MINORITY = "node-3";
  private static final String STABLE_AFTER = "4s";

  /** Held past the resolver's decision by this much, so that a wrong decision would show. */
  private static final Duration HOLD = Duration.ofSeconds(4 + 8);

  private static final Duration PHASE_DEADLINE = Duration.ofSeconds(90);
  // Each host has a network of its own, so fixed ports collide with nothing on the machine.
  private static final int HTTP_PORT = 8080;
  private static final int CLUSTER_PORT = 25520;
  private static final int PG_PORT = 54320;
  private static final double STARTS_PER_SECOND = 3;
  private static final Path LOG_DIR = Path.of("target", "partition-it").toAbsolutePath();
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Several JVMs starting at once on a machine kept busy by other builds take their time. */
  private static final Duration READY_DEADLINE = Duration.ofSeconds(180);

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
  private final List<String> timings = new CopyOnWriteArrayList<>();

  /** Every node process this test started, restarted ones included, for the log checks. */
  private final List<KeelChildProcess> started = new CopyOnWriteArrayList<>();

  private final KeelChildProcess[] nodes = new KeelChildProcess[NODES.size()];
  private NetworkNamespaces net;
  private PrivatePostgres postgres;
  private ChildNodes children;
  private CallCountingService target;
  private WorkflowLoad load;
  private CpuBurner burner;

  @AfterEach
  void tearDown() {
    if (burner != null) burner.close();
    if (load != null) load.close();
    if (children != null) children.close();
    if (target != null) target.close();
    if (postgres != null) postgres.close();
    if (net != null) net.close();
    System.out.println("[NetworkPartitionIT] timings: " + String.join(", ", timings));
  }

  @Test
  void
      partitionOfOneNodeFromTwo_thenOfTheDatabaseFromIt_heldPastTheResolver_thenHealed_oneWriterNothingLost()
          throws Exception {
    HostAssumptions.networkNamespaces();
    HostAssumptions.privatePostgres("");
    Instant t0 = Instant.now();
    List<String> hosts = new ArrayList<>(List.of("db"));
    hosts.addAll(NODES);
    net = HostAssumptions.namespaces(hosts);
    postgres =
        PrivatePostgres.start(
            net.inside("db"), net.address("db"), PG_PORT, List.of(net.cidr()), false);
    postgres.createDatabase("keel");
    children = new ChildNodes("keel-partition-it-");
    target = new CallCountingService(net.rootAddress());
    timings.add("namespaces and PostgreSQL " + ms(t0));

    for (int i = 0; i < nodes.length; i++) nodes[i] = startNode(i, "");
    for (int i = 0; i < nodes.length; i++) awaitReadyOrStartAgain(i, "");
    awaitUpMembers(0, 3);
    timings.add("3 nodes ready and Up " + ms(t0));
    long epoch = leaseEpoch();
    // From here to the end, the machine is kept busy (the nodes' start needs none, and CI's time
    // counts).
    burner = CpuBurner.start();
    timings.add("CPU burner threads " + burner.threads());

    List<KeelChildProcess> majority = List.of(nodes[0], nodes[1]);
    load = new WorkflowLoad(TOKEN, "part", STARTS_PER_SECOND, () -> majority, target);
    load.start();
    Thread.sleep(6_000);

    // ---- 1. node 3 cut off from nodes 1 and 2, still reaching the database
    int firstAfterCut = load.nextNumber();
    Instant cut = Instant.now();
    net.cut(MINORITY, "node-1", "node-2");
    Instant exited = null;
    Instant twoMembers = null;
    Instant completedAfterCut = null;
    while (since(cut).compareTo(PHASE_DEADLINE) < 0
        && (exited == null
            || twoMembers == null
            || completedAfterCut == null
            || since(cut).compareTo(HOLD) < 0)) {
      if (exited == null && !nodes[2].process.isAlive()) exited = Instant.now();
      if (twoMembers == null && upMembers(0) == 2) twoMembers = Instant.now();
      if (completedAfterCut == null && anyCompleted(firstAfterCut))
        completedAfterCut = Instant.now();
      Thread.sleep(250);
    }
    timings.add(
        "cut -> node 3 exited "
            + after(cut, exited)
            + (exited == null ? "" : " (exit code " + nodes[2].process.exitValue() + ")"));
    timings.add("cut -> majority shows 2 members " + after(cut, twoMembers));
    timings.add(
        "cut -> a workflow started after the cut completed " + after(cut, completedAfterCut));
    assertThat(exited)
        .as(context("node 3, cut off from the majority, downed itself and exited"))
        .isNotNull();
    assertThat(twoMembers)
        .as(context("nodes 1 and 2 removed node 3 and went on as two"))
        .isNotNull();
    assertThat(completedAfterCut)
        .as(context("the majority completed workflows started after the cut"))
        .isNotNull();
    assertThat(nodes[0].process.isAlive() && nodes[1].process.isAlive())
        .as(context("the majority lives on"))
        .isTrue();
    String decision =
        nodes[2]
            .stdoutText()
            .lines()
            .filter(l -> l.contains("SBR took decision"))
            .findFirst()
            .orElse("none");
    System.out.println("[NetworkPartitionIT] node 3's split-brain resolver: " + decision);
    assertThat(decision)
        .as(context("node 3's own resolver downed it (keep-majority)"))
        .contains("including myself");

    Instant healed = Instant.now();
    net.heal();
    nodes[2] = startNode(2, "-restarted");
    awaitReadyOrStartAgain(2, "-restarted");
    awaitUpMembers(0, 3);
    timings.add("heal -> node 3 restarted, ready, 3 Up members " + ms(healed));

    // ---- 2. node 3 cut off from the database only, still reaching nodes 1 and 2
    Instant dbCut = Instant.now();
    net.cut(MINORITY, "db");
    Thread.sleep(HOLD.toMillis());
    int upDuringDbCut = upMembers(0);
    boolean aliveThrough = nodes[2].process.isAlive();
    Instant dbHealed = Instant.now();
    net.heal();
    timings.add(
        "database cut from node 3 for "
            + Duration.between(dbCut, dbHealed).toMillis()
            + " ms: node 3 "
            + (aliveThrough ? "stayed" : "exited")
            + ", majority saw "
            + upDuringDbCut
            + " Up members");
    assertThat(aliveThrough)
        .as(context("node 3 is not downed for losing the database only"))
        .isTrue();
    nodes[2].awaitReady(http, READY_DEADLINE);
    awaitUpMembers(0, 3);
    timings.add("database heal -> node 3 ready, 3 Up members " + ms(dbHealed));

    // ---- the outcome: nothing lost, nothing twice, one writer
    Thread.sleep(3_000);
    load.stopStarting();
    Instant verifying = Instant.now();
    List<String> problems = load.verify(verifying.plusSeconds(120));
    timings.add("all acknowledged final and checked " + ms(verifying));
    long completedDuringPartition =
        load.completedAt.entrySet().stream()
            .filter(
                e ->
                    WorkflowLoad.number(e.getKey()) >= firstAfterCut
                        && e.getValue().isBefore(healed))
            .count();
    System.out.println(
        "[NetworkPartitionIT] acknowledged="
            + load.acknowledged.size()
            + " not acknowledged="
            + load.notAcknowledged.get()
            + " start retries="
            + load.startRetries.get()
            + " 503 answers="
            + load.unavailableAnswers.size()
            + " started after the cut and completed before the heal="
            + completedDuringPartition
            + " target calls="
            + target.calls()
            + " step bodies run more than once="
            + target.repeatedKeys());

    assertThat(problems)
        .as(context("every acknowledged workflow completed, each step recorded once"))
        .isEmpty();
    assertThat(load.notAcknowledged.get())
        .as(context("starts given up after retrying for 2 minutes"))
        .isZero();
    assertThat(List.copyOf(load.breaches))
        .as(context("no 500; every 503 a problem document with Retry-After"))
        .isEmpty();
    assertThat(leaseEpoch())
        .as(context("the journal's lease epoch: one cluster all along"))
        .isEqualTo(epoch);
    List<String> formed = new ArrayList<>();
    for (KeelChildProcess node : started) {
      node.stdoutText()
          .lines()
          .filter(l -> l.contains("cluster forming"))
          .forEach(l -> formed.add(node.name + ": " + l));
    }
    assertThat(formed)
        .as(context("exactly one cluster formed, by the first seed node at the start"))
        .hasSize(1);
    assertThat(formed.get(0)).startsWith("node-1: ");
  }

  // ---------------------------------------------------------------- nodes and their views

  private KeelChildProcess startNode(int i, String suffix) throws IOException {
    String host = NODES.get(i);
    StringBuilder seeds = new StringBuilder();
    for (String n : NODES)
      seeds
          .append(seeds.length() == 0 ? "" : ",")
          .append(net.address(n))
          .append(':')
          .append(CLUSTER_PORT);
    List<String> args =
        List.of(
            "--host",
            net.address(host),
            "--http-port",
            Integer.toString(HTTP_PORT),
            "--cluster-port",
            Integer.toString(CLUSTER_PORT),
            "--seed-nodes",
            seeds.toString(),
            "--downing-stable-after",
            STABLE_AFTER,
            "--data-dir",
            children.tempDir().resolve(host + suffix).toString(),
            "--database-url",
            postgres.jdbcUrl("keel"),
            "--database-user",
            "postgres");
    KeelChildProcess node =
        children.track(
            KeelChildProcess.start(
                LOG_DIR,
                host + suffix,
                net.inside(host),
                "server",
                args,
                Map.of("KEEL_ADMIN_TOKEN", TOKEN),
                net.address(host),
                HTTP_PORT));
    started.add(node);
    return node;
  }

  /**
   * Until node {@code i} is ready. A node the cluster downed while it was joining (on a starved
   * machine its heartbeats can stall past the short {@value #STABLE_AFTER}) is started once more:
   * that is the setting up of the scenario, not the scenario, and its log says so.
   */
  private void awaitReadyOrStartAgain(int i, String suffix) throws Exception {
    try {
      nodes[i].awaitReady(http, READY_DEADLINE);
    } catch (AssertionError notReady) {
      boolean downedWhileJoining =
          !nodes[i].process.isAlive() && nodes[i].stdoutText().contains("SBR took decision");
      if (!downedWhileJoining) throw notReady;
      timings.add(nodes[i].name + " downed while joining (a starved machine), started again");
      nodes[i] = startNode(i, suffix + "-again");
      nodes[i].awaitReady(http, READY_DEADLINE);
    }
  }

  /** Up members in node {@code i}'s view; -1 when it does not answer. */
  private int upMembers(int i) throws InterruptedException {
    try {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(nodes[i].uri("/api/v1/cluster"))
                  .timeout(Duration.ofSeconds(10))
                  .header("Authorization", "Bearer " + TOKEN)
                  .GET()
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) return -1;
      JsonNode members = JSON.readTree(r.body()).path("members");
      int up = 0;
      for (JsonNode m : members) if (m.path("status").asText().equals("up")) up++;
      return up == members.size() ? up : -1;
    } catch (IOException notNow) {
      return -1;
    }
  }

  private void awaitUpMembers(int i, int count) throws InterruptedException {
    Instant until = Instant.now().plus(PHASE_DEADLINE);
    while (Instant.now().isBefore(until)) {
      if (upMembers(i) == count) return;
      Thread.sleep(500);
    }
    throw new AssertionError(
        context(NODES.get(i) + " does not see " + count + " Up members within " + PHASE_DEADLINE));
  }

  /**
   * Whether an acknowledged workflow numbered {@code first} or later has completed (asked through
   * node 1).
   */
  private boolean anyCompleted(int first) throws InterruptedException {
    for (String id : load.acknowledged.keySet()) {
      if (WorkflowLoad.number(id) < first) continue;
      try {
        HttpResponse<String> r =
            http.send(
                HttpRequest.newBuilder(nodes[0].uri("/api/v1/workflows/" + id))
                    .timeout(Duration.ofSeconds(5))
                    .header("Authorization", "Bearer " + TOKEN)
                    .GET()
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200
            && JSON.readTree(r.body()).path("status").asText().equals("completed")) return true;
      } catch (IOException notNow) {
        return false;
      }
    }
    return false;
  }

  /** The epoch of the cluster that owns the journal, read from the database directly. */
  private long leaseEpoch() throws Exception {
    try (Connection c = DriverManager.getConnection(postgres.jdbcUrl("keel"), "postgres", "");
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT epoch FROM keel_cluster_lease WHERE id = 1")) {
      assertThat(rs.next()).as("keel_cluster_lease has its row").isTrue();
      return rs.getLong(1);
    }
  }

  private String context(String message) {
    StringBuilder sb = new StringBuilder(message).append("\ntimings: ").append(timings);
    if (load != null) {
      sb.append("\nacknowledged=")
          .append(load.acknowledged.size())
          .append(" not acknowledged=")
          .append(load.notAcknowledged.get())
          .append(" breaches=")
          .append(load.breaches);
    }
    for (KeelChildProcess node : nodes)
      if (node != null) sb.append("\n").append(node.describe("node " + node.name));
    return sb.toString();
  }

  private static Duration since(Instant t) {
    return Duration.between(t, Instant.now());
  }

  private static String ms(Instant since) {
    return since(since).toMillis() + " ms";
  }

  private static String after(Instant from, Instant to) {
    return to == null
        ? "never within " + PHASE_DEADLINE.toSeconds() + " s"
        : Duration.between(from, to).toMillis() + " ms";
  }
}
