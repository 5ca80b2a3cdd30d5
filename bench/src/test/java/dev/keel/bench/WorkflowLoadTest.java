package dev.keel.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.bench.StubNode.Run;
import java.io.IOException;
import java.time.Instant;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

/** Drives the load program against a stub node on loopback that follows the API contract. */
class WorkflowLoadTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Instant T0 = Instant.parse("2026-11-22T09:00:00.000Z");

  private final Map<String, Integer> polls = new ConcurrentHashMap<>();
  private final Queue<JsonNode> startBodies = new ConcurrentLinkedQueue<>();
  private final Queue<String> waits = new ConcurrentLinkedQueue<>();
  private final Queue<String> startWaits = new ConcurrentLinkedQueue<>();
  private final AtomicInteger badAuth = new AtomicInteger();

  /**
   * Whether the stub honours a start's ?wait (answers it completed) or ignores it like an older
   * node.
   */
  private volatile boolean finalOnStart;

  /** Whether the stub answers the first start of every workflow 503 with Retry-After: 0. */
  private volatile boolean unavailableOnce;

  private final Set<String> refusedOnce = ConcurrentHashMap.newKeySet();
  @AutoClose private StubNode node;

  @Test
  void aNodeThatIgnoresTheStartsWaitIsLongPolled_bothLatenciesReported() throws Exception {
    startStub(201);

    Run run = run("--workflows", "20", "--warmup", "5", "--concurrency", "4");

    assertThat(run.exitCode()).as(run.log()).isZero();
    JsonNode report = run.report();
    assertThat(report.get("started").asInt()).isEqualTo(20);
    assertThat(report.get("completed").asInt()).isEqualTo(20);
    assertThat(report.get("failed").asInt()).isZero();
    assertThat(report.get("warmup").get("completed").asInt()).isEqualTo(5);
    assertThat(report.get("parameters").get("concurrency").asInt()).isEqualTo(4);
    assertThat(report.get("nonSuccessResponses").isEmpty()).isTrue();
    // The stub puts completedAt exactly 250 ms after createdAt.
    JsonNode node = report.get("latencyMs").get("server");
    assertThat(node.get("count").asInt()).isEqualTo(20);
    assertThat(node.get("p50").asDouble()).isEqualTo(250.0);
    assertThat(node.get("max").asDouble()).isEqualTo(250.0);
    JsonNode client = report.get("latencyMs").get("client");
    assertThat(client.get("count").asInt()).isEqualTo(20);
    assertThat(client.get("p50").asDouble()).isPositive();

    assertThat(badAuth.get()).isZero();
    assertThat(startBodies).hasSize(25);
    JsonNode first = startBodies.peek();
    assertThat(first.get("workflow").asText()).isEqualTo("example");
    assertThat(first.get("id").asText()).matches("^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$");
    assertThat(first.get("input").get("action").asText()).isEqualTo("bench");
    assertThat(first.get("input").get("userId").asText()).startsWith("u-");
    assertThat(startBodies.stream().map(b -> b.get("id").asText()).distinct()).hasSize(25);
    // Every start asked to wait; the stub ignored it, so every workflow is polled once while
    // running, then answered completed.
    assertThat(startWaits).hasSize(25).containsOnly("wait=PT30S");
    assertThat(polls.values()).hasSize(25).containsOnly(2);
    assertThat(waits).hasSize(50).containsOnly("wait=PT30S");
  }

  @Test
  void aStartAnsweredFinalIsNotPolled() throws Exception {
    finalOnStart = true;
    startStub(201);

    Run run = run("--workflows", "20", "--warmup", "3", "--concurrency", "4");

    assertThat(run.exitCode()).as(run.log()).isZero();
    JsonNode report = run.report();
    assertThat(report.get("completed").asInt()).isEqualTo(20);
    assertThat(report.get("latencyMs").get("server").get("count").asInt()).isEqualTo(20);
    assertThat(report.get("latencyMs").get("server").get("p50").asDouble()).isEqualTo(250.0);
    assertThat(report.get("latencyMs").get("client").get("count").asInt()).isEqualTo(20);
    assertThat(startWaits).hasSize(23).containsOnly("wait=PT30S");
    assertThat(waits).as("no GET follows a final answer").isEmpty();
    assertThat(polls.values()).hasSize(23).containsOnly(0);
    assertThat(badAuth.get()).isZero();
  }

  @Test
  void theStartsWaitEndsByTheDeadline() throws Exception {
    finalOnStart = true;
    startStub(201);

    Run run = run("--max-seconds", "7", "--workflows", "3", "--warmup", "0", "--concurrency", "1");

    assertThat(run.exitCode()).as(run.log()).isZero();
    assertThat(startWaits).hasSize(3).allMatch(q -> q.matches("wait=PT[1-7]S"), "at most 7 s");
  }

  @Test
  void a503IsRetriedAfterItsRetryAfter_onTheSameIdempotentStart() throws Exception {
    finalOnStart = true;
    unavailableOnce = true;
    startStub(201);

    Run run = run("--workflows", "6", "--warmup", "0", "--concurrency", "2");

    assertThat(run.exitCode()).as(run.log()).isZero();
    JsonNode report = run.report();
    assertThat(report.get("completed").asInt()).isEqualTo(6);
    assertThat(report.get("nonSuccessResponses").get("503").asInt()).isEqualTo(6);
    assertThat(report.get("errors").get("start answered 503").asInt()).isEqualTo(6);
    assertThat(startBodies).hasSize(12);
    assertThat(startBodies.stream().map(b -> b.get("id").asText()).distinct()).hasSize(6);
  }

  @Test
  void endpointsOtherThanHttpOrHttpsAreRefusedAtOptionParsing() {
    assertThatThrownBy(
            () ->
                LoadOptions.parse(
                    new String[] {"--endpoint", "ftp://node.example:8443", "--token", "t"},
                    Map.of()))
        .hasMessageContaining("http(s) URL")
        .hasMessageContaining("ftp://node.example:8443");
    // https is accepted (the TLS files come from KEEL_TLS_*).
    assertThat(
            LoadOptions.parse(
                    new String[] {"--endpoint", "https://node.example:8443", "--token", "t"},
                    Map.of())
                .endpoints())
        .extracting(Object::toString)
        .containsExactly("https://node.example:8443");
  }

  @Test
  void aRefusedTokenStopsTheRunInsteadOfHammeringTheNode() throws Exception {
    startStub(401);

    Run run = run("--workflows", "50", "--warmup", "0", "--concurrency", "2");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.report().get("aborted").asText()).contains("401");
    assertThat(run.report().get("started").asInt()).isLessThanOrEqualTo(2);
  }

  @Test
  void optionsHaveTheDocumentedDefaultsAndTakeTheTokenFromTheEnvironment() {
    LoadOptions options = LoadOptions.parse(new String[0], Map.of("KEEL_TOKEN", " secret\n"));

    assertThat(options.endpoint()).hasToString("http://127.0.0.1:8080");
    assertThat(options.token()).isEqualTo("secret");
    assertThat(options.workflows()).isEqualTo(2000);
    assertThat(options.concurrency()).isEqualTo(64);
    assertThat(options.rate()).isEmpty();
    assertThat(options.workflow()).isEqualTo("example");
    assertThat(options.warmup()).isEqualTo(200);
    assertThat(options.maxSeconds()).isEqualTo(300);
    assertThat(options.toString()).doesNotContain("secret");

    LoadOptions given =
        LoadOptions.parse(
            new String[] {"--rate=150.5", "--endpoint", "http://127.0.0.1:9/", "--token", "t"},
            Map.of());
    assertThat(given.rate()).hasValue(150.5);
    assertThat(given.endpoint()).hasToString("http://127.0.0.1:9");

    assertThatThrownBy(
            () -> LoadOptions.parse(new String[] {"--concurrency", "0", "--token", "t"}, Map.of()))
        .hasMessageContaining("--concurrency");
    assertThatThrownBy(() -> LoadOptions.parse(new String[] {"--speed", "1"}, Map.of()))
        .hasMessageContaining("unknown option --speed");
    assertThatThrownBy(
            () -> LoadOptions.parse(new String[] {"--data-dir", "/nonexistent-keel-dir"}, Map.of()))
        .hasMessageContaining("no token");
  }

  // ---- stub node ----

  @Test
  void severalEndpointsTakeTurns_eachWorkflowFollowedWhereItStarted() throws Exception {
    startStub(201);
    Map<String, String> startedOn = new ConcurrentHashMap<>();
    Queue<String> misplacedPolls = new ConcurrentLinkedQueue<>();
    try (StubNode second = StubNode.start()) {
      // The second node only records; it answers like the first.
      com.sun.net.httpserver.HttpHandler first = route(201);
      second.route(
          "/api/v1/workflows",
          exchange -> {
            String path = exchange.getRequestURI().getPath();
            if ("GET".equals(exchange.getRequestMethod())) {
              String id = path.substring("/api/v1/workflows/".length());
              if (!"second".equals(startedOn.get(id))) misplacedPolls.add(id);
            }
            if ("POST".equals(exchange.getRequestMethod())) {
              byte[] body = exchange.getRequestBody().readAllBytes();
              startedOn.put(JSON.readTree(body).get("id").asText(), "second");
              exchange.setStreams(new java.io.ByteArrayInputStream(body), null);
            }
            first.handle(exchange);
          });
      String[] args =
          node.args(
              "--max-seconds", "60", "--workflows", "20", "--warmup", "0", "--concurrency", "4");
      args[1] = node.endpoint() + "," + second.endpoint();
      Run run = Run.of(new WorkflowLoad(LoadOptions.parse(args, Map.of()))::run);

      assertThat(run.exitCode()).as(run.log()).isZero();
      assertThat(run.report().get("completed").asInt()).isEqualTo(20);
      assertThat(startedOn).as("every other workflow started on the second node").hasSize(10);
      assertThat(misplacedPolls).as("polls go to the node that started the workflow").isEmpty();
      assertThat(run.report().get("parameters").get("endpoint").asText())
          .isEqualTo(node.endpoint() + "," + second.endpoint());
    }
  }

  private void startStub(int startStatus) throws IOException {
    node = StubNode.start().route("/api/v1/workflows", route(startStatus));
  }

  private com.sun.net.httpserver.HttpHandler route(int startStatus) {
    return exchange -> {
      if (!StubNode.authorized(exchange)) {
        badAuth.incrementAndGet();
      }
      String path = exchange.getRequestURI().getPath();
      if ("POST".equals(exchange.getRequestMethod()) && path.equals("/api/v1/workflows")) {
        JsonNode body = JSON.readTree(exchange.getRequestBody());
        startBodies.add(body);
        String query = exchange.getRequestURI().getQuery();
        startWaits.add(String.valueOf(query));
        if (startStatus != 201) {
          StubNode.reply(
              exchange, startStatus, "{\"status\": " + startStatus + ", \"title\": \"no\"}");
          return;
        }
        String id = body.get("id").asText();
        if (unavailableOnce && refusedOnce.add(id)) {
          exchange.getResponseHeaders().set("Retry-After", "0");
          StubNode.reply(exchange, 503, "{\"status\": 503}");
          return;
        }
        polls.put(id, 0);
        StubNode.reply(
            exchange,
            201,
            execution(id, finalOnStart && query != null && query.startsWith("wait=")));
      } else if ("GET".equals(exchange.getRequestMethod())) {
        String id = path.substring("/api/v1/workflows/".length());
        waits.add(exchange.getRequestURI().getQuery());
        int n = polls.merge(id, 1, Integer::sum);
        StubNode.reply(exchange, 200, execution(id, n >= 2));
      } else {
        StubNode.reply(exchange, 405, "{}");
      }
    };
  }

  private static String execution(String id, boolean completed) throws IOException {
    ObjectNode e = JSON.createObjectNode();
    e.put("id", id);
    e.put("workflow", "example");
    e.put("status", completed ? "completed" : "running");
    e.put("createdAt", T0.toString());
    if (completed) {
      e.put("completedAt", T0.plusMillis(250).toString());
    }
    return JSON.writeValueAsString(e);
  }

  private Run run(String... extra) throws Exception {
    String[] args =
        Stream.concat(Stream.of("--max-seconds", "60"), Stream.of(extra)).toArray(String[]::new);
    return Run.of(new WorkflowLoad(LoadOptions.parse(node.args(args), Map.of()))::run);
  }
}
