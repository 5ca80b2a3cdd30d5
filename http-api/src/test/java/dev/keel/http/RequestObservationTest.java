package dev.keel.http;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.tenant.TenantService;
import io.micrometer.core.instrument.Meter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The directive around every route ({@link HttpApi#observed}) and the metrics routes, on a real
 * server: request ids in and out, requests counted by route template, the access line carrying the
 * id, {@code /metrics} open and {@code /api/v1/metrics} for the admin only.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RequestObservationTest {

  private static final String TOKEN = "test-token-1234567890";
  private static final String TENANT_KEY = "keel_t1_0123456789abcdef";
  private static final ObjectMapper JSON = Json.mapper();

  @TempDir Path dataDir;

  private RouteServer server;
  private PrometheusMeterRegistry registry;
  private final ListAppender<ILoggingEvent> accessLines = new ListAppender<>();

  @BeforeAll
  void bind() throws Exception {
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    HttpApi api =
        new HttpApi(
            Json.mapper(),
            AdminToken.resolve(Optional.of(TOKEN), dataDir),
            key ->
                CompletableFuture.completedFuture(
                    key.equals(TENANT_KEY)
                        ? new TenantService.AuthenticatedTenant("t1")
                        : new TenantService.Refused(401, "the token is not known")),
            1024);
    MetricsRoutes metrics =
        new MetricsRoutes(
            api,
            registry::scrape,
            () -> CompletableFuture.completedFuture(Map.of("figures", "here")));
    Route route =
        api.observed(
            new HttpMetrics(registry),
            () ->
                api.withProblemHandling(
                    () ->
                        api.concat(
                            metrics.prometheus(),
                            api.pathPrefix(
                                "api",
                                () ->
                                    api.pathPrefix(
                                        "v1",
                                        () ->
                                            api.authenticated(
                                                caller ->
                                                    api.concat(
                                                        metrics.figures(caller),
                                                        api.pathPrefix(
                                                            "workflows",
                                                            () ->
                                                                api.path(
                                                                    id ->
                                                                        api.get(
                                                                            () ->
                                                                                api
                                                                                    .headerValueByName(
                                                                                        HttpApi
                                                                                            .REQUEST_ID,
                                                                                        seen ->
                                                                                            api
                                                                                                .complete(
                                                                                                    api
                                                                                                        .json(
                                                                                                            StatusCodes
                                                                                                                .OK,
                                                                                                            Map
                                                                                                                .of(
                                                                                                                    "id",
                                                                                                                    id,
                                                                                                                    "requestIdSeen",
                                                                                                                    seen))))))))))))));
    server = RouteServer.bind("RequestObservationTest", route);
    Logger access = (Logger) LoggerFactory.getLogger("dev.keel.http.access");
    access.setLevel(ch.qos.logback.classic.Level.DEBUG);
    accessLines.start();
    access.addAppender(accessLines);
  }

  @AfterAll
  void unbind() throws Exception {
    ((Logger) LoggerFactory.getLogger("dev.keel.http.access")).detachAppender(accessLines);
    if (server != null) server.close();
  }

  @BeforeEach
  void forgetLines() {
    accessLines.list.clear();
  }

  private HttpResponse<String> get(String path, String token, String requestId) throws Exception {
    HttpRequest.Builder b = server.request(path).GET();
    if (token != null) b.header("Authorization", "Bearer " + token);
    if (requestId != null) b.header(HttpApi.REQUEST_ID, requestId);
    return server.send(b);
  }

  @Test
  void aClientsRequestIdIsSeenByTheRouteAndReturned() throws Exception {
    HttpResponse<String> r = get("/api/v1/workflows/w-1", TOKEN, "client-req.42");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue(HttpApi.REQUEST_ID)).contains("client-req.42");
    assertThat(JSON.readTree(r.body()).get("requestIdSeen").asText()).isEqualTo("client-req.42");
  }

  @Test
  void aMissingOrUnsafeRequestIdIsReplacedByANewOne() throws Exception {
    String generated =
        get("/api/v1/workflows/w-1", TOKEN, null)
            .headers()
            .firstValue(HttpApi.REQUEST_ID)
            .orElseThrow();
    String other =
        get("/api/v1/workflows/w-1", TOKEN, null)
            .headers()
            .firstValue(HttpApi.REQUEST_ID)
            .orElseThrow();
    assertThat(generated).matches("[0-9a-f-]{36}").isNotEqualTo(other);

    HttpResponse<String> unsafe = get("/api/v1/workflows/w-1", TOKEN, "a b\"<script>");
    String replaced = unsafe.headers().firstValue(HttpApi.REQUEST_ID).orElseThrow();
    assertThat(replaced).matches("[0-9a-f-]{36}");
    assertThat(JSON.readTree(unsafe.body()).get("requestIdSeen").asText()).isEqualTo(replaced);
    assertThat(
            get("/api/v1/workflows/w-1", TOKEN, "x".repeat(129))
                .headers()
                .firstValue(HttpApi.REQUEST_ID)
                .orElseThrow())
        .matches("[0-9a-f-]{36}");
  }

  @Test
  void requestsAreCountedByRouteTemplateAndStatusNotById() throws Exception {
    double refusedBefore = count("GET", "/api/v1/workflows/{id}", "401");
    double okBefore = count("GET", "/api/v1/workflows/{id}", "200");
    get("/api/v1/workflows/count-me-1", TOKEN, null);
    get("/api/v1/workflows/count-me-2", TOKEN, null);
    get("/api/v1/workflows/count-me-3", null, null);

    assertThat(count("GET", "/api/v1/workflows/{id}", "401")).isEqualTo(refusedBefore + 1);
    assertThat(count("GET", "/api/v1/workflows/{id}", "200")).isEqualTo(okBefore + 2);
    for (Meter m : registry.getMeters()) {
      assertThat(m.getId().getTags().toString()).doesNotContain("count-me");
    }
    String text = get("/metrics", null, null).body();
    assertThat(text)
        .contains(
            "keel_http_requests_seconds_count{method=\"GET\",route=\"/api/v1/workflows/{id}\",status=\"401\"}")
        .contains("keel_http_requests_seconds_bucket{")
        .doesNotContain("count-me");
  }

  private double count(String method, String route, String status) {
    var timer =
        registry
            .find("keel.http.requests")
            .tags("method", method, "route", route, "status", status)
            .timer();
    return timer == null ? 0 : timer.count();
  }

  @Test
  void metricsNeedNoTokenAndArePrometheusText() throws Exception {
    HttpResponse<String> r = get("/metrics", null, null);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain");
    assertThat(r.body()).contains("# TYPE keel_http_requests_seconds histogram");
  }

  @Test
  void figuresAreForTheAdminOnly() throws Exception {
    assertThat(get("/api/v1/metrics", null, null).statusCode()).isEqualTo(401);
    HttpResponse<String> tenant = get("/api/v1/metrics", TENANT_KEY, null);
    assertThat(tenant.statusCode()).isEqualTo(403);
    assertThat(tenant.headers().firstValue("Content-Type").orElse(""))
        .startsWith("application/problem+json");
    JsonNode figures = JSON.readTree(get("/api/v1/metrics", TOKEN, null).body());
    assertThat(figures.get("figures").asText()).isEqualTo("here");
  }

  @Test
  void theAccessLineCarriesTheRequestIdAndNeverTheToken() throws Exception {
    get("/api/v1/workflows/w-9", TOKEN + "-wrong", "trace-me-7");
    get("/api/v1/workflows/w-9", TOKEN, "trace-me-8");

    ILoggingEvent refused =
        accessLines.list.stream()
            .filter(e -> "trace-me-7".equals(e.getMDCPropertyMap().get("requestId")))
            .findFirst()
            .orElseThrow(
                () -> new AssertionError("no access line with trace-me-7: " + accessLines.list));
    assertThat(refused.getLevel()).isEqualTo(ch.qos.logback.classic.Level.INFO);
    assertThat(refused.getFormattedMessage())
        .contains("status=401")
        .contains("route=/api/v1/workflows/{id}");
    ILoggingEvent ok =
        accessLines.list.stream()
            .filter(e -> "trace-me-8".equals(e.getMDCPropertyMap().get("requestId")))
            .findFirst()
            .orElseThrow();
    assertThat(ok.getLevel()).isEqualTo(ch.qos.logback.classic.Level.DEBUG);
    for (ILoggingEvent e : accessLines.list) {
      assertThat(e.getFormattedMessage() + e.getMDCPropertyMap()).doesNotContain(TOKEN);
    }
  }
}
