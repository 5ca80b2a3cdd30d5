package dev.keel.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.client.FakeKeel.Answer;
import dev.keel.client.FakeKeel.Request;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What the client sends and how it reads answers and problems, against {@link FakeKeel}. */
class KeelClientTest {

  private FakeKeel keel;
  private KeelClient client;

  @BeforeEach
  void setUp() throws Exception {
    keel = new FakeKeel();
    client = keel.client().build();
  }

  @AfterEach
  void tearDown() {
    client.close();
    keel.close();
  }

  // ---------------------------------------------------------------- request shapes

  @Test
  void register_putsTheServiceWithBearerTokenAndJson() {
    ServiceView view =
        client.register(
            ServiceInfo.builder("orders-api")
                .name("Orders API")
                .type("processor")
                .endpoint("http://10.0.0.5:8080")
                .metadata("version", "1.4.2")
                .metadata("zone", "a")
                .ttl(Duration.ofSeconds(15))
                .deregisterAfter(Duration.ofMinutes(10))
                .build());

    Request put = keel.requests("PUT", "/api/v1/services/orders-api").get(0);
    assertThat(put.header("Authorization")).isEqualTo("Bearer " + FakeKeel.TOKEN);
    assertThat(put.header("Content-Type")).isEqualTo("application/json");
    assertThat(put.header("Accept")).isEqualTo("application/json");
    assertThat(put.json())
        .isEqualTo(
            json(
                "{\"name\":\"Orders"
                    + " API\",\"type\":\"processor\",\"endpoint\":\"http://10.0.0.5:8080\","
                    + "\"metadata\":{\"version\":\"1.4.2\",\"zone\":\"a\"},\"ttlSeconds\":15,\"deregisterAfterSeconds\":600}"));
    assertThat(view.id()).isEqualTo("orders-api");
    assertThat(view.status()).isEqualTo(ServiceStatus.HEALTHY);
    assertThat(view.metadata()).containsEntry("zone", "a");
    assertThat(view.registeredAt()).isNotNull();
    assertThat(client.serviceId()).contains("orders-api");
  }

  @Test
  void register_leavesOutWhatIsNotSet_andTakesTheServiceIdFromTheBuilder() {
    try (KeelClient c = keel.client().serviceId("from-env").build()) {
      c.register(ServiceInfo.builder().name("n").type("sink").build());
      Request put = keel.requests("PUT", "/api/v1/services/from-env").get(0);
      assertThat(put.json()).isEqualTo(json("{\"name\":\"n\",\"type\":\"sink\",\"metadata\":{}}"));
    }
  }

  @Test
  void heartbeat_postsStatusMetricsAndDetails_andReadsTheAck() {
    client.register(ServiceInfo.builder("svc").name("s").type("source").ttlSeconds(12).build());
    Map<String, Double> metrics = new LinkedHashMap<>();
    metrics.put("lag_seconds", 1.5);
    metrics.put("nan", Double.NaN);
    HeartbeatAck ack = client.heartbeat(HealthStatus.DEGRADED, metrics, Map.of("db", "slow"));

    Request beat = keel.requests("POST", "/api/v1/services/svc/heartbeat").get(0);
    assertThat(beat.json())
        .isEqualTo(
            json(
                "{\"status\":\"degraded\",\"metrics\":{\"lag_seconds\":1.5},\"details\":{\"db\":\"slow\"}}"));
    assertThat(ack.status()).isEqualTo(ServiceStatus.DEGRADED);
    assertThat(ack.ttlSeconds()).isEqualTo(12);
    assertThat(ack.nextHeartbeatBefore()).isNotNull();

    ServiceView view = client.getService("svc");
    assertThat(view.metrics()).containsEntry("lag_seconds", 1.5);
    assertThat(view.details()).containsEntry("db", "slow");
  }

