package dev.keel.it;

import static dev.keel.it.KeelChildProcess.assertOneLineNaming;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Start-up of a real {@code java -jar keel.jar server} child process. A bad configuration must stop
 * it with exit code 2 and one line on stderr, {@code keel: <SETTING>: <message>}, and no stack
 * trace; a good one must generate the admin token safely and stop cleanly on SIGTERM.
 *
 * <p>Every child gets a fresh data dir and {@code --cluster-port 0}; its output goes to {@code
 * target/startup-it/<test>.std{out,err}.log}.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class StartupConfigIT {

  private static final Path LOG_DIR = Path.of("target", "startup-it").toAbsolutePath();
  private static final String PASSWORD = "hunter2";

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private ChildNodes nodes;
  private Path tempDir;

  @BeforeEach
  void setUp() throws IOException {
    nodes = new ChildNodes("keel-startup-it-");
    tempDir = nodes.tempDir();
  }

  @AfterEach
  void tearDown() {
    nodes.close();
  }

  // ---------------------------------------------------------------- bad configuration

  @Test
  void unreachableDatabase_namesDatabaseUrl() throws Exception {
    KeelChildProcess node =
        badStart(
            "unreachable-db",
            List.of(
                "--database-url", "jdbc:postgresql://127.0.0.1:1/nothing", "--database-user", "x"),
            Map.of());
    assertOneLineNaming(node, node.awaitExit(KeelChildProcess.EXIT_DEADLINE), "--database-url");
  }

  @Test
  void malformedDatabaseUrl_namesDatabaseUrl() throws Exception {
    KeelChildProcess node =
        badStart("malformed-url", List.of("--database-url", "mysql://x"), Map.of());
    assertOneLineNaming(node, node.awaitExit(KeelChildProcess.EXIT_DEADLINE), "--database-url");
  }

  @Test
  void httpPortTaken_namesHttpPort() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      KeelChildProcess node =
          start(
              "port-taken",
              List.of(
                  "--http-port",
                  Integer.toString(taken.getLocalPort()),
                  "--cluster-port",
                  "0",
                  "--data-dir",
                  tempDir.resolve("data").toString()),
              Map.of(),
              taken.getLocalPort());
      int code = node.awaitExit(KeelChildProcess.EXIT_DEADLINE);
      assertOneLineNaming(node, code, "--http-port");
      assertThat(node.stderrLines().get(0))
          .as(node.describe("the line names the port"))
          .contains(Integer.toString(taken.getLocalPort()));
    }
  }

  @Test
  void httpPortOutOfRange_namesHttpPort() throws Exception {
    KeelChildProcess node =
        start(
            "port-70000",
            List.of(
                "--http-port",
                "70000",
                "--cluster-port",
                "0",
                "--data-dir",
                tempDir.resolve("data").toString()),
            Map.of(),
            70000);
    assertOneLineNaming(node, node.awaitExit(KeelChildProcess.EXIT_DEADLINE), "--http-port");
  }

  @Test
  void httpPortNotANumberInEnvironment_namesHttpPort() throws Exception {
    KeelChildProcess node =
        start(
            "port-env-abc",
            List.of("--cluster-port", "0", "--data-dir", tempDir.resolve("data").toString()),
            Map.of("KEEL_HTTP_PORT", "abc"),
            0);
    assertOneLineNaming(node, node.awaitExit(KeelChildProcess.EXIT_DEADLINE), "KEEL_HTTP_PORT");
  }

  @Test
  void shortAdminToken_namesAdminToken() throws Exception {
    KeelChildProcess node = badStart("short-token", List.of("--admin-token", "short"), Map.of());
    assertOneLineNaming(node, node.awaitExit(KeelChildProcess.EXIT_DEADLINE), "--admin-token");
    assertThat(node.stderrText())
        .as(node.describe("the token itself is not echoed"))
        .doesNotContain(": short");
  }

  @Test
  void badOutboundAllowList_namesOutboundAllow() throws Exception {
    KeelChildProcess node =
        badStart(
            "bad-outbound-allow",
            List.of(),
            Map.of("KEEL_OUTBOUND_ALLOW", "10.0.0.0/8,10.0.0.0/33"));
    assertOneLineNaming(
        node, node.awaitExit(KeelChildProcess.EXIT_DEADLINE), "KEEL_OUTBOUND_ALLOW");
    assertThat(node.stderrLines().get(0))
        .as(node.describe("the line names the entry"))
        .contains("10.0.0.0/33");
    KeelChildProcess flagged =
        badStart("bad-outbound-allow-flag", List.of("--outbound-allow", "0x7f000001"), Map.of());
    assertOneLineNaming(
        flagged, flagged.awaitExit(KeelChildProcess.EXIT_DEADLINE), "--outbound-allow");
  }

  @Test
  void badTracingSettings_nameKeelOtel() throws Exception {
    KeelChildProcess notABoolean =
        badStart("otel-not-a-boolean", List.of(), Map.of("KEEL_OTEL", "maybe"));
    assertOneLineNaming(
        notABoolean, notABoolean.awaitExit(KeelChildProcess.EXIT_DEADLINE), "KEEL_OTEL");
    // The SDK's own settings are checked at the start too, and the line names the property.
    KeelChildProcess badSampler =
        badStart("otel-bad-sampler", List.of("--otel"), Map.of("OTEL_TRACES_SAMPLER", "sometimes"));
    assertOneLineNaming(badSampler, badSampler.awaitExit(KeelChildProcess.EXIT_DEADLINE), "--otel");
    assertThat(badSampler.stderrLines().get(0))
        .as(badSampler.describe("the line names the SDK's setting"))
        .contains("otel.traces.sampler", "sometimes");
  }

  @Test
  void missingPluginsDir_namesPluginsDir() throws Exception {
    KeelChildProcess node =
        badStart("no-plugins-dir", List.of("--plugins-dir", "/does/not/exist"), Map.of());
    assertOneLineNaming(node, node.awaitExit(KeelChildProcess.EXIT_DEADLINE), "--plugins-dir");
    assertThat(node.stderrLines().get(0))
        .as(node.describe("the line names the directory"))
        .contains("/does/not/exist");
  }

  @Test
  void seedNodesOnTheEmbeddedDatabase_nameSeedNodes() throws Exception {
    // Two nodes on two H2 files would each keep a journal of their own: refused before anything
    // starts.
    KeelChildProcess node =
        badStart(
            "seeds-on-h2", List.of("--seed-nodes", "127.0.0.1:25520,127.0.0.1:25521"), Map.of());
    assertOneLineNaming(node, node.awaitExit(KeelChildProcess.EXIT_DEADLINE), "--seed-nodes");
    assertThat(node.stderrLines().get(0))
        .as(node.describe("the line says what to do"))
        .contains("PostgreSQL", "KEEL_DATABASE_URL");
  }

  @Test
  void kubernetesDiscoveryOnTheEmbeddedDatabase_namesDiscovery() throws Exception {
    KeelChildProcess node =
        badStart("discovery-on-h2", List.of(), Map.of("KEEL_DISCOVERY", "kubernetes"));
    assertOneLineNaming(node, node.awaitExit(KeelChildProcess.EXIT_DEADLINE), "KEEL_DISCOVERY");
    assertThat(node.stderrLines().get(0))
        .as(node.describe("the line says what to do"))
        .contains("PostgreSQL");
  }

  @Test
  void kubernetesDiscoveryOutsideAPod_namesDiscovery() throws Exception {
    // Checked before the database is touched, so an unreachable URL does not matter here.
    KeelChildProcess node =
        badStart(
            "discovery-outside-pod",
            List.of(
                "--discovery",
                "kubernetes",
                "--database-url",
                "jdbc:postgresql://127.0.0.1:1/x",
                "--database-user",
                "x"),
            Map.of());
    assertOneLineNaming(node, node.awaitExit(KeelChildProcess.EXIT_DEADLINE), "--discovery");
    assertThat(node.stderrLines().get(0))
        .as(node.describe("the line names the missing pod environment"))
        .contains("KUBERNETES_SERVICE_HOST");
  }

  @Test
  void passwordInDatabaseUrl_isNeverPrinted() throws Exception {
    List<List<String>> variants =
        List.of(
            List.of("--database-url", "jdbc:postgresql://127.0.0.1:1/x?password=" + PASSWORD),
            List.of(
                "--database-url",
                "jdbc:postgresql://127.0.0.1:1/x?user=x&password=" + PASSWORD + "&ssl=false"),
            List.of("--database-url", "mysql://x?password=" + PASSWORD),
            List.of(
                "--database-url",
                "jdbc:postgresql://127.0.0.1:1/x",
                "--database-user",
                "x",
                "--database-password",
                PASSWORD));
    int i = 0;
    for (List<String> args : variants) {
      KeelChildProcess node = badStart("password-" + i++, args, Map.of());
      assertOneLineNaming(node, node.awaitExit(KeelChildProcess.EXIT_DEADLINE), "--database-url");
      assertThat(node.stderrText() + node.stdoutText())
          .as(node.describe("the password is not printed"))
          .doesNotContain(PASSWORD);
    }
    // The same through the environment.
    KeelChildProcess node =
        start(
            "password-env",
            List.of(
                "--http-port",
                Integer.toString(KeelChildProcess.freePort()),
                "--cluster-port",
                "0",
                "--data-dir",
                tempDir.resolve("data-env").toString()),
            Map.of("KEEL_DATABASE_URL", "jdbc:postgresql://127.0.0.1:1/x?password=" + PASSWORD),
            0);
    assertOneLineNaming(node, node.awaitExit(KeelChildProcess.EXIT_DEADLINE), "KEEL_DATABASE_URL");
    assertThat(node.stderrText() + node.stdoutText())
        .as(node.describe("the password is not printed"))
        .doesNotContain(PASSWORD);
  }

  // ---------------------------------------------------------------- a good start

  @Test
  void generatedAdminToken_isPrivateWorksAndIsNotLogged_thenSigtermStopsCleanly() throws Exception {
    Path dataDir = tempDir.resolve("fresh-data");
    int port = KeelChildProcess.freePort();
    KeelChildProcess node =
        start(
            "good-start",
            List.of(
                "--http-port",
                Integer.toString(port),
                "--cluster-port",
                "0",
                "--data-dir",
                dataDir.toString()),
            Map.of(),
            port);
    node.awaitReady(http);

    Path tokenFile = dataDir.resolve("admin-token");
    assertThat(tokenFile).as(node.describe("generated admin token file")).isRegularFile();
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tokenFile)))
        .as(node.describe("mode of " + tokenFile))
        .isEqualTo("rw-------");
    String token = Files.readString(tokenFile).trim();
    assertThat(token).as("generated token").hasSizeGreaterThanOrEqualTo(16);

    HttpResponse<String> withToken = get(node, "/api/v1/workflow-definitions", token);
    assertThat(withToken.statusCode())
        .as(node.describe("GET workflow-definitions with the generated token: " + withToken.body()))
        .isEqualTo(200);
    assertThat(withToken.body()).contains("\"example\"", "\"http-sequence\"");
    HttpResponse<String> withoutToken = get(node, "/api/v1/workflow-definitions", null);
    assertThat(withoutToken.statusCode())
        .as("without a token: " + withoutToken.body())
        .isEqualTo(401);
    HttpResponse<String> wrongToken = get(node, "/api/v1/workflow-definitions", token + "x");
    assertThat(wrongToken.statusCode())
        .as("with a wrong token: " + wrongToken.body())
        .isEqualTo(401);

    // ---- SIGTERM
    Instant stopping = Instant.now();
    node.process.destroy();
    assertThat(node.process.waitFor(30, TimeUnit.SECONDS))
        .as(node.describe("node stops within 30 s of SIGTERM"))
        .isTrue();
    int code = node.process.exitValue();
    System.out.println(
        "[StartupConfigIT] exit code after SIGTERM: "
            + code
            + " after "
            + Duration.between(stopping, Instant.now()).toMillis()
            + " ms");
    // 143 = 128 + SIGTERM: the JVM exits with it after its shutdown hooks (CoordinatedShutdown)
    // ran.
    assertThat(code).as(node.describe("exit code after SIGTERM")).isIn(0, 143);

    String output = node.stdoutText() + node.stderrText();
    assertThat(output).as(node.describe("the token is never logged")).doesNotContain(token);
    assertThat(output)
        .as(node.describe("the log names the token file"))
        .contains("admin token file=" + tokenFile);
    assertThat(output)
        .as(node.describe("the log shows CoordinatedShutdown"))
        .contains("Running CoordinatedShutdown")
        .contains("as [Leaving]");
    List<String> errors =
        output.lines().filter(l -> l.contains(" ERROR ") || l.startsWith("ERROR")).toList();
    assertThat(errors).as(node.describe("no ERROR lines")).isEmpty();
    assertThat(KeelChildProcess.stackTraceLines(output))
        .as(node.describe("no stack trace"))
        .isEmpty();
    assertThat(node.stderrText().isBlank()).as(node.describe("nothing on stderr")).isTrue();

    // ---- a second start reuses the token
    int port2 = KeelChildProcess.freePort();
    KeelChildProcess again =
        start(
            "good-start-again",
            List.of(
                "--http-port",
                Integer.toString(port2),
                "--cluster-port",
                "0",
                "--data-dir",
                dataDir.toString()),
            Map.of(),
            port2);
    again.awaitReady(http);
    assertThat(Files.readString(tokenFile).trim()).as("token file unchanged").isEqualTo(token);
    assertThat(get(again, "/api/v1/workflow-definitions", token).statusCode())
        .as(again.describe("the token works after a restart"))
        .isEqualTo(200);
  }

  // ---------------------------------------------------------------- helpers

  /**
   * A child that is expected to stop by itself: a free HTTP port, cluster port 0, a fresh data dir.
   */
  private KeelChildProcess badStart(String name, List<String> args, Map<String, String> env)
      throws IOException {
    int port = KeelChildProcess.freePort();
    List<String> all =
        new ArrayList<>(
            List.of(
                "--http-port",
                Integer.toString(port),
                "--cluster-port",
                "0",
                "--data-dir",
                tempDir.resolve("data-" + name).toString()));
    all.addAll(args);
    return start(name, all, env, port);
  }

  private KeelChildProcess start(String name, List<String> args, Map<String, String> env, int port)
      throws IOException {
    KeelChildProcess node = KeelChildProcess.start(LOG_DIR, name, args, env, port);
    nodes.track(node);
    return node;
  }

  private HttpResponse<String> get(KeelChildProcess node, String path, String token)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(node.uri(path)).timeout(Duration.ofSeconds(15)).GET();
    if (token != null) b.header("Authorization", "Bearer " + token);
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }
}
