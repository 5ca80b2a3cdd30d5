package dev.keel.node;

import static dev.keel.node.NodeHttp.JSON;
import static dev.keel.node.NodeHttp.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.node.WebhookReceiver.Received;
import dev.keel.persistence.DatabaseSettings;
import dev.keel.persistence.TestDatabases;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * Alert rules on a real node, on the embedded H2 and on PostgreSQL, with a real local HTTP server
 * as the webhook: a service with a short TTL goes stale and the webhook gets the firing once, with
 * its payload and Idempotency-Key; heartbeats while the condition holds do not fire again; healthy
 * and stale again fires again; a webhook answering 500 is retried until it answers 200; bad input
 * is a 400 naming every bad field and journals nothing; the list, and delete.
 */
class AlertsIT {

  private static final Duration DELIVERY = Duration.ofSeconds(30);
  private static final HttpClient TENANT_HTTP = HttpClient.newHttpClient();
  private static final List<String> SUMMARY_FIELDS =
      List.of(
          "id",
          "service",
          "condition",
          "webhook",
          "cooldownSeconds",
          "tenantId",
          "createdAt",
          "updatedAt",
          "firingCount",
          "lastFiredAt");

  @Test
  void onEmbeddedH2() throws Exception {
    Path dir = Files.createTempDirectory("keel-it-alerts-h2");
    exercise(Map.of("keel.node.data-dir", dir.toString()), DatabaseSettings.embedded(dir));
  }

  @Test
  void onPostgres() throws Exception {
    try (TestDatabases.FreshPostgres pg = TestDatabases.freshPostgres()) {
      Path dir = Files.createTempDirectory("keel-it-alerts-pg");
      exercise(
          Map.of(
              "keel.node.data-dir",
              dir.toString(),
              "keel.database.url",
              pg.settings().url(),
              "keel.database.user",
              pg.settings().user()),
          pg.settings());
    }
  }