  @Test
  void heartbeat_withoutAService_isAnIllegalState() {
    assertThatThrownBy(() -> client.heartbeat(HealthStatus.HEALTHY, null, null))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("register");
    assertThatThrownBy(() -> client.startHeartbeats(Duration.ofSeconds(1), null, null))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void listServices_followsNextCursorWithFilters() {
    for (int i = 0; i < 1203; i++)
      keel.services.put(
          String.format("s%04d", i),
          (com.fasterxml.jackson.databind.node.ObjectNode)
              json(
                  "{\"id\":\"s"
                      + i
                      + "\",\"type\":\"sink\",\"status\":\"stale\",\"registeredAt\":\"2026-11-22T09:00:00.123Z\",\"metadata\":{\"a\":\"b\"},\"surprise\":[1]}"));
    List<ServiceSummary> all =
        client.listServices("sink", ServiceStatus.STALE, Map.of("zone", "a b"));

    assertThat(all).hasSize(1203);
    assertThat(all.get(0).status()).isEqualTo(ServiceStatus.STALE);
    assertThat(all.get(0).registeredAt()).isEqualTo(Instant.parse("2026-11-22T09:00:00.123Z"));
    List<Request> pages = keel.requests("GET", "/api/v1/services");
    assertThat(pages).hasSize(3);
    assertThat(FakeKeel.query(pages.get(0).query()))
        .containsEntry("type", "sink")
        .containsEntry("status", "stale")
        .containsEntry("metadata", "zone=a b")
        .containsEntry("limit", "500")
        .doesNotContainKey("cursor");
    assertThat(FakeKeel.query(pages.get(1).query()))
        .containsEntry("cursor", "500")
        .containsEntry("type", "sink");
    assertThat(FakeKeel.query(pages.get(2).query())).containsEntry("cursor", "1000");
  }

  @Test
  void unknownStatusWords_readAsUnknown() {
    keel.answerNext(
        "GET", "/api/v1/services/x", Answer.json(200, "{\"id\":\"x\",\"status\":\"hibernating\"}"));
    assertThat(client.getService("x").status()).isEqualTo(ServiceStatus.UNKNOWN);
  }

  @Test
  void health_readsHealthyAndNotHealthy_andTellsANotReadyNodeApart() {
    client.register(ServiceInfo.builder("svc").name("s").type("source").build());
    assertThat(client.health("svc").isHealthy()).isTrue();
    client.heartbeat(HealthStatus.UNHEALTHY, null, null);
    ServiceHealth unhealthy = client.health("svc");
    assertThat(unhealthy.status()).isEqualTo(ServiceStatus.UNHEALTHY);
    assertThat(unhealthy.isHealthy()).isFalse();

    keel.answerNext(
        "GET",
        "/api/v1/services/svc/health",
        new Answer(
            503,
            "application/problem+json",
            "{\"title\":\"Service Unavailable\",\"status\":503,\"detail\":\"the cluster is not"
                + " up\"}",
            Map.of("Retry-After", "2")));
    assertThatThrownBy(() -> client.health("svc"))
        .isInstanceOfSatisfying(
            KeelUnavailableException.class,
            e -> {
              assertThat(e.status()).isEqualTo(503);
              assertThat(e.retryAfter()).contains(Duration.ofSeconds(2));
              assertThat(e.getMessage()).contains("the cluster is not up");
            });
    assertThatThrownBy(() -> client.health("nope"))
        .isInstanceOfSatisfying(KeelApiException.class, e -> assertThat(e.status()).isEqualTo(404));
  }

  @Test
  void deregister_deletes() {
    client.register(ServiceInfo.builder("svc").name("s").type("source").build());
    client.deregister("svc");
    assertThat(keel.requests("DELETE", "/api/v1/services/svc")).hasSize(1);
    assertThat(keel.services).doesNotContainKey("svc");
  }

  @Test
  void alerts_putGetListDelete() {
    String view =
        "{\"id\":\"down\",\"service\":\"*\",\"condition\":\"status !="
            + " healthy\",\"webhook\":\"https://h.example/k\","
            + "\"cooldownSeconds\":300,\"tenantId\":null,\"createdAt\":\"2026-11-22T09:00:00.000Z\",\"updatedAt\":\"2026-11-22T09:00:00.000Z\","
            + "\"triggered\":[\"orders\"],\"firings\":[{\"seq\":1,\"service\":\"orders\",\"status\":\"stale\",\"metrics\":{\"lag\":2.0},"
            + "\"firedAt\":\"2026-11-22T09:01:00.000Z\",\"deliveryWorkflowId\":\"alert-down-1\",\"delivery\":\"started\"}],"
            + "\"firingCount\":1,\"lastFiredAt\":\"2026-11-22T09:01:00.000Z\",\"deferred\":[]}";
    keel.answerNext("PUT", "/api/v1/alerts/down", Answer.json(201, view));
    keel.answerNext("GET", "/api/v1/alerts/down", Answer.json(200, view));
    keel.answerNext(
        "GET",
        "/api/v1/alerts",
        Answer.json(200, "{\"items\":[" + view + "],\"nextCursor\":\"c1\"}"));
    keel.answerNext(
        "GET", "/api/v1/alerts", Answer.json(200, "{\"items\":[],\"nextCursor\":null}"));
    keel.answerNext("DELETE", "/api/v1/alerts/down", new Answer(204, null, null, Map.of()));

    Alert put =
        client.putAlert(
            "down", new AlertRule("*", "status != healthy", "https://h.example/k", 300));
    assertThat(keel.requests("PUT", "/api/v1/alerts/down").get(0).json())
        .isEqualTo(
            json(
                "{\"service\":\"*\",\"condition\":\"status !="
                    + " healthy\",\"webhook\":\"https://h.example/k\",\"cooldownSeconds\":300}"));
    assertThat(put.firings()).hasSize(1);
    assertThat(put.firings().get(0).deliveryWorkflowId()).isEqualTo("alert-down-1");
    assertThat(put.firings().get(0).metrics()).containsEntry("lag", 2.0);
    assertThat(put.firings().get(0).delivery()).isEqualTo("started");
    assertThat(put.firingCount()).isEqualTo(1L);
    assertThat(put.lastFiredAt()).isEqualTo(Instant.parse("2026-11-22T09:01:00Z"));
    assertThat(put.rule())
        .isEqualTo(new AlertRule("*", "status != healthy", "https://h.example/k", 300));
    assertThat(client.getAlert("down").triggered()).containsExactly("orders");
    assertThat(client.listAlerts()).extracting(Alert::id).containsExactly("down");
    assertThat(FakeKeel.query(keel.requests("GET", "/api/v1/alerts").get(2).query()))
        .containsEntry("cursor", "c1");
    client.deleteAlert("down");
    assertThat(keel.requests("DELETE", "/api/v1/alerts/down")).hasSize(1);
  }

  @Test
  void workflows_startGetAndAwaitWithLongPoll() {
    String running =
        "{\"id\":\"wf-1\",\"workflow\":\"example\",\"version\":1,\"status\":\"running\",\"queued\":false,"
            + "\"input\":{\"userId\":\"u\"},\"output\":null,\"steps\":[]}";
    String done =
        "{\"id\":\"wf-1\",\"workflow\":\"example\",\"version\":1,\"status\":\"completed\",\"queued\":false,\"input\":{\"userId\":\"u\"},\"output\":{\"summary\":\"signup"
            + " done for u\"},\"completedAt\":\"2026-11-22T09:00:00.123Z\","
            + "\"steps\":[{\"name\":\"validate\",\"kind\":\"step\",\"status\":\"completed\",\"attempts\":1}]}";
    keel.answerNext("POST", "/api/v1/workflows", Answer.json(201, running));
    keel.answerNext("GET", "/api/v1/workflows/wf-1", Answer.json(200, running));
    keel.answerNext("GET", "/api/v1/workflows/wf-1", Answer.json(200, done));

    record Input(String userId, String action) {}
    WorkflowExecution started = client.startWorkflow("example", "wf-1", new Input("u", "signup"));
    assertThat(keel.requests("POST", "/api/v1/workflows").get(0).json())
        .isEqualTo(
            json(
                "{\"workflow\":\"example\",\"id\":\"wf-1\",\"input\":{\"userId\":\"u\",\"action\":\"signup\"}}"));
    assertThat(started.isFinal()).isFalse();
    assertThat(client.getWorkflow("wf-1").status()).isEqualTo("running");

    WorkflowExecution finished = client.awaitWorkflow("wf-1", Duration.ofSeconds(30));
    assertThat(finished.isCompleted()).isTrue();
    assertThat(finished.outputAs(JsonNode.class).get("summary").asText())
        .isEqualTo("signup done for u");
    assertThat(finished.steps().get(0).name()).isEqualTo("validate");
    Request poll = keel.requests("GET", "/api/v1/workflows/wf-1").get(1);
    assertThat(FakeKeel.query(poll.query())).containsEntry("wait", "PT30S");
  }

  @Test
  void runWorkflow_startsAndWaitsInOneRequest_andPollsOnlyWhenNotFinalYet() {
    String running =
        "{\"id\":\"wf-2\",\"workflow\":\"example\",\"version\":1,\"status\":\"running\",\"queued\":false,\"steps\":[]}";
    String done =
        "{\"id\":\"wf-2\",\"workflow\":\"example\",\"version\":1,\"status\":\"completed\",\"queued\":false,"
            + "\"output\":{\"summary\":\"ok\"},\"steps\":[]}";
    keel.answerNext("POST", "/api/v1/workflows", Answer.json(201, done));
    WorkflowExecution finished =
        client.runWorkflow("example", "wf-2", Map.of("userId", "u"), Duration.ofSeconds(20));
    assertThat(finished.isCompleted()).isTrue();
    assertThat(FakeKeel.query(keel.requests("POST", "/api/v1/workflows").get(0).query()))
        .containsEntry("wait", "PT20S");
    assertThat(keel.requests("GET", "/api/v1/workflows/wf-2")).isEmpty();

    // Not final when the node's wait ran out: the client goes on with the long poll for the rest.
    keel.answerNext("POST", "/api/v1/workflows", Answer.json(200, running));
    keel.answerNext("GET", "/api/v1/workflows/wf-2", Answer.json(200, done));
    assertThat(
            client
                .runWorkflow("example", "wf-2", Map.of("userId", "u"), Duration.ofMinutes(2))
                .isCompleted())
        .isTrue();
    assertThat(FakeKeel.query(keel.requests("POST", "/api/v1/workflows").get(1).query()))
        .containsEntry("wait", "PT1M");
    assertThat(keel.requests("GET", "/api/v1/workflows/wf-2")).hasSize(1);
  }

  @Test
  void startWorkflow_withoutId_sendsNone() {
    keel.answerNext(
        "POST", "/api/v1/workflows", Answer.json(201, "{\"id\":\"wf-x\",\"status\":\"running\"}"));
    client.startWorkflow("example", null, Map.of("userId", "u"));
    JsonNode body = keel.requests("POST", "/api/v1/workflows").get(0).json();
    assertThat(body.has("id")).isFalse();
    assertThat(body.get("input").get("userId").asText()).isEqualTo("u");
  }

  // ---------------------------------------------------------------- problems

  @Test
  void badRequest_carriesTypeTitleDetailAndEveryFieldError_butNeverTheToken() {
    keel.answerNext(
        "PUT",
        "/api/v1/alerts/bad",
        Answer.problem(
            400,
            "{\"type\":\"https://keel.dev/problems/bad-request\",\"title\":\"Bad"
                + " Request\",\"status\":400,\"detail\":\"the alert has invalid fields (you sent "
                + FakeKeel.TOKEN
                + ")\",\"errors\":[{\"field\":\"condition\",\"message\":\"does not parse:"
                + " unexpected '>>'\"},{\"field\":\"webhook\",\"message\":\"must be an http or"
                + " https URL\"}]}"));

    assertThatThrownBy(
            () -> client.putAlert("bad", new AlertRule("*", "metrics.x >> 1", "ftp://x", null)))
        .isInstanceOfSatisfying(
            KeelApiException.class,
            e -> {
              assertThat(e.status()).isEqualTo(400);
              assertThat(e.type()).isEqualTo("https://keel.dev/problems/bad-request");
              assertThat(e.title()).isEqualTo("Bad Request");
              assertThat(e.fieldErrors())
                  .containsExactly(
                      new KeelApiException.FieldError(
                          "condition", "does not parse: unexpected '>>'"),
                      new KeelApiException.FieldError("webhook", "must be an http or https URL"));
              assertThat(e.getMessage())
                  .startsWith("400 Bad Request: the alert has invalid fields")
                  .contains("condition: does not parse")
                  .contains("webhook: must be")
                  .doesNotContain(FakeKeel.TOKEN);
              assertThat(e.detail()).doesNotContain(FakeKeel.TOKEN);
            });
  }

  @Test
  void notFoundConflictAndUnauthorized_areApiExceptions() {
    assertThatThrownBy(() -> client.getService("missing"))
        .isInstanceOfSatisfying(
            KeelApiException.class,
            e -> {
              assertThat(e.status()).isEqualTo(404);
              assertThat(e.getMessage())
                  .isEqualTo(
                      "404 Not Found: service 'missing' is not registered; register it first");
            });
    try (KeelClient noToken = keel.client().token(null).build()) {
      assertThatThrownBy(() -> noToken.getService("x"))
          .isInstanceOfSatisfying(
              KeelApiException.class, e -> assertThat(e.status()).isEqualTo(401));
      assertThat(keel.requests.get(keel.requests.size() - 1).header("Authorization")).isNull();
    }
    keel.answerNext(
        "POST",
        "/api/v1/workflows",
        Answer.problem(
            409, "{\"title\":\"Conflict\",\"status\":409,\"detail\":\"other content\"}"));
    assertThatThrownBy(() -> client.startWorkflow("example", "x", Map.of()))
        .isInstanceOfSatisfying(KeelApiException.class, e -> assertThat(e.status()).isEqualTo(409));
    keel.answerNext(
        "GET",
        "/api/v1/services/q",
        new Answer(
            429,
            "application/problem+json",
            "{\"title\":\"Too Many Requests\",\"status\":429}",
            Map.of("Retry-After", "7")));
    assertThatThrownBy(() -> client.getService("q"))
        .isInstanceOfSatisfying(
            KeelApiException.class,
            e -> assertThat(e.retryAfter()).contains(Duration.ofSeconds(7)));
  }

  @Test
  void anAnswerThatIsNoProblemDocument_isReportedByStatusAndExcerpt() {
    keel.answerNext(
        "GET",
        "/api/v1/services/x",
        new Answer(502, "text/html", "<html>\n<b>Bad gateway</b>\n</html>", Map.of()));
    assertThatThrownBy(() -> client.getService("x"))
        .isInstanceOfSatisfying(
            KeelApiException.class,
            e -> {
              assertThat(e.status()).isEqualTo(502);
              assertThat(e.title()).isEqualTo("Bad Gateway");
              assertThat(e.getMessage())
                  .isEqualTo("502 Bad Gateway: <html> <b>Bad gateway</b> </html>");
            });
  }

  @Test
  void unavailable_on503AndOnRefusedConnections() throws Exception {
    keel.answerNext(
        "GET",
        "/api/v1/services/x",
        new Answer(
            503,
            "application/problem+json",
            "{\"title\":\"Service Unavailable\",\"status\":503,\"detail\":\"the database does not"
                + " answer; retry later\"}",
            Map.of("Retry-After", "5")));
    assertThatThrownBy(() -> client.getService("x"))
        .isInstanceOfSatisfying(
            KeelUnavailableException.class,
            e -> {
              assertThat(e.status()).isEqualTo(503);
              assertThat(e.retryAfter()).contains(Duration.ofSeconds(5));
              assertThat(e.getMessage())
                  .isEqualTo(
                      "Keel at "
                          + keel.uri()
                          + " is unavailable: the database does not answer; retry later");
            });

    keel.stop();
    assertThatThrownBy(() -> client.getService("x"))
        .isInstanceOfSatisfying(
            KeelUnavailableException.class,
            e -> {
              assertThat(e.status()).isZero();
              assertThat(e.getMessage())
                  .isEqualTo("cannot reach Keel at " + keel.uri() + ": connection refused")
                  .doesNotContain(FakeKeel.TOKEN);
            });
  }

  @Test
  void badIds_areRefusedBeforeAnyRequest() {
    assertThatThrownBy(() -> client.getService("../etc"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> client.register(ServiceInfo.builder().name("x").build()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("KEEL_SERVICE_ID");
    assertThat(keel.requests).isEmpty();
  }

  @Test
  void getJson_readsAnyPath() {
    client.register(ServiceInfo.builder("svc").name("s").type("source").build());
    assertThat(client.getJson("/api/v1/services/svc").get("name").asText()).isEqualTo("s");
  }

  @Test
  void afterClose_callsAreRefused() {
    client.close();
    client.close();
    assertThatThrownBy(() -> client.getService("x")).isInstanceOf(IllegalStateException.class);
  }

  private static JsonNode json(String text) {
    try {
      return KeelJson.MAPPER.readTree(text);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
