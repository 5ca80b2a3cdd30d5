package dev.keel.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.bench.host.PrivatePostgres;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A node with a read replica ({@code --database-replica-url}): a primary and a
 * streaming-replication standby of the test's own ({@link PrivatePostgres}). Lists, history and
 * audit come from the replica and say how far behind it is ({@code Keel-Replica-Lag-Ms}); writes go
 * to the primary. With the standby's replay paused, a new execution is missing from the list while
 * the replica is within {@code KEEL_DATABASE_REPLICA_MAX_LAG} (so the list really is the
 * replica's), and present once the replica is further behind (the primary serves it, lag 0); with
 * the standby stopped, the lists still answer from the primary.
 *
 * <p>Needs root and the server binaries (as {@code PostgresRestartIT}). Logs: {@code
 * target/read-replica-it/}.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ReadReplicaIT {

  private static final String TOKEN = "read-replica-it-admin-token-0123456789";
  private static final Path LOG_DIR = Path.of("target", "read-replica-it").toAbsolutePath();
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration MAX_LAG = Duration.ofSeconds(4);

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
  private PrivatePostgres primary;
  private PrivatePostgres standby;
  private ChildNodes children;
  private KeelChildProcess node;

  @AfterEach
  void tearDown() {
    if (children != null) children.close();
    if (standby != null) standby.close();
    if (primary != null) primary.close();
  }

  @Test
  void listsHistoryAndAuditReadTheReplica_sayHowFarBehind_andFallBackToThePrimary()
      throws Exception {
    HostAssumptions.privatePostgres("");
    primary = PrivatePostgres.start("127.0.0.1", KeelChildProcess.freePort(), List.of());
    primary.createDatabase("keel");
    standby = primary.startStandby(KeelChildProcess.freePort());
    children = new ChildNodes("keel-read-replica-it-");
    int httpPort = KeelChildProcess.freePort();
    node =
        children.track(
            KeelChildProcess.start(
                LOG_DIR,
                "node",
                List.of(
                    "--host",
                    "127.0.0.1",
                    "--http-port",
                    Integer.toString(httpPort),
                    "--cluster-port",
                    Integer.toString(KeelChildProcess.freePort()),
                    "--data-dir",
                    children.tempDir().resolve("node").toString(),
                    "--database-url",
                    primary.jdbcUrl("keel"),
                    "--database-user",
                    "postgres",
                    "--database-replica-url",
                    standby.jdbcUrl("keel")),
                Map.of(
                    "KEEL_ADMIN_TOKEN",
                    TOKEN,
                    "KEEL_DATABASE_REPLICA_MAX_LAG",
                    MAX_LAG.toSeconds() + "s"),
                httpPort));
    node.awaitReady(http, Duration.ofSeconds(180));

    // Written to the primary, read from the replica, with the lag said.
    assertThat(completed("rr-1")).isEqualTo("completed");
    HttpResponse<String> listed =
        await("/api/v1/workflows?idPrefix=rr-", r -> ids(r).contains("rr-1"));
    assertThat(lagOf(listed)).isBetween(0L, MAX_LAG.toMillis());
    HttpResponse<String> history = get("/api/v1/workflows/rr-1/history");
    assertThat(history.statusCode()).as(history.body()).isEqualTo(200);
    assertThat(JSON.readTree(history.body()).findValuesAsText("type"))
        .contains("WorkflowCompleted");
    assertThat(lagOf(history)).isGreaterThanOrEqualTo(0);
    HttpResponse<String> audit = get("/api/v1/audit/workflow/rr-1/events");
    assertThat(audit.statusCode()).as(audit.body()).isEqualTo(200);
    assertThat(lagOf(audit)).isGreaterThanOrEqualTo(0);
    // An answer the replica does not serve carries no lag.
    assertThat(get("/api/v1/workflows/rr-1").headers().firstValue("Keel-Replica-Lag-Ms")).isEmpty();

    // The standby stops replaying: a new execution, written to the primary, is not in the
    // replica's list while the replica is within the limit...
    standbySql("SELECT pg_wal_replay_pause()");
    Instant paused = Instant.now();
    assertThat(completed("rr-2")).isEqualTo("completed");
    HttpResponse<String> behind = get("/api/v1/workflows?idPrefix=rr-");
    if (Duration.between(paused, Instant.now()).compareTo(MAX_LAG.minusSeconds(1)) < 0) {
      assertThat(ids(behind)).as("read from the paused replica").doesNotContain("rr-2");
      assertThat(lagOf(behind)).isPositive();
    }
    // ... and in the primary's once the replica is further behind than that.
    HttpResponse<String> fellBack =
        await("/api/v1/workflows?idPrefix=rr-", r -> ids(r).contains("rr-2"));
    assertThat(Duration.between(paused, Instant.now())).isGreaterThanOrEqualTo(MAX_LAG);
    assertThat(lagOf(fellBack)).as("served by the primary").isZero();
    await(
        "/api/v1/workflows?idPrefix=rr-",
        r -> node.stdoutText().contains("read replica not used: it is"));

    // Replaying again, the replica catches up and serves again.
    standbySql("SELECT pg_wal_replay_resume()");
    await(
        "/api/v1/workflows?idPrefix=rr-",
        r ->
            node.stdoutText().lastIndexOf("read replica in use")
                > node.stdoutText().lastIndexOf("read replica not used"));

    // The standby gone: lists still answer, from the primary.
    standby.stopServer("immediate");
    assertThat(completed("rr-3")).isEqualTo("completed");
    HttpResponse<String> withoutReplica =
        await("/api/v1/workflows?idPrefix=rr-", r -> ids(r).contains("rr-3"));
    assertThat(lagOf(withoutReplica)).isZero();
    assertThat(get("/api/v1/workflows/rr-3/history").statusCode()).isEqualTo(200);
    // The probe says so once its connection attempt times out (up to 5 s).
    await(
        "/api/v1/workflows?idPrefix=rr-",
        r -> node.stdoutText().contains("read replica not used: it does not answer"));
  }

  private String completed(String id) throws Exception {
    HttpResponse<String> r =
        http.send(
            request("/api/v1/workflows?wait=PT30S")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"workflow\":\"example\",\"id\":\""
                            + id
                            + "\",\"input\":{\"userId\":\"u-1\",\"action\":\"signup\"}}"))
                .header("Content-Type", "application/json")
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isIn(200, 201);
    return JSON.readTree(r.body()).path("status").asText();
  }

  private HttpResponse<String> await(String path, Predicate<HttpResponse<String>> done)
      throws Exception {
    Instant deadline = Instant.now().plusSeconds(60);
    HttpResponse<String> r = get(path);
    while (!done.test(r)) {
      if (Instant.now().isAfter(deadline))
        throw new AssertionError(
            "GET " + path + " never held; last: " + r.body() + "\n" + node.describe(""));
      Thread.sleep(250);
      r = get(path);
    }
    return r;
  }

  private HttpResponse<String> get(String path) throws Exception {
    return http.send(request(path).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(node.uri(path))
        .timeout(Duration.ofSeconds(40))
        .header("Authorization", "Bearer " + TOKEN);
  }

  private static List<String> ids(HttpResponse<String> r) {
    try {
      JsonNode items = JSON.readTree(r.body()).path("items");
      return items.findValuesAsText("id");
    } catch (Exception e) {
      return List.of();
    }
  }

  private static long lagOf(HttpResponse<String> r) {
    return Long.parseLong(
        r.headers()
            .firstValue("Keel-Replica-Lag-Ms")
            .orElseThrow(() -> new AssertionError("no Keel-Replica-Lag-Ms on " + r.uri())));
  }

  private void standbySql(String sql) throws Exception {
    try (Connection c = DriverManager.getConnection(standby.jdbcUrl("keel"), "postgres", "");
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }
}
