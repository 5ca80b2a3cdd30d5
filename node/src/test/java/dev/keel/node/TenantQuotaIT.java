package dev.keel.node;

import static dev.keel.node.NodeHttp.JSON;
import static dev.keel.node.NodeHttp.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.persistence.DatabaseSettings;
import dev.keel.persistence.TestDatabases;
import dev.keel.workflow.builtin.ScriptedHttpServer;
import dev.keel.workflow.builtin.ScriptedHttpServer.Answer;
import dev.keel.workflow.builtin.ScriptedHttpServer.Received;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Tenants on a real node over HTTP, on the embedded H2 and on PostgreSQL, with a tiny plan and a
 * local downstream service: provisioning that fails and then recovers, quota 429s (the quota named,
 * nothing journaled, retries and re-registrations still answered), the quota-check run by hand with
 * its webhook, and deletion through deprovisioning until the slug is free again.
 */
class TenantQuotaIT {

  @Test
  void onEmbeddedH2() throws Exception {
    Path dir = Files.createTempDirectory("keel-it-quota-h2");
    exercise(Map.of("keel.node.data-dir", dir.toString()), DatabaseSettings.embedded(dir));
  }

  @Test
  void onPostgres() throws Exception {
    try (TestDatabases.FreshPostgres pg = TestDatabases.freshPostgres()) {
      Path dir = Files.createTempDirectory("keel-it-quota-pg");
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
    try (ScriptedHttpServer downstream = new ScriptedHttpServer()) {
      downstream.script("/tenants", Answer.text(500, "ledger is down"));
      downstream.script("/hooks/quota", Answer.text(200, "ok"));
      Map<String, String> config = new HashMap<>(db);
      config.put("keel.tenants.plans.free.services", "2");
      config.put("keel.tenants.plans.free.workflow-starts-per-month", "3");
      config.put("keel.tenants.plans.free.domains", "1");
      config.put("keel.tenants.downstream", "ledger=" + downstream.url("/tenants"));
      config.put("keel.tenants.downstream-initial-backoff", "200ms");
      config.put("keel.tenants.downstream-max-backoff", "1s");
      config.put("keel.tenants.quota-webhook-url", downstream.url("/hooks/quota").toString());
      config.put("keel.tenants.quota-check-schedule", "true");
      try (KeelNode node = NodeHttp.start(config)) {
        NodeHttp api = NodeHttp.ready(node);

        // Provisioning: the downstream fails, the tenant stays provisioning with the failing step
        // visible.
        JsonNode created =
            json(
                api.send(
                    "POST",
                    "/api/v1/tenants",
                    "{\"slug\":\"acme\",\"name\":\"Acme Inc\",\"plan\":\"free\"}"),
                201);
        String tenantId = created.get("id").asText();
        String key = created.get("apiKey").asText();
        String lifecycle = created.get("lifecycleWorkflowId").asText();
        assertThat(created.get("status").asText()).isEqualTo("provisioning");
        JsonNode failing =
            api.await(
                "/api/v1/workflows/" + lifecycle,
                e -> {
                  JsonNode step = step(e, "provision-ledger");
                  return step != null && step.get("attempts").asInt() >= 2;
                },
                "retried provision-ledger");
        assertThat(step(failing, "provision-ledger").get("error").asText())
            .contains("answered 500");
        assertThat(failing.get("tenantId").isNull())
            .as("Keel's own, counted against nobody")
            .isTrue();
        assertThat(
                json(api.send("GET", "/api/v1/tenants/" + tenantId, null), 200)
                    .get("status")
                    .asText())
            .isEqualTo("provisioning");

        // The downstream recovers: active, every attempt with the same Idempotency-Key.
        downstream.script("/tenants", Answer.json(201, "{}"));
        api.await(
            "/api/v1/tenants/" + tenantId,
            t -> t.get("status").asText().equals("active"),
            "became active");
        List<Received> provisioned = downstream.received("/tenants");
        assertThat(provisioned)
            .hasSizeGreaterThanOrEqualTo(3)
            .extracting(r -> r.header("Idempotency-Key"))
            .containsOnly(lifecycle + "/provision-ledger");
        assertThat(JSON.readTree(provisioned.get(0).body()).get("tenantId").asText())
            .isEqualTo(tenantId);

        // Services: the third new one is refused, naming the quota, and journals nothing.
        String service = "{\"type\":\"source\",\"ttlSeconds\":600}";
        assertThat(api.sendAuth("PUT", "/api/v1/services/ledger", service, key).statusCode())
            .isEqualTo(201);
        assertThat(api.sendAuth("PUT", "/api/v1/services/billing", service, key).statusCode())
            .isEqualTo(201);
        api.await(
            "/api/v1/services?tenantId=" + tenantId,
            l -> l.get("items").size() == 2,
            "listed 2 services");
        long serviceEvents = NodeHttp.journalEvents(dbSettings, "service");
        HttpResponse<String> third = api.sendAuth("PUT", "/api/v1/services/search", service, key);
        JsonNode problem = assertQuotaProblem(third, "services");
        assertThat(problem.get("detail").asText())
            .isEqualTo("plan free allows 2 services; acme has 2");
        assertThat(problem.get("limit").asInt()).isEqualTo(2);
        assertThat(problem.get("used").asInt()).isEqualTo(2);
        assertThat(third.headers().firstValue("Retry-After"))
            .as("time alone does not lift it")
            .isEmpty();
        assertThat(NodeHttp.journalEvents(dbSettings, "service"))
            .as("nothing journaled")
            .isEqualTo(serviceEvents);
        assertProblem(api.sendAuth("GET", "/api/v1/services/search", null, key), 404);
        assertThat(api.sendAuth("PUT", "/api/v1/services/billing", service, key).statusCode())
            .as("re-registering")
            .isEqualTo(200);
        assertThat(api.send("PUT", "/api/v1/services/admins-own", service).statusCode())
            .as("the admin for itself")
            .isEqualTo(201);
        assertQuotaProblem(
            api.send(
                "PUT",
                "/api/v1/services/for-acme",
                "{\"type\":\"source\",\"tenantId\":\"" + tenantId + "\"}"),
            "services");

        // Workflow starts: the fourth new one this month is 429 with Retry-After; a retry of an
        // existing id is not.
        for (int i = 1; i <= 3; i++) {
          assertThat(api.sendAuth("POST", "/api/v1/workflows", start("run-" + i), key).statusCode())
              .isEqualTo(201);
        }
        api.await(
            "/api/v1/workflows?tenantId=" + tenantId,
            l -> l.get("items").size() == 3,
            "listed 3 workflows");
        HttpResponse<String> fourth =
            api.sendAuth("POST", "/api/v1/workflows", start("run-4"), key);
        JsonNode overStarts = assertQuotaProblem(fourth, "workflow-starts-per-month");
        YearMonth month = YearMonth.now(ZoneOffset.UTC);
        assertThat(overStarts.get("detail").asText())
            .isEqualTo(
                "plan free allows 3 workflow starts per month; acme has started 3 in " + month);
        long retryAfter = Long.parseLong(fourth.headers().firstValue("Retry-After").orElseThrow());
        assertThat(retryAfter)
            .as("seconds to the next month")
            .isPositive()
            .isLessThanOrEqualTo(31L * 86_400);
        assertProblem(api.sendAuth("GET", "/api/v1/workflows/run-4", null, key), 404);
        assertThat(api.sendAuth("POST", "/api/v1/workflows", start("run-1"), key).statusCode())
            .as("a retry")
            .isEqualTo(200);
        assertThat(api.send("POST", "/api/v1/workflows", start("admins-run")).statusCode())
            .isEqualTo(201);
        assertQuotaProblem(
            api.send(
                "POST",
                "/api/v1/workflows",
                "{\"workflow\":\"example\",\"tenantId\":\""
                    + tenantId
                    + "\",\"input\":{\"userId\":\"u\",\"action\":\"a\"}}"),
            "workflow-starts-per-month");

        // Custom domains: free allows one; the second new hostname is 429, the same one again is
        // not.
        assertThat(
                api.sendAuth(
                        "POST",
                        "/api/v1/tenants/" + tenantId + "/domains",
                        "{\"hostname\":\"shop.acme.example\"}",
                        key)
                    .statusCode())
            .isEqualTo(201);
        api.await(
            "/api/v1/tenants/" + tenantId + "/domains",
            l -> l.get("items").size() == 1,
            "listed the domain");
        assertQuotaProblem(
            api.sendAuth(
                "POST",
                "/api/v1/tenants/" + tenantId + "/domains",
                "{\"hostname\":\"blog.acme.example\"}",
                key),
            "domains");
        assertThat(
                api.sendAuth(
                        "POST",
                        "/api/v1/tenants/" + tenantId + "/domains",
                        "{\"hostname\":\"Shop.Acme.Example.\"}",
                        key)
                    .statusCode())
            .as("the same hostname, written differently")
            .isEqualTo(200);

        // Keel's own workflows are the admin's: a tenant key may neither start nor schedule them.
        assertProblem(
            api.sendAuth(
                "POST", "/api/v1/workflows", "{\"workflow\":\"quota-check\",\"input\":{}}", key),
            403);
        assertProblem(
            api.sendAuth(
                "PUT",
                "/api/v1/schedules/sneaky",
                "{\"workflow\":\"tenant-deprovisioning\",\"cron\":\"* * * * *\",\"input\":{}}",
                key),
            403);

        // The monthly check: its built-in schedule, and a run by hand for this month.
        JsonNode schedule =
            api.await(
                "/api/v1/schedules",
                l -> l.get("items").size() >= 1,
                "listed the built-in schedule");
        assertThat(schedule.toString()).contains("quota-check-monthly");
        JsonNode monthly =
            json(api.send("GET", "/api/v1/schedules/quota-check-monthly", null), 200);
        assertThat(monthly.get("workflow").asText()).isEqualTo("quota-check");
        assertThat(monthly.get("cron").asText()).isEqualTo("0 9 1 * *");
        assertThat(monthly.get("timezone").asText()).isEqualTo("UTC");
        JsonNode check =
            json(
                api.send(
                    "POST",
                    "/api/v1/workflows",
                    "{\"workflow\":\"quota-check\",\"id\":\"check-now\",\"input\":{\"year\":"
                        + month.getYear()
                        + ",\"month\":"
                        + month.getMonthValue()
                        + "}}"),
                201);
        JsonNode done =
            json(
                api.send(
                    "GET", "/api/v1/workflows/" + check.get("id").asText() + "?wait=PT30S", null),
                200);
        assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("completed");
        assertThat(done.get("output").get("atOrOverLimit"))
            .extracting(JsonNode::asText)
            .containsExactly(tenantId);
        assertThat(done.get("output").get("notified").asBoolean()).isTrue();
        JsonNode acmeUsage = done.get("output").get("usage").get(0);
        assertThat(acmeUsage.get("quotas").toString())
            .contains("\"quota\":\"services\",\"used\":2,\"limit\":2,\"state\":\"at-limit\"")
            .contains(
                "\"quota\":\"workflow-starts-per-month\",\"used\":3,\"limit\":3,\"state\":\"at-limit\"");
        Received notification = downstream.received("/hooks/quota").get(0);
        assertThat(notification.header("Idempotency-Key")).isEqualTo("check-now/notify");
        assertThat(JSON.readTree(notification.body()).get("text").asText())
            .contains("1 of 1 tenant is at or over a plan limit");

        // Deleting: deprovisioning DELETEs downstream, the tenant ends deleted, its key is refused,
        // its slug free.
        downstream.script("/tenants/" + tenantId, Answer.empty(204));
        assertThat(
                json(api.send("DELETE", "/api/v1/tenants/" + tenantId, null), 202)
                    .get("status")
                    .asText())
            .isEqualTo("deleting");
        JsonNode deleted =
            api.await(
                "/api/v1/tenants/" + tenantId,
                t -> t.get("status").asText().equals("deleted"),
                "became deleted");
        assertThat(deleted.get("slug").asText())
            .as("still readable by the admin, for audit")
            .isEqualTo("acme");
        assertThat(downstream.received("/tenants/" + tenantId))
            .extracting(Received::method)
            .contains("DELETE");
        assertProblem(api.sendAuth("GET", "/api/v1/tenants/" + tenantId, null, key), 401);
        api.await(
            "/api/v1/tenants",
            l -> !l.toString().contains(tenantId),
            "dropped the deleted tenant from the list");
        JsonNode again =
            json(
                api.send(
                    "POST",
                    "/api/v1/tenants",
                    "{\"slug\":\"acme\",\"name\":\"Acme again\",\"plan\":\"free\"}"),
                201);
        assertThat(again.get("id").asText()).isNotEqualTo(tenantId);
      }
    }
  }

  private static String start(String id) {
    return "{\"workflow\":\"example\",\"id\":\""
        + id
        + "\",\"input\":{\"userId\":\"u-1\",\"action\":\"signup\"}}";
  }

  /** A 429 problem of type quota-exceeded naming {@code quota}; answers the problem. */
  private static JsonNode assertQuotaProblem(HttpResponse<String> response, String quota)
      throws Exception {
    assertProblem(response, 429);
    JsonNode problem = JSON.readTree(response.body());
    assertThat(problem.get("type").asText()).endsWith("/quota-exceeded");
    assertThat(problem.get("quota").asText()).isEqualTo(quota);
    assertThat(problem.get("plan").asText()).isEqualTo("free");
    return problem;
  }

  private static JsonNode step(JsonNode execution, String name) {
    for (JsonNode s : execution.get("steps")) if (s.get("name").asText().equals(name)) return s;
    return null;
  }

  private static JsonNode json(HttpResponse<String> response, int status) throws Exception {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
    return JSON.readTree(response.body());
  }
}
