package dev.keel.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code keel workflows ...} in this JVM against a local stand-in for Keel: the requests each
 * subcommand sends (method, path, query, body), how answers print as tables or as {@code --json},
 * and how refusals become one line and exit code 1.
 */
class WorkflowsCommandTest {

  private static final String TOKEN = "cli-test-token-0123456789";
  private static final ObjectMapper JSON = new ObjectMapper();

  private static final String EXECUTION =
      "{\"id\":\"wf-1\",\"workflow\":\"checkout\",\"version\":1,\"tenantId\":null,"
          + "\"status\":\"running\",\"queued\":false,\"input\":{},\"output\":null,\"error\":null,"
          + "\"createdAt\":\"2026-12-07T10:00:00.000Z\",\"updatedAt\":\"2026-12-07T10:00:01.000Z\","
          + "\"completedAt\":null,\"steps\":[{\"name\":\"reserve\",\"kind\":\"step\","
          + "\"status\":\"completed\",\"attempts\":1,\"output\":\"r1\",\"error\":null,"
          + "\"startedAt\":\"2026-12-07T10:00:00.000Z\",\"completedAt\":\"2026-12-07T10:00:00.000Z\","
          + "\"dueAt\":null}],\"pendingSignals\":[],\"rerunOf\":null,\"reruns\":[\"wf-2\"]}";

  private HttpServer server;

  /** "METHOD /path?query body" of every request. */
  private final List<String> seen = new CopyOnWriteArrayList<>();

  /** "METHOD /path" → [status, body] */
  private final Map<String, Object[]> answers = new HashMap<>();

  private final Map<String, String> env = new HashMap<>();

