package dev.keel.node;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import dev.keel.persistence.RequestScope;
import dev.keel.persistence.TestDatabases;
import dev.keel.workflow.execution.WorkflowExecution;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;

/**
 * Issue 19's traces end to end: two nodes in turn on one database export their spans over OTLP/HTTP
 * to a receiver in this test (a JDK HttpServer on {@code /v1/traces}, decoded with the OTLP proto
 * classes). A client's traced request starts a workflow that calls out, sleeps across a node
 * restart and calls out again; the whole of it is one trace under the client's span.
 */
class TracingIT {

  /** The client's span (W3C's own example). */
  private static final String CALLER = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

  private static final String CALLER_TRACE = "0af7651916cd43dd8448eb211c80319c";

  /** One exported span, as the receiver decoded it. */
  record Received(
      String instance, String traceId, String spanId, String parentSpanId, String name) {}

  private final List<Received> spans = new CopyOnWriteArrayList<>();
  private final List<String> outgoingTraceParents = new CopyOnWriteArrayList<>();

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"h2", "postgres"})
  void aWorkflowThatSleepsAcrossANodeRestartIsOneTraceUnderTheClientsSpan(String kind)
      throws Exception {
    HttpServer receiver = receiver();
    ListAppender<ILoggingEvent> lines = new ListAppender<>();
    Logger executions = (Logger) LoggerFactory.getLogger(WorkflowExecution.class);
    lines.start();
    executions.addAppender(lines);
    Path dir = Files.createTempDirectory("keel-it-tracing-" + kind);
    TestDatabases.FreshPostgres pg = kind.equals("h2") ? null : TestDatabases.freshPostgres();
    try {
      Map<String, Object> db = new HashMap<>();
      db.put("keel.node.data-dir", dir.toString());
      if (pg != null) {
        db.put("keel.database.url", pg.settings().url());
        db.put("keel.database.user", pg.settings().user());
        if (!pg.settings().password().isEmpty())
          db.put("keel.database.password", pg.settings().password());
      }
      int port = receiver.getAddress().getPort();
      String base = "http://127.0.0.1:" + port;
      String id = kind + "-traced";
      String input =
          "{\"steps\":["
              + "{\"name\":\"call\",\"request\":{\"method\":\"GET\",\"url\":\""
              + base
              + "/echo\"}},"
              + "{\"name\":\"nap\",\"sleep\":\"PT6S\"},"
              + "{\"name\":\"again\",\"request\":{\"method\":\"GET\",\"url\":\""
              + base
              + "/echo\"}}]}";

      try (KeelNode first = start(db, port, "node-1")) {
        HttpResponse<String> started =
            new NodeHttpWithTrace(first)
                .post(
                    "/api/v1/workflows",
                    "{\"workflow\":\"http-sequence\",\"id\":\""
                        + id
                        + "\",\"input\":"
                        + input
                        + "}");
        assertThat(started.statusCode()).as(started.body()).isEqualTo(201);
        NodeHttp.ready(first)
            .await(
                "/api/v1/workflows/" + id,
                v -> v.get("status").asText().equals("sleeping"),
                "sleeps");
      } // stopping flushes its spans
      try (KeelNode second = start(db, port, "node-2")) {
        JsonNode done =
            NodeHttp.ready(second)
                .await(
                    "/api/v1/workflows/" + id,
                    v -> v.get("status").asText().equals("completed"),
                    "completes on the second node",
                    Duration.ofSeconds(30));
        assertThat(done.get("output").get("again").get("status").asInt()).isEqualTo(200);
      }

      Received request = only("POST /api/v1/workflows");
      assertThat(request.traceId()).isEqualTo(CALLER_TRACE);
      assertThat(request.parentSpanId()).isEqualTo("b7ad6b7169203331");
      assertThat(request.instance()).isEqualTo("node-1");
      Received handling = only("workflow Start");
      assertThat(handling.parentSpanId()).isEqualTo(request.spanId());
      Received call = only("step call");
      Received nap = only("sleep nap");
      Received again = only("step again");
      assertThat(List.of(handling, call, nap, again))
          .allSatisfy(s -> assertThat(s.traceId()).isEqualTo(CALLER_TRACE));
      assertThat(List.of(call, nap, again))
          .allSatisfy(s -> assertThat(s.parentSpanId()).isEqualTo(handling.spanId()));
      assertThat(call.instance()).isEqualTo("node-1");
      // The sleep ended, and the last step ran, on the node that took over after the restart.
      assertThat(nap.instance()).isEqualTo("node-2");
      assertThat(again.instance()).isEqualTo("node-2");
      // Each outgoing request named the step it was sent from.
      assertThat(outgoingTraceParents)
          .containsExactly(
              "00-" + CALLER_TRACE + "-" + call.spanId() + "-01",
              "00-" + CALLER_TRACE + "-" + again.spanId() + "-01");
      // Log lines carry the trace: the entity's line about the start names it.
      assertThat(lines.list)
          .filteredOn(e -> e.getFormattedMessage().startsWith("workflow started id=" + id))
          .singleElement()
          .satisfies(
              e ->
                  assertThat(e.getMDCPropertyMap())
                      .containsEntry(RequestScope.TRACE_ID_FIELD, CALLER_TRACE)
                      .containsEntry(RequestScope.SPAN_ID_FIELD, handling.spanId()));
    } finally {
      executions.detachAppender(lines);
      receiver.stop(0);
      if (pg != null) pg.close();
    }
  }

  private Received only(String name) {
    List<Received> named = spans.stream().filter(s -> s.name().equals(name)).toList();
    assertThat(named)
        .as("spans named '%s' among %s", name, spans.stream().map(Received::name).toList())
        .hasSize(1);
    return named.get(0);
  }

  private static KeelNode start(Map<String, Object> db, int receiverPort, String instance) {
    Map<String, String> overrides = new HashMap<>();
    db.forEach((k, v) -> overrides.put(k, String.valueOf(v)));
    overrides.put("keel.node.instance-id", instance);
    overrides.put("keel.tracing.enabled", "true");
    // What OTEL_EXPORTER_OTLP_ENDPOINT would say, without touching this JVM's environment.
    overrides.put(
        "keel.tracing.sdk-overrides.\"otel.exporter.otlp.endpoint\"",
        "http://127.0.0.1:" + receiverPort);
    overrides.put("keel.tracing.sdk-overrides.\"otel.bsp.schedule.delay\"", "100");
    // The sleep outlives the first node; a quick wake-up index brings it back on the second.
    overrides.put("keel.workflows.passivate-after", "1s");
    overrides.put("keel.workflows.idle-timeout", "1s");
    overrides.put("keel.workflows.wakeup-poll-interval", "1s");
    overrides.put("keel.workflows.wakeup-lookahead", "3s");
    return NodeHttp.start(overrides);
  }

  /** The OTLP/HTTP receiver, and {@code /echo}, which notes the traceparent it was sent. */
  private HttpServer receiver() throws Exception {
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/v1/traces",
        exchange -> {
          ExportTraceServiceRequest request =
              ExportTraceServiceRequest.parseFrom(exchange.getRequestBody().readAllBytes());
          for (ResourceSpans resource : request.getResourceSpansList()) {
            String instance =
                resource.getResource().getAttributesList().stream()
                    .filter(a -> a.getKey().equals("service.instance.id"))
                    .map(KeyValue::getValue)
                    .map(v -> v.getStringValue())
                    .findFirst()
                    .orElse("");
            for (ScopeSpans scope : resource.getScopeSpansList()) {
              scope
                  .getSpansList()
                  .forEach(
                      s ->
                          spans.add(
                              new Received(
                                  instance,
                                  hex(s.getTraceId().toByteArray()),
                                  hex(s.getSpanId().toByteArray()),
                                  hex(s.getParentSpanId().toByteArray()),
                                  s.getName())));
            }
          }
          byte[] answer = ExportTraceServiceResponse.getDefaultInstance().toByteArray();
          exchange.getResponseHeaders().add("Content-Type", "application/x-protobuf");
          exchange.sendResponseHeaders(200, answer.length);
          exchange.getResponseBody().write(answer);
          exchange.close();
        });
    server.createContext(
        "/echo",
        exchange -> {
          outgoingTraceParents.add(
              String.valueOf(exchange.getRequestHeaders().getFirst("traceparent")));
          byte[] body = "{}".getBytes();
          exchange.getResponseHeaders().add("Content-Type", "application/json");
          exchange.sendResponseHeaders(200, body.length);
          exchange.getResponseBody().write(body);
          exchange.close();
        });
    server.start();
    return server;
  }

  private static String hex(byte[] bytes) {
    return HexFormat.of().formatHex(bytes);
  }

  /** A client whose request is part of the caller's trace. */
  private record NodeHttpWithTrace(KeelNode node) {
    HttpResponse<String> post(String path, String body) throws Exception {
      NodeHttp.ready(node);
      return HttpClient.newHttpClient()
          .send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpPort() + path))
                  .header("Authorization", "Bearer " + NodeHttp.TOKEN)
                  .header("Content-Type", "application/json")
                  .header("traceparent", CALLER)
                  .POST(HttpRequest.BodyPublishers.ofString(body))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
    }
  }
}
