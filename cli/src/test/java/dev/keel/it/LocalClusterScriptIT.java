package dev.keel.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.persistence.TestDatabases;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code deploy/local-cluster.sh} as a developer runs it: {@code start 3} against a fresh
 * PostgreSQL database brings up three nodes that are ready and see each other Up, {@code status}
 * reports them, {@code restart 2} replaces one node's process while the others run, and {@code
 * stop} ends every one of them (SIGTERM, exit 143), leaving no process behind.
 *
 * <p>The script's state (pids, logs, data dirs) goes to a temporary directory and its ports are
 * chosen free, so a developer's own local cluster is never touched.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class LocalClusterScriptIT {

  private static final int NODES = 3;
  private static final Duration SCRIPT_DEADLINE = Duration.ofSeconds(240);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private TestDatabases.FreshPostgres postgres;
  private Path state;
  private int httpBase;
  private int clusterBase;

  @BeforeEach
  void setUp() throws IOException {
    postgres = TestDatabases.freshPostgres();
    state = Files.createTempDirectory("keel-local-cluster-it-");
    httpBase = freeBlock(NODES);
    clusterBase = freeBlock(NODES);
  }

  @AfterEach
  void tearDown() {
    // Whatever happened, no node outlives the test.
    for (long pid : pids()) ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    if (postgres != null) postgres.close();
    KeelChildProcess.deleteQuietly(state);
  }

  @Test
  void startThree_allReadyAndUp_statusShowsThem_stopEndsEveryNode() throws Exception {
    Script start = run("start", Integer.toString(NODES));
    assertThat(start.exit).as(start.describe("start " + NODES)).isZero();
    List<String> urls = start.stdout.lines().filter(l -> l.startsWith("http://")).toList();
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < NODES; i++) expected.add("http://127.0.0.1:" + (httpBase + i));
    assertThat(urls).as(start.describe("the printed URLs")).containsExactlyElementsOf(expected);

    String token = Files.readString(state.resolve("admin-token")).trim();
    assertThat(token).as("generated admin token").hasSizeGreaterThanOrEqualTo(16);
    assertThat(start.stdout + start.stderr)
        .as(start.describe("the token itself is not printed"))
        .doesNotContain(token);
    List<Long> pids = pids();
    assertThat(pids).as("one pid file per node").hasSize(NODES);

    // Every node answers, and each sees the same three Up members.
    for (String url : urls) {
      assertThat(get(url + "/ready", null).statusCode()).as(url + "/ready").isEqualTo(200);
      JsonNode cluster = JSON.readTree(get(url + "/api/v1/cluster", token).body());
      List<String> up = new ArrayList<>();
      cluster
          .path("members")
          .forEach(
              m -> {
                if (m.path("status").asText().equals("up")) up.add(m.path("address").asText());
              });
      assertThat(up)
          .as(url + " sees three Up members: " + cluster)
          .hasSize(NODES)
          .containsExactlyInAnyOrder(
              "pekko://keel@127.0.0.1:" + clusterBase,
              "pekko://keel@127.0.0.1:" + (clusterBase + 1),
              "pekko://keel@127.0.0.1:" + (clusterBase + 2));
    }

    Script status = run("status");
    assertThat(status.exit).as(status.describe("status")).isZero();
    assertThat(status.stdout)
        .as(status.describe("status"))
        .contains("members Up seen by node 1: 3")
        .contains("ready=200");

    revokedKeyIsRefusedOnEveryNodeAtOnce(urls, token);

    // One node of the running cluster restarted: a new process, ready, and all three Up again.
    long before = pids.get(1);
    Script restart = run("restart", "2");
    assertThat(restart.exit).as(restart.describe("restart 2")).isZero();
    assertThat(ProcessHandle.of(before).map(ProcessHandle::isAlive).orElse(false))
        .as(restart.describe("the old node 2 is gone"))
        .isFalse();
    long after = pids().get(1);
    assertThat(after).as("node 2 runs as a new process").isNotEqualTo(before);
    assertThat(get(urls.get(1) + "/ready", null).statusCode()).as("node 2 ready").isEqualTo(200);
    assertThat(run("status").stdout).contains("members Up seen by node 1: 3");
    pids = pids();

    Script stop = run("stop");
    assertThat(stop.exit).as(stop.describe("stop")).isZero();
    for (long pid : pids) {
      assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false))
          .as(stop.describe("node pid " + pid + " is gone after stop"))
          .isFalse();
    }
    assertThat(pids()).as("pid files removed").isEmpty();
    for (int i = 1; i <= NODES; i++) {
      String log = Files.readString(state.resolve("node-" + i + ".log"), StandardCharsets.UTF_8);
      assertThat(log)
          .as("node " + i + " left the cluster through CoordinatedShutdown")
          .contains("Running CoordinatedShutdown")
          .contains("Exiting completed");
      assertThat(stop.stdout)
          .as(stop.describe("stop names node " + i))
          .contains("node " + i + " (pid");
      assertThat(stop.stdout)
          .as(stop.describe("no node needed SIGKILL"))
          .doesNotContain("killing it");
    }
    Script again = run("status");
    assertThat(again.exit).as(again.describe("status with nothing running")).isNotZero();
  }

  // ---------------------------------------------------------------- helpers

  private record Script(List<String> command, int exit, String stdout, String stderr) {
    String describe(String what) {
      return what
          + ": "
          + String.join(" ", command)
          + " exited "
          + exit
          + "\n----- stdout:\n"
          + stdout
          + "\n----- stderr:\n"
          + stderr;
    }
  }

  private Script run(String... args) throws Exception {
    Path script = repositoryRoot().resolve("deploy/local-cluster.sh");
    List<String> command = new ArrayList<>(List.of("bash", script.toString()));
    command.addAll(List.of(args));
    Path out = Files.createTempFile(state, "script-", ".out");
    Path err = Files.createTempFile(state, "script-", ".err");
    ProcessBuilder pb =
        new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
    Map<String, String> env = pb.environment();
    env.keySet().removeIf(k -> k.startsWith("KEEL_") || k.startsWith("LOCAL_CLUSTER_"));
    env.put("LOCAL_CLUSTER_DIR", state.toString());
    env.put("LOCAL_CLUSTER_HTTP_BASE", Integer.toString(httpBase));
    env.put("LOCAL_CLUSTER_CLUSTER_BASE", Integer.toString(clusterBase));
    env.put("LOCAL_CLUSTER_TIMEOUT", Long.toString(SCRIPT_DEADLINE.toSeconds() - 30));
    env.put("KEEL_JAR", KeelChildProcess.jar().toString());
    env.put("KEEL_DATABASE_URL", postgres.settings().url());
    env.put("KEEL_DATABASE_USER", postgres.settings().user());
    if (!postgres.settings().password().isEmpty())
      env.put("KEEL_DATABASE_PASSWORD", postgres.settings().password());
    Process p = pb.start();
    if (!p.waitFor(SCRIPT_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(
          "local-cluster.sh "
              + String.join(" ", args)
              + " still runs after "
              + SCRIPT_DEADLINE
              + "\n"
              + Files.readString(out)
              + "\n"
              + Files.readString(err));
    }
    return new Script(command, p.exitValue(), Files.readString(out), Files.readString(err));
  }

  private List<Long> pids() {
    List<Long> pids = new ArrayList<>();
    if (state == null || !Files.isDirectory(state)) return pids;
    try (Stream<Path> files = Files.list(state)) {
      files
          .filter(f -> f.getFileName().toString().matches("node-\\d+\\.pid"))
          .sorted()
          .forEach(
              f -> {
                try {
                  pids.add(Long.parseLong(Files.readString(f).trim()));
                } catch (IOException | NumberFormatException e) {
                  // A pid file being written or removed: nothing to clean up from it.
                }
              });
    } catch (IOException e) {
      // Nothing to list.
    }
    return pids;
  }

  /**
   * A cluster-wide key made on node 1 works on node 3; revoked through node 2, the very next
   * request with it is refused on node 1 and node 3 (its key ring is the one writer, asked every
   * time; no node caches it).
   */
  private void revokedKeyIsRefusedOnEveryNodeAtOnce(List<String> urls, String token)
      throws Exception {
    HttpResponse<String> created =
        send(
            "POST",
            urls.get(0) + "/api/v1/cluster-keys",
            "{\"name\":\"on-call\",\"role\":\"operator\"}",
            token);
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    JsonNode key = JSON.readTree(created.body());
    String secret = key.get("apiKey").asText();
    assertThat(get(urls.get(2) + "/api/v1/services", secret).statusCode())
        .as("the key works on another node")
        .isEqualTo(200);
    assertThat(get(urls.get(2) + "/api/v1/cluster", secret).statusCode())
        .as("an operator key is no admin")
        .isEqualTo(403);
    HttpResponse<String> revoked =
        send("DELETE", urls.get(1) + "/api/v1/cluster-keys/" + key.get("id").asText(), null, token);
    assertThat(revoked.statusCode()).as(revoked.body()).isEqualTo(204);
    for (String url : List.of(urls.get(0), urls.get(2))) {
      assertThat(get(url + "/api/v1/services", secret).statusCode())
          .as(url + " refuses the revoked key at once")
          .isEqualTo(401);
    }
  }

  private HttpResponse<String> send(String method, String url, String body, String token)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url))
            .timeout(Duration.ofSeconds(15))
            .header("Authorization", "Bearer " + token)
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) b.header("Content-Type", "application/json");
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> get(String url, String token) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(15)).GET();
    if (token != null) b.header("Authorization", "Bearer " + token);
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** The repository root: failsafe runs in cli/. */
  static Path repositoryRoot() {
    Path dir = Path.of("").toAbsolutePath();
    for (Path p = dir; p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("deploy/local-cluster.sh"))) return p;
    }
    throw new AssertionError("no deploy/local-cluster.sh above " + dir);
  }

  /** The first of {@code n} consecutive ports that are free now. */
  static int freeBlock(int n) throws IOException {
    for (int attempt = 0; attempt < 200; attempt++) {
      int base = ThreadLocalRandom.current().nextInt(20_000, 40_000);
      boolean free = true;
      for (int i = 0; i < n && free; i++) free = isFree(base + i);
      if (free) return base;
    }
    throw new IOException("no block of " + n + " free ports found");
  }

  private static boolean isFree(int port) {
    try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
      return true;
    } catch (IOException taken) {
      return false;
    }
  }
}
