package dev.keel.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.persistence.KeelTracing;
import dev.keel.persistence.RequestScope;
import dev.keel.persistence.TraceParent;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.MDC;

/**
 * The HTTP request span ({@link RequestTracing}) on a real server: a client's {@code traceparent}
 * continued, the span named by route template and ended with the status, the route working in it
 * (its log lines and the commands it sends name it); with traces off, no span and a client's
 * traceparent not followed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RequestTracingTest {

  private static final String TOKEN = "test-token-1234567890";
  private static final String CALLER = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  private static final ObjectMapper JSON = Json.mapper();

  @TempDir Path dataDir;

  private final InMemorySpanExporter spans = InMemorySpanExporter.create();
  private OpenTelemetrySdk sdk;
  private ActorTestKit testKit;
  private RouteServer traced;
  private RouteServer untraced;

  @BeforeAll
  void bind() throws Exception {
    sdk =
        OpenTelemetrySdk.builder()
            .setTracerProvider(
                SdkTracerProvider.builder()
                    .addSpanProcessor(SimpleSpanProcessor.create(spans))
                    .build())
            .build();
    testKit = ActorTestKit.create("RequestTracingTest");
    KeelTracing tracing = KeelTracing.get(testKit.system());
    tracing.install(sdk);
    traced = RouteServer.bind("RequestTracingTestOn", route(RequestTracing.of(tracing)));
    untraced = RouteServer.bind("RequestTracingTestOff", route(RequestTracing.OFF));
  }

  /** GET /api/v1/workflows/{id}: answers the trace the route saw, after authentication. */
  private Route route(RequestTracing tracing) throws Exception {
    HttpApi api = new HttpApi(Json.mapper(), AdminToken.resolve(Optional.of(TOKEN), dataDir), 1024);
    return api.observed(
        new HttpMetrics(new SimpleMeterRegistry()),
        tracing,
        () ->
            api.withProblemHandling(
                () ->
                    api.pathPrefix(
                        "api",
                        () ->
                            api.pathPrefix(
                                "v1",
                                () ->
                                    api.authenticated(
                                        caller ->
                                            api.pathPrefix(
                                                "workflows",
                                                () ->
                                                    api.path(
                                                        id ->
                                                            api.get(
                                                                () ->
                                                                    api.complete(
                                                                        api.json(
                                                                            StatusCodes.OK,
                                                                            seen()))))))))));
  }

  private static Map<String, String> seen() {
    Map<String, String> seen = new LinkedHashMap<>();
    seen.put("traceId", String.valueOf(MDC.get(RequestScope.TRACE_ID_FIELD)));
    seen.put("traceParent", RequestScope.traceParent().orElse("none"));
    return seen;
  }

  @AfterAll
  void unbind() throws Exception {
    if (traced != null) traced.close();
    if (untraced != null) untraced.close();
    testKit.shutdownTestKit();
    sdk.close();
  }

  @BeforeEach
  void forget() {
    spans.reset();
  }

  private JsonNode get(RouteServer server, String traceParent) throws Exception {
    HttpRequest.Builder b =
        server.request("/api/v1/workflows/w-1").GET().header("Authorization", "Bearer " + TOKEN);
    if (traceParent != null) b.header(TraceParent.HEADER, traceParent);
    var response = server.send(b);
    assertThat(response.statusCode()).isEqualTo(200);
    return JSON.readTree(response.body());
  }

  @Test
  void aClientsTraceIsContinuedByTheRequestSpanThatTheRouteWorksIn() throws Exception {
    JsonNode seen = get(traced, CALLER);

    assertThat(spans.getFinishedSpanItems()).hasSize(1);
    SpanData span = spans.getFinishedSpanItems().get(0);
    assertThat(span.getName()).isEqualTo("GET /api/v1/workflows/{id}");
    assertThat(span.getKind()).isEqualTo(SpanKind.SERVER);
    assertThat(span.getTraceId()).isEqualTo("0af7651916cd43dd8448eb211c80319c");
    assertThat(span.getParentSpanId()).isEqualTo("b7ad6b7169203331");
    assertThat(span.getAttributes().asMap().toString())
        .contains("http.response.status_code=200", "http.route=/api/v1/workflows/{id}");
    assertThat(seen.get("traceId").asText()).isEqualTo(span.getTraceId());
    assertThat(seen.get("traceParent").asText()).contains(span.getSpanId());
  }

  @Test
  void withoutAClientTraceTheRequestStartsOne() throws Exception {
    JsonNode seen = get(traced, null);

    SpanData span = spans.getFinishedSpanItems().get(0);
    assertThat(span.getParentSpanContext().isValid()).isFalse();
    assertThat(seen.get("traceId").asText()).isEqualTo(span.getTraceId());
  }

  @Test
  void withTracesOffNoSpanIsMadeAndAClientsTraceIsNotFollowed() throws Exception {
    JsonNode seen = get(untraced, CALLER);

    assertThat(spans.getFinishedSpanItems()).isEmpty();
    assertThat(seen.get("traceId").asText()).isEqualTo("null");
    assertThat(seen.get("traceParent").asText()).isEqualTo("none");
  }
}
