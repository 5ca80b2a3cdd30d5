package dev.keel.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.client.HealthStatus;
import dev.keel.client.KeelApiException;
import dev.keel.client.KeelClient;
import dev.keel.client.ServiceInfo;
import dev.keel.client.ServiceStatus;
import java.io.IOException;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * The client commands run the way people run them: {@code java -jar keel.jar
 * status|health|alert|services ...} as processes against a {@code keel server} child process, with
 * the endpoint from {@code KEEL_ENDPOINT} and the admin token from the node's data directory.
 * Checks output, exit codes (0 done / healthy, 1 Keel said no, 2 could not ask) and that every
 * error is one line on stderr without a stack trace or the token.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class CliIT {

  private static final Path LOG_DIR = Path.of("target", "cli-it").toAbsolutePath();
  private static final Duration RUN_DEADLINE = Duration.ofSeconds(60);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private ChildNodes nodes;
  private KeelChildProcess node;
  private Path dataDir;
  private String token;
  private String endpoint;
  private KeelClient keel;

  /** One finished {@code keel ...} process. */
  record Run(List<String> args, int code, String out, String err) {
    List<String> errLines() {
      return err.lines().filter(l -> !l.isBlank()).toList();
    }

    @Override
    public String toString() {
      return "keel "
          + String.join(" ", args)
          + " → exit "
          + code
          + "\n----- stdout:\n"
          + out
          + "\n----- stderr:\n"
          + err;
    }
  }

  @BeforeAll
  void startNode() throws Exception {
    nodes = new ChildNodes("keel-cli-it-");
    dataDir = nodes.tempDir().resolve("data");
    int port = KeelChildProcess.freePort();
    node =
        nodes.track(
            KeelChildProcess.start(
                LOG_DIR,
                "node",
                List.of(
                    "--http-port",
                    Integer.toString(port),
                    "--cluster-port",
                    "0",
                    "--data-dir",
                    dataDir.toString()),
                Map.of(),
                port));
    node.awaitReady(http);
    token = Files.readString(dataDir.resolve("admin-token")).trim();
    endpoint = "http://127.0.0.1:" + port;
    keel =
        KeelClient.builder()
            .endpoint(endpoint)
            .token(token)
            .serviceId(null)
            .deregisterOnClose(false)
            .build();
  }

  @AfterAll
  void stopNode() {
    if (keel != null) keel.close();
    if (nodes != null) nodes.close();
  }

  @Test
  @Order(1)
  void status_withoutServices_isTheHeaderOnly() throws Exception {
    Run r = keel("status");
    assertThat(r.code()).as(r.toString()).isZero();
    assertThat(r.out()).as(r.toString()).isEqualTo("ID  TYPE  STATUS  UPTIME  LAST HEARTBEAT\n");
    assertClean(r);
  }

  @Test
  @Order(2)
  void status_tableOneServiceAndJson() throws Exception {
    keel.register(
        ServiceInfo.builder("cli-orders")
            .name("Orders")
            .type("processor")
            .endpoint("http://10.0.0.5:8080")
            .metadata("zone", "a")
            .ttlSeconds(300)
            .build());
    keel.heartbeat(
        "cli-orders", HealthStatus.HEALTHY, Map.of("lag_seconds", 1.5), Map.of("db", "ok"));
    awaitListed("cli-orders");

    Run table = keel("status");
    assertThat(table.code()).as(table.toString()).isZero();
    List<String> lines = table.out().lines().toList();
    assertThat(lines.get(0))
        .as(table.toString())
        .matches("ID +TYPE +STATUS +UPTIME +LAST HEARTBEAT");
    assertThat(lines)
        .as(table.toString())
        .anySatisfy(
            l ->
                assertThat(l)
                    .matches(
                        "cli-orders +processor +healthy +\\d+[smhd]\\S* +(\\d+[smhd]\\S* ago|-)"));
    assertClean(table);

    Run one = keel("status", "cli-orders");
    assertThat(one.code()).as(one.toString()).isZero();
    assertThat(one.out())
        .as(one.toString())
        .contains("name              Orders")
        .contains("type              processor")
        .contains("endpoint          http://10.0.0.5:8080")
        .contains("status            healthy")
        .contains("ttl               300s")
        .containsPattern("last heartbeat +\\d+[smhd]\\S* ago")
        .contains("metrics:\n  lag_seconds  1.5\n")
        .contains("details:\n  db  ok\n")
        .contains("metadata:\n  zone  a\n");
    assertClean(one);

    Run json = keel("status", "cli-orders", "--json");
    assertThat(json.code()).as(json.toString()).isZero();
    JsonNode view = JSON.readTree(json.out());
    assertThat(view.get("id").asText()).isEqualTo("cli-orders");
    assertThat(view.get("metrics").get("lag_seconds").asDouble()).isEqualTo(1.5);
    assertThat(view.get("registeredAt").asText())
        .matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");

    Run all = keel("status", "--json");
    assertThat(all.code()).as(all.toString()).isZero();
    JsonNode items = JSON.readTree(all.out()).get("items");
    assertThat(items.findValuesAsText("id")).contains("cli-orders");
  }

  @Test
  @Order(3)
  void health_exitCodeForScripts() throws Exception {
    Run healthy = keel("health", "cli-orders");
    assertThat(healthy.code()).as(healthy.toString()).isZero();
    assertThat(healthy.out()).isEqualTo("healthy\n");
    assertClean(healthy);

    keel.register(
        ServiceInfo.builder("cli-quiet").name("Quiet").type("sink").ttlSeconds(1).build());
    awaitStatus("cli-quiet", ServiceStatus.STALE);
    Run stale = keel("health", "cli-quiet");
    assertThat(stale.code()).as(stale.toString()).isEqualTo(1);
    assertThat(stale.out()).isEqualTo("stale\n");
    assertThat(stale.err()).isEmpty();

    Run unknown = keel("health", "no-such-service");
    assertThat(unknown.code()).as(unknown.toString()).isEqualTo(1);
    assertOneErrorLine(unknown, "keel: 404 Not Found: service 'no-such-service' is not registered");
    assertThat(unknown.out()).isEmpty();

    Run status = keel("status", "no-such-service");
    assertThat(status.code()).as(status.toString()).isEqualTo(1);
    assertOneErrorLine(status, "keel: 404 Not Found: service 'no-such-service'");
  }

  @Test
  @Order(4)
  void alerts_createListDeleteAndABadCondition() throws Exception {
    Assumptions.assumeTrue(
        alertRoutesExist(),
        "the alert routes (PUT/GET/DELETE /api/v1/alerts) are not on this build yet: alert commands"
            + " not exercised");

    Run created =
        keel(
            "alert",
            "create",
            "cli-down",
            "--service",
            "cli-orders",
            "--condition",
            "status != healthy",
            "--webhook",
            "http://127.0.0.1:9/hook",
            "--cooldown",
            "120");
    assertThat(created.code()).as(created.toString()).isZero();
    assertThat(created.out())
        .as(created.toString())
        .startsWith("alert cli-down saved: when cli-orders has status != healthy");
    assertClean(created);

    // The list is a projection: it trails the rule entity by a moment.
    Run list = keelUntil(r -> r.out().contains("cli-down"), "alert", "list");
    assertThat(list.code()).as(list.toString()).isZero();
    assertThat(list.out().lines().toList().get(0))
        .matches("ID +SERVICE +CONDITION +WEBHOOK +COOLDOWN +LAST FIRED");
    assertThat(list.out())
        .as(list.toString())
        .containsPattern(
            "cli-down +cli-orders +status != healthy +http://127.0.0.1:9/hook +120s +-");
    Run listJson = keel("alert", "list", "--json");
    assertThat(listJson.code()).as(listJson.toString()).isZero();
    assertThat(JSON.readTree(listJson.out()).get("items").findValuesAsText("id"))
        .contains("cli-down");

    Run bad =
        keel(
            "alert",
            "create",
            "cli-bad",
            "--service",
            "*",
            "--condition",
            "status ~~ sideways",
            "--webhook",
            "ftp://example.com/x");
    assertThat(bad.code()).as(bad.toString()).isEqualTo(1);
    assertOneErrorLine(bad, "keel: 400 ");
    assertThat(bad.err()).as(bad.toString()).contains("condition: ").contains("webhook: ");

    Run deleted = keel("alert", "delete", "cli-down");
    assertThat(deleted.code()).as(deleted.toString()).isZero();
    assertThat(deleted.out()).isEqualTo("alert cli-down deleted\n");
    Run again = keelUntil(r -> !r.out().contains("cli-down"), "alert", "list");
    assertThat(again.out()).doesNotContain("cli-down");
  }

  @Test
  @Order(5)
  void audit_eventsAndStateAsOf() throws Exception {
    java.time.Instant now = java.time.Instant.now();
    Run events = keel("audit", "events", "service/cli-orders");
    assertThat(events.code()).as(events.toString()).isZero();
    List<String> lines = events.out().lines().toList();
    assertThat(lines.get(0)).as(events.toString()).matches("SEQ +TIME +TYPE +DATA");
    assertThat(lines.get(1))
        .as(events.toString())
        .matches("1 +\\d{4}-\\d\\d-\\d\\dT\\S+Z +ServiceRegistered +\\{\"def\":\\{.*");
    assertClean(events);
    Run eventsJson =
        keel("audit", "events", "service/cli-orders", "--json", "--to", now.toString());
    assertThat(eventsJson.code()).as(eventsJson.toString()).isZero();
    assertThat(JSON.readTree(eventsJson.out()).get(0).get("type").asText())
        .isEqualTo("ServiceRegistered");
    assertThat(JSON.readTree(eventsJson.out()).get(0).get("data").get("def").get("name").asText())
        .isEqualTo("Orders");

    Run state = keel("audit", "state", "service/cli-orders", "--as-of", now.toString());
    assertThat(state.code()).as(state.toString()).isZero();
    assertThat(state.out())
        .as(state.toString())
        .startsWith("service/cli-orders as of " + now + ":\n{\n");
    assertThat(
            JSON.readTree(state.out().substring(state.out().indexOf('\n') + 1))
                .get("endpoint")
                .asText())
        .isEqualTo("http://10.0.0.5:8080");
    assertClean(state);
    Run stateJson =
        keel("audit", "state", "service/cli-orders", "--as-of", now.toString(), "--json");
    assertThat(JSON.readTree(stateJson.out()).get("id").asText())
        .as(stateJson.toString())
        .isEqualTo("cli-orders");

    Run before = keel("audit", "state", "service/cli-orders", "--as-of", "2000-01-01T00:00:00Z");
    assertThat(before.code()).as(before.toString()).isEqualTo(1);
    assertOneErrorLine(
        before, "keel: 404 Not Found: service 'cli-orders' did not exist at 2000-01-01T00:00:00Z");
    Run unknownType = keel("audit", "events", "spaceship/x");
    assertThat(unknownType.code()).as(unknownType.toString()).isEqualTo(1);
    assertOneErrorLine(unknownType, "keel: 404 Not Found: no entity type 'spaceship'");
    Run notTypeAndId = keel("audit", "events", "cli-orders");
    assertThat(notTypeAndId.code()).as(notTypeAndId.toString()).isEqualTo(2);
    assertOneErrorLine(notTypeAndId, "keel: 'cli-orders' is not TYPE/ID");
    Run noAsOf = keel("audit", "state", "service/cli-orders");
    assertThat(noAsOf.code()).as(noAsOf.toString()).isEqualTo(2);
    assertOneErrorLine(noAsOf, "keel: Missing required option: '--as-of=INSTANT'");
    Run badInstant = keel("audit", "state", "service/cli-orders", "--as-of", "yesterday");
    assertThat(badInstant.code()).as(badInstant.toString()).isEqualTo(2);
    assertOneErrorLine(
        badInstant,
        "keel: Invalid value for option '--as-of': 'yesterday' is not an ISO-8601 instant");
  }

  @Test
  @Order(6)
  void servicesDeregister() throws Exception {
    Run done = keel("services", "deregister", "cli-orders");
    assertThat(done.code()).as(done.toString()).isZero();
    assertThat(done.out()).isEqualTo("service cli-orders deregistered\n");
    assertClean(done);
    Run health = keel("health", "cli-orders");
    assertThat(health.code()).as(health.toString()).isEqualTo(1);
    assertOneErrorLine(health, "keel: 404 Not Found: service 'cli-orders'");

    Run unknown = keel("services", "deregister", "never-registered");
    assertThat(unknown.code()).as(unknown.toString()).isEqualTo(1);
    assertOneErrorLine(unknown, "keel: 404 Not Found: service 'never-registered'");
  }

  @Test
  @Order(7)
  void keys_aViewerKeyReadsIsRefusedChangesAndStopsWhenRevoked() throws Exception {
    Run created = keel("keys", "create", "cli-wallboard", "--role", "viewer", "--expires", "P30D");
    assertThat(created.code()).as(created.toString()).isZero();
    List<String> lines = created.out().lines().toList();
    assertThat(lines).as(created.toString()).hasSize(2);
    assertThat(lines.get(0))
        .matches("key \\S+ \\(cli-wallboard, viewer, cluster-wide, expires \\S+\\) created\\..*");
    String keyId = lines.get(0).split(" ")[1];
    String secret = lines.get(1);
    assertThat(secret).isNotBlank().doesNotContain(" ");
    assertClean(created);

    Map<String, String> asViewer = Map.of("KEEL_ENDPOINT", endpoint, "KEEL_TOKEN", secret);
    Run reads = run(List.of("status"), asViewer);
    assertThat(reads.code()).as(reads.toString()).isZero();
    Run writes =
        run(
            List.of(
                "alert",
                "create",
                "cli-viewer",
                "--service",
                "*",
                "--condition",
                "status != healthy",
                "--webhook",
                "http://127.0.0.1:9/hook"),
            asViewer);
    assertThat(writes.code()).as(writes.toString()).isEqualTo(2);
    assertOneErrorLine(writes, "keel: 403 ");
    assertThat(writes.err()).doesNotContain(secret);

    Run list = keel("keys", "list");
    assertThat(list.code()).as(list.toString()).isZero();
    assertThat(list.out().lines().toList().get(0))
        .matches("ID +NAME +ROLE +STATUS +EXPIRES +CREATED");
    assertThat(list.out()).containsPattern(keyId + " +cli-wallboard +viewer +active ");
    assertThat(list.out()).doesNotContain(secret);

    Run revoked = keel("keys", "revoke", keyId);
    assertThat(revoked.code()).as(revoked.toString()).isZero();
    assertThat(revoked.out()).isEqualTo("key " + keyId + " (cluster-wide) revoked\n");
    Run refused = run(List.of("status"), asViewer);
    assertThat(refused.code()).as(refused.toString()).isEqualTo(2);
    assertOneErrorLine(refused, "keel: 401 ");
    assertThat(keel("keys", "list").out())
        .containsPattern(keyId + " +cli-wallboard +viewer +revoked ");

    Run badRole = keel("keys", "create", "cli-root", "--role", "superuser");
    assertThat(badRole.code()).as(badRole.toString()).isEqualTo(1);
    assertOneErrorLine(badRole, "keel: 400 ");
    Run badExpiry = keel("keys", "create", "cli-soon", "--role", "viewer", "--expires", "tomorrow");
    assertThat(badExpiry.code()).as(badExpiry.toString()).isEqualTo(2);
    assertOneErrorLine(badExpiry, "keel: --expires: 'tomorrow' is neither an instant");
  }

  @Test
  @Order(8)
  void usageAndTokenProblems_areOneLineExit2() throws Exception {
    Run missing = keel("alert", "create", "x", "--service", "*");
    assertThat(missing.code()).as(missing.toString()).isEqualTo(2);
    assertOneErrorLine(missing, "keel: Missing required option");
    assertThat(missing.err()).contains("(see keel alert create --help)");

    Run typo = keel("stauts");
    assertThat(typo.code()).as(typo.toString()).isEqualTo(2);
    assertOneErrorLine(typo, "keel: ");
    assertThat(typo.err()).contains("stauts").contains("(see keel --help)");

    Run badId = keel("health", "not/an id");
    assertThat(badId.code()).as(badId.toString()).isEqualTo(1);
    assertOneErrorLine(badId, "keel: service id 'not/an id' is not valid");

    Path empty = Files.createDirectories(nodes.tempDir().resolve("empty-data"));
    Run noToken =
        run(
            List.of("status"),
            Map.of("KEEL_ENDPOINT", endpoint, "KEEL_DATA_DIR", empty.toString()));
    assertThat(noToken.code()).as(noToken.toString()).isEqualTo(2);
    assertOneErrorLine(noToken, "keel: no token: pass --token or set KEEL_TOKEN");

    Run wrongToken =
        run(
            List.of("status", "--token", "wrong-token-0123456789"),
            Map.of("KEEL_ENDPOINT", endpoint));
    assertThat(wrongToken.code()).as(wrongToken.toString()).isEqualTo(2);
    assertOneErrorLine(wrongToken, "keel: 401 Unauthorized");
    assertThat(wrongToken.err()).doesNotContain("wrong-token-0123456789");

    Run help = keel("health", "--help");
    assertThat(help.code()).as(help.toString()).isZero();
    assertThat(help.out()).contains("Exit codes:").contains("the service is healthy");
  }

  @Test
  @Order(9)
  void nodeDown_isAOneLineConnectionError_exit2() throws Exception {
    node.close();
    Run status = keel("status");
    assertThat(status.code()).as(status.toString()).isEqualTo(2);
    assertOneErrorLine(status, "keel: cannot reach Keel at " + endpoint + ": connection refused");
    Run health = keel("health", "cli-orders");
    assertThat(health.code()).as(health.toString()).isEqualTo(2);
    assertOneErrorLine(health, "keel: cannot reach Keel at " + endpoint);
  }

  // ---------------------------------------------------------------- helpers

  /**
   * {@code keel <args>} with the endpoint in KEEL_ENDPOINT and the token from the node's data dir.
   */
  /**
   * Runs the command again (every 300 ms, for up to 20 s) until {@code done} holds; answers the
   * last run.
   */
  private Run keelUntil(java.util.function.Predicate<Run> done, String... args) throws Exception {
    long deadline = System.nanoTime() + java.time.Duration.ofSeconds(20).toNanos();
    Run run = keel(args);
    while (!done.test(run) && System.nanoTime() < deadline) {
      Thread.sleep(300);
      run = keel(args);
    }
    return run;
  }

  private Run keel(String... args) throws Exception {
    return run(
        List.of(args), Map.of("KEEL_ENDPOINT", endpoint, "KEEL_DATA_DIR", dataDir.toString()));
  }

  private Run run(List<String> args, Map<String, String> env) throws Exception {
    Files.createDirectories(LOG_DIR);
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command =
        new ArrayList<>(List.of(java, "-jar", KeelChildProcess.jar().toString()));
    command.addAll(args);
    Path out = Files.createTempFile(LOG_DIR, "cli-", ".out");
    Path err = Files.createTempFile(LOG_DIR, "cli-", ".err");
    ProcessBuilder pb =
        new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
    Map<String, String> environment = pb.environment();
    environment.keySet().removeIf(k -> k.startsWith("KEEL_"));
    environment.putAll(new HashMap<>(env));
    Process p = pb.start();
    if (!p.waitFor(RUN_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(
          "keel " + args + " still runs after " + RUN_DEADLINE + "\n" + read(out) + read(err));
    }
    Run r = new Run(args, p.exitValue(), read(out), read(err));
    assertThat(r.out() + r.err()).as(r.toString()).doesNotContain(token);
    assertThat(KeelChildProcess.stackTraceLines(r.out() + r.err()))
        .as(r.toString() + "\nno stack trace")
        .isEmpty();
    return r;
  }

  private static String read(Path file) throws IOException {
    return Files.readString(file, StandardCharsets.UTF_8);
  }

  private static void assertClean(Run r) {
    assertThat(r.err()).as(r.toString()).isEmpty();
  }

  private static void assertOneErrorLine(Run r, String prefix) {
    assertThat(r.errLines()).as(r.toString()).hasSize(1);
    assertThat(r.errLines().get(0)).as(r.toString()).startsWith(prefix);
  }

  private boolean alertRoutesExist() {
    try {
      keel.listAlerts();
      return true;
    } catch (KeelApiException e) {
      return e.status() != 404 && e.status() != 405;
    }
  }

  private void awaitListed(String id) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      if (keel.listServices(null, null).stream().anyMatch(s -> s.id().equals(id))) return;
      Thread.sleep(100);
    }
    throw new AssertionError(id + " never listed");
  }

  private void awaitStatus(String id, ServiceStatus status) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      if (keel.getService(id).status() == status) return;
      Thread.sleep(100);
    }
    throw new AssertionError(id + " never " + status);
  }
}