  @BeforeEach
  void setUp() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 10);
    server.createContext(
        "/",
        ex -> {
          try {
            String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            seen.add(ex.getRequestMethod() + " " + ex.getRequestURI() + " " + body);
            Object[] a =
                answers.getOrDefault(
                    ex.getRequestMethod() + " " + ex.getRequestURI().getPath(),
                    new Object[] {
                      404, "{\"title\":\"Not Found\",\"status\":404,\"detail\":\"no such thing\"}"
                    });
            byte[] bytes = ((String) a[1]).getBytes(StandardCharsets.UTF_8);
            int status = (Integer) a[0];
            ex.getResponseHeaders()
                .add(
                    "Content-Type",
                    status >= 400 ? "application/problem+json" : "application/json");
            ex.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
            if (bytes.length > 0) ex.getResponseBody().write(bytes);
          } finally {
            ex.close();
          }
        });
    server.start();
    env.put("KEEL_ENDPOINT", "http://127.0.0.1:" + server.getAddress().getPort());
    env.put("KEEL_TOKEN", TOKEN);
  }

  @AfterEach
  void tearDown() {
    server.stop(0);
  }

  private record Run(int code, String out, String err) {}

  private Run run(String... args) {
    CommandLine cli = new CommandLine(new WorkflowsCommand());
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
  void listSendsTheFiltersAndPrintsATableWithTheNextCursor() throws Exception {
    answers.put(
        "GET /api/v1/workflows",
        new Object[] {
          200,
          "{\"items\":[{\"id\":\"wf-1\",\"workflow\":\"checkout\",\"tenantId\":null,"
              + "\"status\":\"failed\",\"version\":1,\"createdAt\":\"2026-12-07T10:00:00Z\","
              + "\"updatedAt\":\"2026-12-07T10:00:01Z\",\"completedAt\":null}],"
              + "\"nextCursor\":\"abc\"}"
        });

    Run r =
        run(
            "list",
            "--status",
            "failed",
            "--workflow",
            "checkout",
            "--from",
            "2026-12-01T00:00:00Z",
            "--limit",
            "1");

    assertThat(r.code()).as(r.err()).isZero();
    assertThat(seen)
        .containsExactly(
            "GET /api/v1/workflows?status=failed&workflow=checkout&from=2026-12-01T00%3A00%3A00Z"
                + "&limit=1 ");
    assertThat(r.out()).contains("wf-1", "checkout", "failed", "next page: --cursor abc");
    Run json = run("list", "--json");
    assertThat(JSON.readTree(json.out()).get("nextCursor").asText()).isEqualTo("abc");
    assertThat(JSON.readTree(json.out()).get("items").get(0).get("createdAt").asText())
        .isEqualTo("2026-12-07T10:00:00Z");
  }

  @Test
  void retryAndCancelPostTheReasonAndPrintTheExecution() throws Exception {
    answers.put("POST /api/v1/workflows/wf-1/retry", new Object[] {202, EXECUTION});
    answers.put(
        "POST /api/v1/workflows/wf-9/cancel",
        new Object[] {
          409,
          "{\"title\":\"Conflict\",\"status\":409,\"detail\":\"workflow 'wf-9' is already"
              + " completed\"}"
        });

    Run retried = run("retry", "wf-1", "--reason", "card fixed");

    assertThat(retried.code()).as(retried.err()).isZero();
    assertThat(seen.get(0))
        .isEqualTo("POST /api/v1/workflows/wf-1/retry {\"reason\":\"card fixed\"}");
    assertThat(retried.out()).contains("wf-1  checkout  running", "reserve", "reruns: wf-2");
    Run json = run("retry", "wf-1", "--json");
    assertThat(JSON.readTree(json.out()).get("reruns").get(0).asText()).isEqualTo("wf-2");
    assertThat(seen.get(1)).isEqualTo("POST /api/v1/workflows/wf-1/retry ");
    Run refused = run("cancel", "wf-9");
    assertThat(refused)
        .isEqualTo(new Run(1, "", "keel: 409 Conflict: workflow 'wf-9' is already completed\n"));
  }

  @Test
  void rerunSendsTheStepAndIdAndReportsAStepNeverReachedByName() {
    answers.put("POST /api/v1/workflows/wf-1/rerun", new Object[] {201, EXECUTION});
    answers.put(
        "POST /api/v1/workflows/wf-3/rerun",
        new Object[] {
          400,
          "{\"title\":\"Bad Request\",\"status\":400,\"detail\":\"the rerun request has invalid"
              + " fields\",\"errors\":[{\"field\":\"fromStep\",\"message\":\"workflow 'wf-3'"
              + " never reached a step named 'ship'\"}]}"
        });

    assertThat(run("rerun", "wf-1", "--from-step", "ship", "--id", "wf-1b").code()).isZero();
    assertThat(seen.get(0))
        .isEqualTo("POST /api/v1/workflows/wf-1/rerun {\"fromStep\":\"ship\",\"id\":\"wf-1b\"}");
    Run refused = run("rerun", "wf-3", "--from-step", "ship");
    assertThat(refused.code()).isEqualTo(1);
    assertThat(refused.err())
        .isEqualTo(
            "keel: 400 Bad Request: the rerun request has invalid fields (fromStep: workflow"
                + " 'wf-3' never reached a step named 'ship')\n");
    assertThat(run("rerun", "wf-1").code()).as("--from-step is required").isEqualTo(2);
  }

  @Test
  void signalSendsItsPayloadAndRefusesOneThatIsNotJson() {
    answers.put(
        "POST /api/v1/workflows/wf-1/signals/approve",
        new Object[] {202, "{\"workflowId\":\"wf-1\",\"signal\":\"approve\"}"});

    Run bad = run("signal", "wf-1", "approve", "--payload", "{by: ops");
    assertThat(bad.code()).isEqualTo(1);
    assertThat(bad.err()).startsWith("keel: --payload is not JSON");
    assertThat(seen).isEmpty();

    Run sent = run("signal", "wf-1", "approve", "--payload", "{\"by\":\"ops\"}");
    assertThat(sent).isEqualTo(new Run(0, "signal approve sent to wf-1\n", ""));
    assertThat(seen)
        .containsExactly("POST /api/v1/workflows/wf-1/signals/approve {\"by\":\"ops\"}");
  }

  @Test
  void showAndHistoryReadTheExecution() throws Exception {
    answers.put("GET /api/v1/workflows/wf-1", new Object[] {200, EXECUTION});
    answers.put(
        "GET /api/v1/workflows/wf-1/history",
        new Object[] {
          200,
          "[{\"seq\":1,\"at\":\"2026-12-07T10:00:00Z\",\"type\":\"WorkflowStarted\",\"data\":{}},"
              + "{\"seq\":2,\"at\":\"2026-12-07T10:00:01Z\",\"type\":\"WorkflowRetried\","
              + "\"data\":{\"fromSeq\":1}}]"
        });

    assertThat(run("show", "wf-1").out()).contains("STEP", "reserve", "\"r1\"");
    Run history = run("history", "wf-1");
    assertThat(history.out()).contains("WorkflowStarted", "WorkflowRetried");
    assertThat(JSON.readTree(run("history", "wf-1", "--json").out()).get(1).get("type").asText())
        .isEqualTo("WorkflowRetried");
    assertThat(run("show", "bad id!").code()).isEqualTo(1);
  }
}
