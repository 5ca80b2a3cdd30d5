package dev.keel.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.node.WebhookReceiver;
import dev.keel.node.WebhookReceiver.Received;
import dev.keel.persistence.TestDatabases;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A firing is never lost when its node dies mid-delivery: a service goes stale on node A, its alert
 * fires, and A is killed with SIGKILL as soon as the webhook has answered the first attempt with
 * 500. A new node on the same data (same data dir on H2, same database on PostgreSQL) resumes the
 * delivery by itself, and the webhook gets it, with the same Idempotency-Key and payload, from the
 * one firing there was.
 *
 * <p>Nodes are real {@code java -jar keel.jar server} child processes (see {@link
 * KeelChildProcess}); their output goes to {@code target/alert-crash-it/}.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class AlertDeliveryCrashIT {

  private static final Path LOG_DIR = Path.of("target", "alert-crash-it").toAbsolutePath();
  private static final String TOKEN = "alert-crash-it-admin-token-0123456789";
  private static final Duration FIRST_ATTEMPT = Duration.ofSeconds(30);
  private static final Duration RESUMED = Duration.ofSeconds(120);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private ChildNodes nodes;
  private WebhookReceiver hooks;
  private TestDatabases.FreshPostgres postgres;

  @BeforeEach
  void setUp() throws IOException {
    nodes = new ChildNodes("keel-alert-crash-it-");
    hooks = new WebhookReceiver();
  }

  @AfterEach
  void tearDown() {
    nodes.close();
    hooks.close();
    if (postgres != null) postgres.close();
  }

  @Test
  void h2_aFiringInFlightWhenItsNodeIsKilledIsDeliveredAfterTheRestart() throws Exception {
    Path dataDir = nodes.tempDir().resolve("data");
    crashAndRecover("h2", dataDir, dataDir, List.of());
  }

  @Test
  void postgres_aFiringInFlightWhenItsNodeIsKilledIsDeliveredByANewNode() throws Exception {
    postgres = TestDatabases.freshPostgres();
    List<String> db =
        new ArrayList<>(
            List.of(
                "--database-url", postgres.settings().url(),
                "--database-user", postgres.settings().user()));
    if (!postgres.settings().password().isEmpty())
      db.addAll(List.of("--database-password", postgres.settings().password()));
    // Separate data dirs: everything node B needs must come from the database.
    crashAndRecover(
        "postgres", nodes.tempDir().resolve("data-a"), nodes.tempDir().resolve("data-b"), db);
  }

  private void crashAndRecover(
      String variant, Path dataDirA, Path dataDirB, List<String> databaseArgs) throws Exception {
    hooks.script("/hook", 500);

    // ---- node A: a service that goes stale, an alert on it, the first delivery attempt answered
    // 500
    KeelChildProcess a = startNode(variant + "-A", dataDirA, databaseArgs);
    a.awaitReady(http);
    expect(
        a,
        send(a, "PUT", "/api/v1/services/ingest-1", "{\"type\":\"processor\",\"ttlSeconds\":2}"),
        201);
    expect(
        a,
        send(
            a,
            "PUT",
            "/api/v1/alerts/ingest-down",
            "{\"service\":\"ingest-1\",\"condition\":\"status != healthy\","
                + "\"webhook\":\""
                + hooks.url("/hook?token=s3cr3t")
                + "\",\"cooldownSeconds\":0}"),
        201);
    Received first =
        hooks.await("/hook", r -> !r.isEmpty(), FIRST_ATTEMPT, "got the first attempt").get(0);
    assertThat(first.answered()).isEqualTo(500);

    // ---- kill -9 mid-delivery
    a.process.destroyForcibly();
    assertThat(a.process.waitFor(30, TimeUnit.SECONDS))
        .as(a.describe("node A died after SIGKILL"))
        .isTrue();
    assertThat(a.process.exitValue()).as(a.describe("exit code (128 + SIGKILL)")).isEqualTo(137);
    hooks.script("/hook", 200);

    // ---- node B on the same data: no request about the alert until the webhook got it
    KeelChildProcess b = startNode(variant + "-B", dataDirB, databaseArgs);
    b.awaitReady(http);
    List<Received> all =
        hooks.await(
            "/hook",
            r -> r.stream().anyMatch(x -> x.answered() == 200),
            RESUMED,
            "was delivered after the restart");

    assertThat(all)
        .extracting(Received::idempotencyKey)
        .as(b.describe("one firing, one key"))
        .containsOnly("alert.ingest-down.1");
    assertThat(all)
        .extracting(Received::body)
        .as("the same payload on every attempt")
        .containsOnly(first.body());
    JsonNode payload = JSON.readTree(first.body());
    assertThat(payload.get("alert").asText()).isEqualTo("ingest-down");
    assertThat(payload.get("service").asText()).isEqualTo("ingest-1");
    assertThat(payload.get("status").asText()).isEqualTo("stale");
    assertThat(all.get(all.size() - 1).answered()).isEqualTo(200);

    JsonNode execution =
        await(
            b,
            "/api/v1/workflows/alert.ingest-down.1?wait=PT10S",
            w -> w.path("status").asText().equals("completed"),
            "completed");
    // The attempt cut short by the kill answered 500 before its failure was journaled: a step's
    // start is journaled with its outcome (or once it has run 250 ms), so the history may not count
    // it. The webhook saw it, and the delivery after the restart carried the same key.
    assertThat(all)
        .as(b.describe("the attempt before the kill and one after it"))
        .hasSizeGreaterThanOrEqualTo(2);
    assertThat(execution.path("steps").get(0).path("attempts").asInt())
        .as(b.describe("attempts: " + execution))
        .isBetween(1, all.size());
    JsonNode rule =
        await(
            b,
            "/api/v1/alerts/ingest-down",
            // The firing follows its webhook workflow to the end, across the restart.
            v ->
                v.path("firings").size() == 1
                    && v.path("firings").get(0).path("delivery").asText().equals("delivered"),
            "shows its firing delivered");
    assertThat(rule.path("firingCount").asLong())
        .as(b.describe("the restart fired nothing again: " + rule))
        .isEqualTo(1);
    assertThat(rule.path("triggered")).hasSize(1);
    assertThat(b.stdoutText() + a.stdoutText())
        .as("no secret in the logs")
        .doesNotContain("s3cr3t");
  }

  // ---------------------------------------------------------------- helpers

  private KeelChildProcess startNode(String name, Path dataDir, List<String> databaseArgs)
      throws IOException {
    int port = KeelChildProcess.freePort();
    List<String> args =
        new ArrayList<>(
            List.of(
                "--http-port",
                Integer.toString(port),
                "--cluster-port",
                "0",
                "--data-dir",
                dataDir.toString(),
                "--admin-token",
                TOKEN));
    args.addAll(databaseArgs);
    return nodes.track(KeelChildProcess.start(LOG_DIR, name, args, Map.of(), port));
  }

  private HttpResponse<String> send(KeelChildProcess node, String method, String path, String body)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(node.uri(path))
            .timeout(Duration.ofSeconds(30))
            .header("Authorization", "Bearer " + TOKEN)
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) b.header("Content-Type", "application/json");
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static void expect(KeelChildProcess node, HttpResponse<String> response, int status) {
    assertThat(response.statusCode())
        .as(
            node.describe(
                response.request().method()
                    + " "
                    + response.request().uri()
                    + ": "
                    + response.body()))
        .isEqualTo(status);
  }

  private JsonNode await(KeelChildProcess node, String path, Predicate<JsonNode> until, String what)
      throws Exception {
    long deadline = System.nanoTime() + RESUMED.toNanos();
    JsonNode last = null;
    while (System.nanoTime() < deadline) {
      if (!node.process.isAlive())
        throw new AssertionError(node.describe("node died while waiting: " + path));
      HttpResponse<String> r = send(node, "GET", path, null);
      if (r.statusCode() == 200) {
        last = JSON.readTree(r.body());
        if (until.test(last)) return last;
      }
      Thread.sleep(200);
    }
    throw new AssertionError(node.describe(path + " never " + what + "; last: " + last));
  }
}