  private void exercise(Map<String, String> db, DatabaseSettings dbSettings) throws Exception {
    Map<String, String> overrides = new HashMap<>(db);
    // Retries of a failing webhook within the test's patience.
    overrides.put("keel.alerts.delivery.initial-backoff", "200ms");
    overrides.put("keel.alerts.delivery.max-backoff", "1s");
    // The receiver listens on loopback, which a tenant's rule may reach only when the operator
    // allows it.
    overrides.put("keel.workflows.outbound.allow", "127.0.0.1/32");
    overrides.put("keel.alerts.delivery.max-attempts", "3");
    try (WebhookReceiver hooks = new WebhookReceiver();
        KeelNode node = NodeHttp.start(overrides)) {
      NodeHttp api = NodeHttp.ready(node);

      // ---- a service with a 2 s TTL, and a rule on it
      assertThat(
              api.send(
                      "PUT",
                      "/api/v1/services/ingest-1",
                      "{\"type\":\"processor\",\"ttlSeconds\":2}")
                  .statusCode())
          .isEqualTo(201);
      assertThat(
              api.send(
                      "POST",
                      "/api/v1/services/ingest-1/heartbeat",
                      "{\"status\":\"healthy\",\"metrics\":{\"lag_seconds\":1.5}}")
                  .statusCode())
          .isEqualTo(200);
      String hook = hooks.url("/hook?token=s3cr3t");
      String rule =
          "{\"service\":\"ingest-1\",\"condition\":\"status!=healthy\",\"webhook\":\""
              + hook
              + "\",\"cooldownSeconds\":0}";
      HttpResponse<String> created = api.send("PUT", "/api/v1/alerts/ingest-down", rule);
      assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
      JsonNode view = JSON.readTree(created.body());
      assertThat(view.get("id").asText()).isEqualTo("ingest-down");
      assertThat(view.get("condition").asText())
          .as("canonical text")
          .isEqualTo("status != healthy");
      assertThat(view.get("webhook").asText()).isEqualTo(hook);
      assertThat(view.get("cooldownSeconds").asInt()).isZero();
      assertThat(view.get("triggered")).isEmpty();
      assertThat(view.get("firings")).isEmpty();
      assertThat(view.get("createdAt").asText())
          .matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
      long afterDefinition = NodeHttp.journalEvents(dbSettings, "alert");
      HttpResponse<String> again = api.send("PUT", "/api/v1/alerts/ingest-down", rule);
      assertThat(again.statusCode()).isEqualTo(200);
      assertThat(NodeHttp.journalEvents(dbSettings, "alert"))
          .as("the same rule again: no event")
          .isEqualTo(afterDefinition);

      // ---- no heartbeat within the TTL: stale, the rule fires, the webhook gets it once
      List<Received> first =
          hooks.await("/hook", r -> !r.isEmpty(), DELIVERY, "received the firing");
      Received firing = first.get(0);
      assertThat(firing.idempotencyKey()).isEqualTo("alert.ingest-down.1");
      assertThat(firing.contentType()).isEqualTo("application/json");
      assertThat(firing.query())
          .as("the webhook URL as defined, query included")
          .isEqualTo("token=s3cr3t");
      JsonNode payload = JSON.readTree(firing.body());
      assertThat(payload.get("alert").asText()).isEqualTo("ingest-down");
      assertThat(payload.get("service").asText()).isEqualTo("ingest-1");
      assertThat(payload.get("condition").asText()).isEqualTo("status != healthy");
      assertThat(payload.get("status").asText()).isEqualTo("stale");
      assertThat(payload.get("metrics")).isEqualTo(JSON.readTree("{\"lag_seconds\":1.5}"));
      assertThat(payload.get("firedAt").asText())
          .matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");

      JsonNode delivery = awaitWorkflow(api, "alert.ingest-down.1");
      assertThat(delivery.get("workflow").asText()).isEqualTo("webhook-delivery");
      assertThat(delivery.get("output").get("status").asInt()).isEqualTo(200);
      JsonNode fired =
          await(
              api,
              "/api/v1/alerts/ingest-down",
              v ->
                  v.get("firings").size() == 1
                      && v.get("firings").get(0).get("delivery").asText().equals("delivered"),
              "recorded the delivery as delivered");
      assertThat(fired.get("triggered")).containsExactly(JSON.readTree("\"ingest-1\""));
      JsonNode f = fired.get("firings").get(0);
      assertThat(f.get("seq").asLong()).isEqualTo(1);
      assertThat(f.get("service").asText()).isEqualTo("ingest-1");
      assertThat(f.get("status").asText()).isEqualTo("stale");
      assertThat(f.get("deliveryWorkflowId").asText()).isEqualTo("alert.ingest-down.1");
      assertThat(f.get("firedAt").asText()).isEqualTo(payload.get("firedAt").asText());

      // ---- still in trouble: heartbeats that keep the condition true fire nothing
      for (String status : List.of("unhealthy", "degraded", "unhealthy")) {
        assertThat(
                api.send(
                        "POST",
                        "/api/v1/services/ingest-1/heartbeat",
                        "{\"status\":\"" + status + "\"}")
                    .statusCode())
            .isEqualTo(200);
      }

      // ---- healthy again (re-armed), then stale again: fires again
      assertThat(
              api.send("POST", "/api/v1/services/ingest-1/heartbeat", "{\"status\":\"healthy\"}")
                  .statusCode())
          .isEqualTo(200);
      List<Received> two =
          hooks.await("/hook", r -> r.size() >= 2, DELIVERY, "received the second firing");
      assertThat(two)
          .extracting(Received::idempotencyKey)
          .containsExactly("alert.ingest-down.1", "alert.ingest-down.2");
      assertThat(JSON.readTree(two.get(1).body()).get("status").asText()).isEqualTo("stale");
      JsonNode twice =
          await(
              api,
              "/api/v1/alerts/ingest-down",
              v -> v.get("firingCount").asLong() == 2,
              "counted 2 firings");
      List<String> statuses = new ArrayList<>();
      twice.get("firings").forEach(x -> statuses.add(x.get("status").asText()));
      assertThat(statuses)
          .as("the trouble heartbeats did not fire (they would show as unhealthy or degraded)")
          .containsExactly("stale", "stale");

      // ---- audit: the rule's journal, and its state as of now rebuilt from it
      JsonNode settled =
          await(
              api,
              "/api/v1/alerts/ingest-down",
              v -> v.get("firings").get(0).get("delivery").asText().equals("delivered"),
              "recorded the second delivery");
      assertThat(settled.get("firings").get(1).get("delivery").asText()).isEqualTo("delivered");
      Thread.sleep(5);
      String now = java.time.Instant.ofEpochMilli(System.currentTimeMillis()).toString();
      HttpResponse<String> past =
          api.send("GET", "/api/v1/audit/alert/ingest-down/state?asOf=" + now, null);
      assertThat(past.statusCode()).as(past.body()).isEqualTo(200);
      assertThat(JSON.readTree(past.body())).isEqualTo(settled);
      List<String> types = new ArrayList<>();
      JSON.readTree(api.send("GET", "/api/v1/audit/alert/ingest-down/events", null).body())
          .forEach(e -> types.add(e.get("type").asText()));
      assertThat(types)
          .containsExactly(
              "AlertDefined",
              "AlertFired",
              "DeliveryStarted",
              "DeliveryCompleted",
              "AlertCleared",
              "AlertFired",
              "DeliveryStarted",
              "DeliveryCompleted");

      // ---- a webhook answering 500 is retried until it answers 200; one that never does is
      // abandoned
      hooks.script("/flaky", 500, 500, 200);
      hooks.script("/down", 500, 500, 500);
      assertThat(
              api.send(
                      "PUT", "/api/v1/services/ingest-2", "{\"type\":\"source\",\"ttlSeconds\":60}")
                  .statusCode())
          .isEqualTo(201);
      assertThat(
              api.send(
                      "PUT",
                      "/api/v1/alerts/ingest-lag",
                      "{\"service\":\"ingest-2\",\"condition\":\"metrics.lag_seconds > 30\","
                          + "\"webhook\":\""
                          + hooks.url("/flaky")
                          + "\"}")
                  .statusCode())
          .isEqualTo(201);
      assertThat(
              api.send(
                      "PUT",
                      "/api/v1/alerts/ingest-lag-down",
                      "{\"service\":\"ingest-2\",\"condition\":\"metrics.lag_seconds > 30\","
                          + "\"webhook\":\""
                          + hooks.url("/down")
                          + "\"}")
                  .statusCode())
          .isEqualTo(201);
      assertThat(
              api.send(
                      "POST",
                      "/api/v1/services/ingest-2/heartbeat",
                      "{\"metrics\":{\"lag_seconds\":45}}")
                  .statusCode())
          .isEqualTo(200);
      List<Received> flaky =
          hooks.await(
              "/flaky",
              r -> r.stream().anyMatch(x -> x.answered() == 200),
              DELIVERY,
              "was answered 200");
      assertThat(flaky).extracting(Received::answered).containsExactly(500, 500, 200);
      assertThat(flaky).extracting(Received::idempotencyKey).containsOnly("alert.ingest-lag.1");
      assertThat(flaky).extracting(Received::body).containsOnly(flaky.get(0).body());
      assertThat(JSON.readTree(flaky.get(0).body()).get("metrics").get("lag_seconds").asDouble())
          .isEqualTo(45.0);
      JsonNode retried = awaitWorkflow(api, "alert.ingest-lag.1");
      assertThat(retried.get("steps").get(0).get("attempts").asInt()).isEqualTo(3);
      await(
          api,
          "/api/v1/alerts/ingest-lag",
          v -> v.get("firings").get(0).get("delivery").asText().equals("delivered"),
          "recorded the retried delivery as delivered");
      // Its attempts ran out: the workflow failed, and the firing says the delivery was abandoned.
      await(
          api,
          "/api/v1/workflows/alert.ingest-lag-down.1?wait=PT10S",
          w -> w.get("status").asText().equals("failed"),
          "failed");
      await(
          api,
          "/api/v1/alerts/ingest-lag-down",
          v -> v.get("firings").get(0).get("delivery").asText().equals("abandoned"),
          "recorded the failed delivery as abandoned");
      assertThat(hooks.received("/down")).hasSize(3);
      assertThat(api.send("DELETE", "/api/v1/alerts/ingest-lag-down", null).statusCode())
          .isEqualTo(204);
      assertThat(
              JSON.readTree(api.send("GET", "/api/v1/alerts/ingest-lag", null).body())
                  .get("cooldownSeconds")
                  .asInt())
          .as("the default cooldown")
          .isEqualTo(300);

      // ---- bad input: 400 naming every bad field, nothing journaled
      long beforeBad = NodeHttp.journalEvents(dbSettings, "alert");
      HttpResponse<String> bad =
          api.send(
              "PUT",
              "/api/v1/alerts/bad%20id",
              "{\"service\":\"bad id!\",\"condition\":\"status > healthy\","
                  + "\"webhook\":\"ftp://user:pw@example.com/x?token=zzz\",\"cooldownSeconds\":-1,\"colour\":\"red\"}");
      assertProblem(bad, 400, "id", "service", "condition", "webhook", "cooldownSeconds", "colour");
      assertThat(bad.body()).doesNotContain("zzz").doesNotContain("pw@").doesNotContain("ftp:");
      assertThat(message(bad, "condition"))
          .isEqualTo("at 8: 'status' can only be compared with == or !=, not '>'");
      assertProblem(
          api.send(
              "PUT",
              "/api/v1/alerts/x-1",
              "{\"condition\":5,\"webhook\":[],\"cooldownSeconds\":1.5}"),
          400,
          "service",
          "condition",
          "webhook",
          "cooldownSeconds");
      HttpResponse<String> badCondition =
          api.send(
              "PUT",
              "/api/v1/alerts/x-1",
              "{\"service\":\"*\",\"condition\":\"metrics.lag >"
                  + " abc\",\"webhook\":\"https://h.example/x\",\"cooldownSeconds\":86401}");
      assertProblem(badCondition, 400, "condition", "cooldownSeconds");
      assertThat(message(badCondition, "condition"))
          .isEqualTo("at 15: expected a number after '>' but found 'abc'");
      assertProblem(
          api.send(
              "PUT",
              "/api/v1/alerts/x-1",
              "{\"service\":\"*\",\"condition\":\"status == sick\",\"webhook\":\"/relative\"}"),
          400,
          "condition",
          "webhook");
      assertProblem(api.send("PUT", "/api/v1/alerts/x-1", "[1]"), 400, "body");
      assertProblem(
          api.send("GET", "/api/v1/alerts?service=bad%20id&limit=0&cursor=***&sort=id", null),
          400,
          "service",
          "limit",
          "cursor",
          "sort");
      assertProblem(api.sendAuth("GET", "/api/v1/alerts", null, null), 401);
      assertThat(NodeHttp.journalEvents(dbSettings, "alert"))
          .as("bad requests journal nothing")
          .isEqualTo(beforeBad);
      assertProblem(api.send("GET", "/api/v1/alerts/x-1", null), 404);
      assertProblem(api.send("DELETE", "/api/v1/alerts/x-1", null), 404);

      // ---- the list, from the projection: what GET shows, paged and filtered
      JsonNode all =
          api.await(
              "/api/v1/alerts",
              l ->
                  l.get("items").size() == 2
                      && l.get("items").get(0).get("firingCount").asLong() == 2
                      && l.get("items").get(1).get("firingCount").asLong() == 1,
              "listed both rules with their firings");
      assertThat(ids(all)).containsExactly("ingest-down", "ingest-lag");
      for (JsonNode item : all.get("items")) {
        JsonNode one =
            JSON.readTree(
                api.send("GET", "/api/v1/alerts/" + item.get("id").asText(), null).body());
        for (String field : SUMMARY_FIELDS)
          assertThat(item.get(field)).as(item.get("id") + " " + field).isEqualTo(one.get(field));
      }
      JsonNode page = JSON.readTree(api.send("GET", "/api/v1/alerts?limit=1", null).body());
      assertThat(ids(page)).containsExactly("ingest-down");
      assertThat(
              ids(
                  JSON.readTree(
                      api.send(
                              "GET",
                              "/api/v1/alerts?limit=1&cursor=" + page.get("nextCursor").asText(),
                              null)
                          .body())))
          .containsExactly("ingest-lag");
      assertThat(
              ids(JSON.readTree(api.send("GET", "/api/v1/alerts?service=ingest-2", null).body())))
          .containsExactly("ingest-lag");

      // ---- a tenant's rule: its own, and watching only its own services
      HttpResponse<String> tenant =
          api.send(
              "POST", "/api/v1/tenants", "{\"slug\":\"acme\",\"name\":\"Acme\",\"plan\":\"free\"}");
      assertThat(tenant.statusCode()).as(tenant.body()).isEqualTo(201);
      String acmeId = JSON.readTree(tenant.body()).get("id").asText();
      String acmeKey = JSON.readTree(tenant.body()).get("apiKey").asText();
      HttpResponse<String> acmeRule =
          asTenant(
              node,
              acmeKey,
              "PUT",
              "/api/v1/alerts/acme-stale",
              "{\"service\":\"*\",\"condition\":\"status == stale\",\"webhook\":\""
                  + hooks.url("/acme")
                  + "\"}");
      assertThat(acmeRule.statusCode()).as(acmeRule.body()).isEqualTo(201);
      assertThat(JSON.readTree(acmeRule.body()).get("tenantId").asText()).isEqualTo(acmeId);
      assertProblem(asTenant(node, acmeKey, "GET", "/api/v1/alerts/ingest-lag", null), 404);
      assertProblem(asTenant(node, acmeKey, "DELETE", "/api/v1/alerts/ingest-lag", null), 404);
      assertProblem(
          asTenant(
              node,
              acmeKey,
              "PUT",
              "/api/v1/alerts/ingest-lag",
              "{\"service\":\"*\",\"condition\":\"status == stale\",\"webhook\":\""
                  + hooks.url("/acme")
                  + "\"}"),
          409);
      assertProblem(
          asTenant(
              node,
              acmeKey,
              "PUT",
              "/api/v1/alerts/acme-other",
              "{\"service\":\"*\",\"condition\":"
                  + "\"status == stale\",\"webhook\":\""
                  + hooks.url("/acme")
                  + "\",\"tenantId\":\"globex\"}"),
          400,
          "tenantId");
      assertThat(
              JSON.readTree(api.send("GET", "/api/v1/alerts/acme-stale", null).body())
                  .get("tenantId")
                  .asText())
          .as("the admin sees every rule")
          .isEqualTo(acmeId);
      JsonNode acmeList = null;
      for (long deadline = System.nanoTime() + DELIVERY.toNanos();
          System.nanoTime() < deadline;
          Thread.sleep(100)) {
        acmeList = JSON.readTree(asTenant(node, acmeKey, "GET", "/api/v1/alerts", null).body());
        if (acmeList.get("items").size() > 0) break;
      }
      assertThat(ids(acmeList))
          .as("a tenant lists only its own rules")
          .containsExactly("acme-stale");
      assertThat(
              asTenant(
                      node,
                      acmeKey,
                      "PUT",
                      "/api/v1/services/acme-svc",
                      "{\"type\":\"sink\",\"ttlSeconds\":2}")
                  .statusCode())
          .isEqualTo(201);
      List<Received> acme =
          hooks.await("/acme", r -> !r.isEmpty(), DELIVERY, "received the tenant's firing");
      assertThat(JSON.readTree(acme.get(0).body()).get("service").asText()).isEqualTo("acme-svc");

      // ---- a rule that repairs: a workflow per firing, as <alert>:<firing>, instead of a webhook
      assertProblem(
          api.send(
              "PUT",
              "/api/v1/alerts/no-such-repair",
              "{\"service\":\"pump-9\",\"condition\":\"status != healthy\","
                  + "\"repair\":{\"workflow\":\"no-such-workflow\"}}"),
          400,
          "repair.workflow");
      assertProblem(
          asTenant(
              node,
              acmeKey,
              "PUT",
              "/api/v1/alerts/acme-admin-repair",
              "{\"service\":\"*\",\"condition\":\"status != healthy\","
                  + "\"repair\":{\"workflow\":\"webhook-delivery\"}}"),
          400,
          "repair.workflow");
      assertThat(
              api.send(
                      "PUT",
                      "/api/v1/services/pump-9",
                      "{\"type\":\"pipeline\",\"ttlSeconds\":600}")
                  .statusCode())
          .isEqualTo(201);
      HttpResponse<String> repairRule =
          api.send(
              "PUT",
              "/api/v1/alerts/pump-restart",
              "{\"service\":\"pump-9\",\"condition\":\"status == degraded\",\"repair\":"
                  + "{\"workflow\":\"http-sequence\",\"input\":{\"steps\":[{\"name\":\"restart\","
                  + "\"signal\":\"done\",\"timeout\":\"P1D\"}]}}}");
      assertThat(repairRule.statusCode()).as(repairRule.body()).isEqualTo(201);
      assertThat(JSON.readTree(repairRule.body()).get("webhook").isNull()).isTrue();
      api.await(
          "/api/v1/alerts",
          l -> ids(l).contains("pump-restart"),
          "listed the rule without a webhook");
      // The catalog every node evaluates against lags its table a little: degraded until it fires.
      JsonNode repairing =
          api.await(
              "/api/v1/alerts/pump-restart",
              v -> {
                try {
                  api.send(
                      "POST", "/api/v1/services/pump-9/heartbeat", "{\"status\":\"degraded\"}");
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
                return v.get("firings").size() == 1
                    && v.get("firings").get(0).get("repair").asText().equals("started");
              },
              "started the repair");
      JsonNode repairFiring = repairing.get("firings").get(0);
      assertThat(repairFiring.get("repairWorkflowId").asText()).isEqualTo("pump-restart:1");
      assertThat(repairFiring.get("delivery").asText()).isEqualTo("none");
      assertThat(
              JSON.readTree(api.send("GET", "/api/v1/workflows/pump-restart:1", null).body())
                  .get("workflow")
                  .asText())
          .isEqualTo("http-sequence");
      assertThat(
              api.send("POST", "/api/v1/workflows/pump-restart:1/signals/done", "{}").statusCode())
          .isLessThan(300);
      api.await(
          "/api/v1/alerts/pump-restart",
          v -> v.get("firings").get(0).get("repair").asText().equals("completed"),
          "followed the repair to its end");

      // ---- delete: gone, and the service going stale again fires nothing
      assertThat(api.send("DELETE", "/api/v1/alerts/ingest-down", null).statusCode())
          .isEqualTo(204);
      assertProblem(api.send("GET", "/api/v1/alerts/ingest-down", null), 404);
      api.await("/api/v1/alerts", l -> !ids(l).contains("ingest-down"), "dropped ingest-down");
      assertThat(api.send("POST", "/api/v1/services/ingest-1/heartbeat", "{}").statusCode())
          .isEqualTo(200);
      await(
          api,
          "/api/v1/services/ingest-1",
          s -> s.get("status").asText().equals("stale"),
          "went stale again");
      // A firing would be on its way now; another rule's delivery, started after it, arrives first.
      assertThat(
              api.send(
                      "PUT",
                      "/api/v1/alerts/after-delete",
                      "{\"service\":\"ingest-1\",\"condition\":\"status == stale\","
                          + "\"webhook\":\""
                          + hooks.url("/after")
                          + "\"}")
                  .statusCode())
          .isEqualTo(201);
      assertThat(api.send("POST", "/api/v1/services/ingest-1/heartbeat", "{}").statusCode())
          .isEqualTo(200);
      hooks.await("/after", r -> !r.isEmpty(), DELIVERY, "received the new rule's firing");
      assertThat(hooks.received("/hook")).as("a deleted rule fires no more").hasSize(2);
      assertThat(hooks.received("/acme"))
          .extracting(r -> JSON.readTree(r.body()).get("service").asText())
          .as(
              "the tenant's rule on * never fired for the admin's ingest-1, which went stale"
                  + " meanwhile")
          .containsOnly("acme-svc");
    }

    // A restarted node shows the deliveries' outcomes from the journal.
    try (KeelNode again = NodeHttp.start(overrides)) {
      NodeHttp api = NodeHttp.ready(again);
      JsonNode lag = JSON.readTree(api.send("GET", "/api/v1/alerts/ingest-lag", null).body());
      assertThat(lag.get("firings").get(0).get("delivery").asText()).isEqualTo("delivered");
    }
  }

  /** A request with a tenant's API key instead of the admin token. */
  private static HttpResponse<String> asTenant(
      KeelNode node, String key, String method, String path, String body) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpPort() + path))
            .timeout(Duration.ofSeconds(30))
            .header("Authorization", "Bearer " + key)
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) b.header("Content-Type", "application/json");
    return TENANT_HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static JsonNode awaitWorkflow(NodeHttp api, String id) throws Exception {
    return await(
        api,
        "/api/v1/workflows/" + id + "?wait=PT10S",
        w -> w.get("status").asText().equals("completed"),
        "completed");
  }

  private static JsonNode await(NodeHttp api, String path, Predicate<JsonNode> until, String what)
      throws Exception {
    long deadline = System.nanoTime() + DELIVERY.toNanos();
    JsonNode last = null;
    while (System.nanoTime() < deadline) {
      HttpResponse<String> r = api.send("GET", path, null);
      if (r.statusCode() == 200) {
        last = JSON.readTree(r.body());
        if (until.test(last)) return last;
      }
      Thread.sleep(100);
    }
    throw new AssertionError(path + " never " + what + ": " + last);
  }

  private static String message(HttpResponse<String> problem, String field) throws Exception {
    for (JsonNode e : JSON.readTree(problem.body()).get("errors")) {
      if (e.get("field").asText().equals(field)) return e.get("message").asText();
    }
    throw new AssertionError("no error for " + field + " in " + problem.body());
  }

  private static List<String> ids(JsonNode list) {
    List<String> ids = new ArrayList<>();
    for (JsonNode item : list.get("items")) ids.add(item.get("id").asText());
    return ids;
  }
}
