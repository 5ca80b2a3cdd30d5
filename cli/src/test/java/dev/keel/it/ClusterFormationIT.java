package dev.keel.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.persistence.TestDatabases;
import java.io.IOException;
import java.net.URI;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * One cluster per journal, whatever the timing (PostgreSQL, three JVMs on 127.0.0.1, a {@link
 * CpuBurner} keeping the machine busy):
 *
 * <ul>
 *   <li>The first seed node is killed with SIGKILL and started again while the two survivors are
 *       stalled with SIGSTOP for longer than Pekko's seed-node timeout (as a long GC pause or a
 *       starved VM would): it must wait for them and join their cluster, never form one of its own
 *       (the lease's epoch does not change), every repetition.
 *   <li>When the survivors stall for longer than the lease timeout, the restarted node forms a new
 *       cluster; the survivors, woken up, find their cluster fenced out of the journal, stop with
 *       exit code 75, and once started again join the new cluster.
 * </ul>
 *
 * Repetitions: {@code -Dkeel.it.formation.repetitions} (default 2); bench/ runs more. Logs: {@code
 * target/formation-it/}.
 */
@Timeout(value = 12, unit = TimeUnit.MINUTES)
class ClusterFormationIT {

  private static final String TOKEN = "formation-it-admin-token-0123456789";
  private static final int NODES = 3;
  private static final Path LOG_DIR = Path.of("target", "formation-it").toAbsolutePath();
  private static final Duration STALL = Duration.ofSeconds(10);

  /** Three JVMs starting beside a CPU burner on two cores take their time. */
  private static final Duration READY = Duration.ofSeconds(240);

  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
  private ChildNodes children;
  private TestDatabases.FreshPostgres postgres;
  private int[] httpPorts;
  private int[] clusterPorts;
  private final KeelChildProcess[] nodes = new KeelChildProcess[NODES];
  private CpuBurner burner;

  @BeforeEach
  void setUp() throws IOException {
    postgres = TestDatabases.freshPostgres();
    children = new ChildNodes("keel-formation-it-");
    httpPorts = new int[NODES];
    clusterPorts = new int[NODES];
    for (int i = 0; i < NODES; i++) {
      httpPorts[i] = KeelChildProcess.freePort();
      clusterPorts[i] = KeelChildProcess.freePort();
    }
    // Busy from the start: the slow machine the first seed node used to give up on.
    burner = CpuBurner.start();
  }

  @AfterEach
  void tearDown() {
    if (burner != null) burner.close();
    for (KeelChildProcess node : nodes) {
      if (node != null) signal(node, "CONT");
    }
    if (children != null) children.close();
    if (postgres != null) postgres.close();
  }

  @Test
  void aRestartedFirstSeedNodeJoinsStalledSurvivors_neverFormsASecondCluster() throws Exception {
    startAll("", 20);
    long epoch = leaseEpoch();
    int repetitions = Integer.getInteger("keel.it.formation.repetitions", 2);
    for (int r = 1; r <= repetitions; r++) {
      String run = "-r" + r;
      nodes[0].close();
      nodes[0] = startNode(0, run, 20);
      awaitLog(nodes[0], "cluster formation discovery=none", READY);
      signal(nodes[1], "STOP");
      signal(nodes[2], "STOP");
      Thread.sleep(STALL.toMillis());
      signal(nodes[1], "CONT");
      signal(nodes[2], "CONT");
      nodes[0].awaitReady(http, READY);
      awaitUpMembers(0, NODES, Duration.ofSeconds(120));
      awaitUpMembers(1, NODES, Duration.ofSeconds(60));
      assertThat(nodes[0].stdoutText())
          .as(nodes[0].describe("repetition " + r + ": the restarted first seed node"))
          .doesNotContain("cluster forming")
          .doesNotContain("JOINING itself");
      assertThat(leaseEpoch())
          .as("repetition " + r + ": the journal still belongs to the first cluster")
          .isEqualTo(epoch);
      for (KeelChildProcess node : nodes) {
        assertThat(node.process.isAlive())
            .as(node.describe("repetition " + r + ": node " + node.name))
            .isTrue();
      }
    }
  }

  @Test
  void survivorsStalledPastTheLeaseTimeoutAreFencedOut_andJoinTheNewClusterWhenStartedAgain()
      throws Exception {
    String leaseTimeout = "6";
    startAll("", Integer.parseInt(leaseTimeout));
    long epoch = leaseEpoch();
    signal(nodes[1], "STOP");
    signal(nodes[2], "STOP");
    nodes[0].close();
    nodes[0] = startNode(0, "-alone", Integer.parseInt(leaseTimeout));
    awaitLog(nodes[0], "cluster forming epoch=" + (epoch + 1), READY);
    nodes[0].awaitReady(http, READY);
    assertThat(leaseEpoch()).isEqualTo(epoch + 1);

    signal(nodes[1], "CONT");
    signal(nodes[2], "CONT");
    for (int i = 1; i < NODES; i++) {
      int exit = nodes[i].awaitExit(Duration.ofSeconds(120));
      assertThat(exit)
          .as(
              nodes[i].describe(
                  "a fenced node stops with EX_TEMPFAIL, for its supervisor to start it again"))
          .isEqualTo(75);
      // Which of the keeper's two checks notices first depends on timing: its own epoch gone, or
      // the lease held by the newer cluster's epoch. Both fence the node out before it writes.
      assertThat(nodes[i].stdoutText())
          .containsAnyOf(
              "cluster fenced: cluster epoch " + epoch + " no longer owns the journal",
              "cluster fenced: this node's cluster is not the one holding the journal's lease"
                  + " (epoch "
                  + (epoch + 1));
    }
    for (int i = 1; i < NODES; i++)
      nodes[i] = startNode(i, "-again", Integer.parseInt(leaseTimeout));
    for (int i = 1; i < NODES; i++) nodes[i].awaitReady(http, READY);
    awaitUpMembers(0, NODES, Duration.ofSeconds(120));
    assertThat(leaseEpoch()).isEqualTo(epoch + 1);
    // The new cluster writes: a workflow started through a rejoined node completes.
    HttpResponse<String> started =
        send(
            1,
            "POST",
            "/api/v1/workflows?wait=PT60S",
            "{\"workflow\":\"example\",\"id\":\"after-fencing\",\"input\":{\"userId\":\"u-1\",\"action\":\"signup\"}}");
    assertThat(started.statusCode()).as(started.body()).isIn(200, 201);
    assertThat(JSON.readTree(started.body()).path("status").asText())
        .as(started.body())
        .isEqualTo("completed");
  }

  // ---------------------------------------------------------------- nodes

  private void startAll(String suffix, int leaseTimeoutSeconds) throws Exception {
    for (int i = 0; i < NODES; i++) nodes[i] = startNode(i, suffix, leaseTimeoutSeconds);
    for (int i = 0; i < NODES; i++) nodes[i].awaitReady(http, READY);
    awaitUpMembers(0, NODES, Duration.ofSeconds(120));
  }

  private KeelChildProcess startNode(int i, String suffix, int leaseTimeoutSeconds)
      throws IOException {
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
                postgres.settings().user(),
                "--cluster-lease-timeout",
                leaseTimeoutSeconds + "s"));
    Map<String, String> env = new HashMap<>();
    env.put("KEEL_ADMIN_TOKEN", TOKEN);
    if (!postgres.settings().password().isEmpty())
      env.put("KEEL_DATABASE_PASSWORD", postgres.settings().password());
    return children.track(
        KeelChildProcess.start(LOG_DIR, "node-" + (i + 1) + suffix, args, env, httpPorts[i]));
  }

  private static void signal(KeelChildProcess node, String signal) {
    if (!node.process.isAlive()) return;
    try {
      new ProcessBuilder("kill", "-" + signal, Long.toString(node.process.pid()))
          .inheritIO()
          .start()
          .waitFor();
    } catch (IOException e) {
      throw new AssertionError("cannot send SIG" + signal + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void awaitLog(KeelChildProcess node, String text, Duration deadline)
      throws InterruptedException {
    Instant until = Instant.now().plus(deadline);
    while (Instant.now().isBefore(until)) {
      if (node.stdoutText().contains(text)) return;
      if (!node.process.isAlive()) break;
      Thread.sleep(200);
    }
    throw new AssertionError(
        node.describe("node " + node.name + " did not log '" + text + "' within " + deadline));
  }

  private void awaitUpMembers(int node, int count, Duration deadline) throws Exception {
    Instant until = Instant.now().plus(deadline);
    JsonNode last = null;
    while (Instant.now().isBefore(until)) {
      try {
        HttpResponse<String> r = send(node, "GET", "/api/v1/cluster", null);
        if (r.statusCode() == 200) {
          last = JSON.readTree(r.body());
          int up = 0;
          for (JsonNode m : last.path("members")) if (m.path("status").asText().equals("up")) up++;
          if (up == count && last.path("members").size() == count) return;
        }
      } catch (IOException notYet) {
        // Starting or busy: ask again.
      }
      Thread.sleep(500);
    }
    throw new AssertionError(
        nodes[node].describe(
            "node "
                + (node + 1)
                + " does not see "
                + count
                + " Up members within "
                + deadline
                + "; last: "
                + last));
  }

  private HttpResponse<String> send(int node, String method, String path, String body)
      throws IOException, InterruptedException {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPorts[node] + path))
            .timeout(Duration.ofSeconds(90))
            .header("Authorization", "Bearer " + TOKEN);
    if (body == null) {
      b.method(method, HttpRequest.BodyPublishers.noBody());
    } else {
      b.header("Content-Type", "application/json")
          .method(method, HttpRequest.BodyPublishers.ofString(body));
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private long leaseEpoch() throws Exception {
    try (Connection c =
            DriverManager.getConnection(
                postgres.settings().url(),
                postgres.settings().user(),
                postgres.settings().password());
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT f.epoch, l.epoch FROM keel_cluster_fence f, keel_cluster_lease l")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getLong(1)).as("fence and lease agree").isEqualTo(rs.getLong(2));
      return rs.getLong(1);
    }
  }
}
