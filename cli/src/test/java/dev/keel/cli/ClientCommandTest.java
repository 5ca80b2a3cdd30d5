package dev.keel.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The client commands in this JVM against a local stand-in for Keel: where the token comes from,
 * and how answers become output, one-line errors and exit codes. {@code CliIT} does the same with
 * real processes against a real node.
 */
class ClientCommandTest {

  private static final String TOKEN = "cli-test-token-0123456789";

  @TempDir Path dataDir;

  private HttpServer server;
  private final List<String> seen = new CopyOnWriteArrayList<>();

  /** path → [status, content type, body] */
  private final Map<String, Object[]> answers = new HashMap<>();

  private final Map<String, String> env = new HashMap<>();

  @BeforeEach
  void setUp() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 10);
    server.createContext(
        "/",
        ex -> {
          try {
            seen.add(
                ex.getRequestMethod()
                    + " "
                    + ex.getRequestURI()
                    + " "
                    + ex.getRequestHeaders().getFirst("Authorization"));
            Object[] a =
                answers.getOrDefault(
                    ex.getRequestURI().getPath(),
                    new Object[] {
                      404,
                      "application/problem+json",
                      "{\"title\":\"Not Found\",\"status\":404,\"detail\":\"service 'x' is not"
                          + " registered\"}"
                    });
            byte[] body = ((String) a[2]).getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", (String) a[1]);
            ex.sendResponseHeaders((Integer) a[0], body.length == 0 ? -1 : body.length);
            if (body.length > 0) ex.getResponseBody().write(body);
          } finally {
            ex.close();
          }
        });
    server.start();
    env.put("KEEL_ENDPOINT", "http://127.0.0.1:" + server.getAddress().getPort());
  }

  @AfterEach
  void tearDown() {
    server.stop(0);
  }

  private record Run(int code, String out, String err) {}

  private Run run(Object command, String... args) {
    CommandLine cli = new CommandLine(command);
    if (command instanceof ClientCommand c) c.env = env::get;
    // Subcommands get the same environment.
    cli.getSubcommands()
        .values()
        .forEach(
            sub -> {
              if (sub.getCommand() instanceof ClientCommand c) c.env = env::get;
            });
    cli.setParameterExceptionHandler((ex, bad) -> UsageError.report(ex, args));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    int code = cli.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  @Test
  void tokenFromOptionThenVariableThenDataDirFile() throws IOException {
    Files.writeString(dataDir.resolve("admin-token"), TOKEN + "-file\n");
    env.put("KEEL_DATA_DIR", dataDir.toString());
    ClientOptions options = new ClientOptions();
    assertThat(options.resolve(env::get).token()).isEqualTo(TOKEN + "-file");
    env.put("KEEL_TOKEN", TOKEN + "-env");
    assertThat(options.resolve(env::get).token()).isEqualTo(TOKEN + "-env");
    options.token = TOKEN + "-flag";
    assertThat(options.resolve(env::get).token()).isEqualTo(TOKEN + "-flag");
    assertThat(options.resolve(env::get).endpoint()).isEqualTo(env.get("KEEL_ENDPOINT"));
    options.endpoint = "http://elsewhere:1";
    assertThat(options.resolve(env::get).endpoint()).isEqualTo("http://elsewhere:1");
    assertThat(new ClientOptions().resolve(Map.of("KEEL_TOKEN", "t")::get).endpoint())
        .isEqualTo("http://127.0.0.1:8080");
  }

  @Test
  void noTokenAnywhere_isOneLineWithExitCode2() {
    env.put("KEEL_DATA_DIR", dataDir.resolve("nothing-here").toString());
    Run r = run(new HealthCommand(), "orders");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err())
        .startsWith("keel: no token: pass --token or set KEEL_TOKEN")
        .contains("nothing-here/admin-token");
    assertThat(r.err().lines()).hasSize(1);
    assertThat(seen).isEmpty();
  }

  @Test
  void health_exitCodeSaysHealthy() {
    env.put("KEEL_TOKEN", TOKEN);
    answers.put(
        "/api/v1/services/orders/health",
        new Object[] {
          200,
          "application/json",
          "{\"id\":\"orders\",\"status\":\"healthy\",\"lastHeartbeatAt\":\"2026-11-22T12:00:00.000Z\"}"
        });
    answers.put(
        "/api/v1/services/ingest/health",
        new Object[] {
          503,
          "application/json",
          "{\"id\":\"ingest\",\"status\":\"stale\",\"lastHeartbeatAt\":null}"
        });
    Run healthy = run(new HealthCommand(), "orders");
    assertThat(healthy).isEqualTo(new Run(0, "healthy\n", ""));
    assertThat(seen.get(0)).isEqualTo("GET /api/v1/services/orders/health Bearer " + TOKEN);
    assertThat(run(new HealthCommand(), "ingest")).isEqualTo(new Run(1, "stale\n", ""));
    Run unknown = run(new HealthCommand(), "x");
    assertThat(unknown.code()).isEqualTo(1);
    assertThat(unknown.err()).isEqualTo("keel: 404 Not Found: service 'x' is not registered\n");
  }

  @Test
  void badInput_listsEveryFieldOnOneLine_exit1() {
    env.put("KEEL_TOKEN", TOKEN);
    answers.put(
        "/api/v1/alerts/a1",
        new Object[] {
          400,
          "application/problem+json",
          "{\"type\":\"https://keel.dev/problems/bad-request\",\"title\":\"Bad"
              + " Request\",\"status\":400,\"detail\":\"the alert rule has invalid"
              + " fields\",\"errors\":[{\"field\":\"condition\",\"message\":\"does not"
              + " parse\"},{\"field\":\"webhook\",\"message\":\"must be an http or https URL\"}]}"
        });
    Run r =
        run(
            new AlertCommand(),
            "create",
            "a1",
            "--service",
            "*",
            "--condition",
            "status ~ 3",
            "--webhook",
            "ftp://x");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err())
        .isEqualTo(
            "keel: 400 Bad Request: the alert rule has invalid fields "
                + "(condition: does not parse; webhook: must be an http or https URL)\n");
  }

  @Test
  void refusedToken_isExit2WithAHint_andNeverPrintsTheToken() {
    env.put("KEEL_TOKEN", TOKEN);
    answers.put(
        "/api/v1/services",
        new Object[] {
          401,
          "application/problem+json",
          "{\"title\":\"Unauthorized\",\"status\":401,\"detail\":\"unknown token " + TOKEN + "\"}"
        });
    Run r = run(new StatusCommand());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err())
        .startsWith("keel: 401 Unauthorized: unknown token ***")
        .contains("--token")
        .doesNotContain(TOKEN);
  }

  @Test
  void nodeDown_isOneLineConnectionError_exit2() throws IOException {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closedPort = s.getLocalPort();
    }
    Run r =
        run(
            new ServicesCommand(),
            "deregister",
            "orders",
            "--endpoint",
            "http://127.0.0.1:" + closedPort,
            "--token",
            TOKEN);
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err())
        .isEqualTo(
            "keel: cannot reach Keel at http://127.0.0.1:" + closedPort + ": connection refused\n");
  }

  @Test
  void usageErrors_areOneLineExit2_withoutTheToken() {
    Run missing =
        run(
            new AlertCommand(),
            "create",
            "a1",
            "--service",
            "*",
            "--token",
            TOKEN,
            "--tokn=" + TOKEN);
    assertThat(missing.code()).isEqualTo(2);
    assertThat(missing.err().lines()).hasSize(1);
    assertThat(missing.err())
        .startsWith("keel: ")
        .contains("(see alert create --help)")
        .doesNotContain(TOKEN);
    Run noSub = run(new AlertCommand());
    assertThat(noSub.code()).isEqualTo(2);
    assertThat(noSub.err()).startsWith("keel: a subcommand is required: create, list or delete");
    Run badId = run(new StatusCommand(), "no/such id", "--token", TOKEN);
    assertThat(badId.code()).isEqualTo(1);
    assertThat(badId.err()).startsWith("keel: service id 'no/such id' is not valid");
    Run badEndpoint = run(new StatusCommand(), "--endpoint", "ftp://x", "--token", TOKEN);
    assertThat(badEndpoint.code()).isEqualTo(2);
    assertThat(badEndpoint.err())
        .isEqualTo("keel: --endpoint/KEEL_ENDPOINT: 'ftp://x' is not an http or https URL\n");
  }

  @Test
  void statusJson_printsKeelsOwnJsonOverAllPages() {
    env.put("KEEL_TOKEN", TOKEN);
    answers.put(
        "/api/v1/services",
        new Object[] {
          200,
          "application/json",
          "{\"items\":[{\"id\":\"a\",\"type\":\"sink\",\"status\":\"healthy\",\"extra\":42}],\"nextCursor\":null}"
        });
    Run r = run(new StatusCommand(), "--json");
    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("\"extra\" : 42").startsWith("{");
    assertThat(seen.get(0)).startsWith("GET /api/v1/services?limit=500 ");
  }

  @Test
  void secretsFromArguments() {
    assertThat(UsageError.secrets(new String[] {"--token", "abc", "--token=def", "x"}, "ghi"))
        .containsExactly("abc", "def", "ghi");
    ClientOptions options = new ClientOptions();
    options.dataDir = "/nonexistent-keel";
    assertThatThrownBy(() -> options.resolve(k -> null))
        .isInstanceOf(CliFailure.class)
        .hasMessageContaining("/nonexistent-keel/admin-token");
  }
}
