package dev.keel.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.http.RouteTable;
import dev.keel.persistence.TestDatabases;
import dev.keel.tenant.domain.FakeDnsServer;
import dev.keel.tenant.quota.Quota;
import dev.keel.tenant.quota.QuotaLedger;
import dev.keel.workflow.execution.NodeWorkflowRegistry;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The OpenAPI document against a real node: the node serves it at {@code /api/v1/openapi.json}
 * without a token, and every answer of a walk through the whole API (every endpoint of {@link
 * RouteTable} answering with success, and the errors a client meets: 400, 401, 403, 404, 405, 409,
 * 415, 429, and an unhealthy service's 503) is described by the document: its status, its content
 * type and its body ({@link OpenApiContract}); and every request body the node accepts is one the
 * document describes. {@code OpenApiDocumentTest} checks that the document has no operation the
 * table lacks, and {@code HostileInputIT} the table against the route tree, so the three agree.
 */
class OpenApiContractIT {

  private static final Set<Integer> ERRORS_MET =
      Set.of(400, 401, 403, 404, 405, 409, 415, 429, 503);

  @Test
  void onEmbeddedH2() throws Exception {
    Path dir = Files.createTempDirectory("keel-it-openapi-h2");
    walk(Map.of("keel.node.data-dir", dir.toString()));
  }

  @Test
  void onPostgres() throws Exception {
    try (TestDatabases.FreshPostgres pg = TestDatabases.freshPostgres()) {
      Path dir = Files.createTempDirectory("keel-it-openapi-pg");
      walk(
          Map.of(
              "keel.node.data-dir",
              dir.toString(),
              "keel.database.url",
              pg.settings().url(),
              "keel.database.user",
              pg.settings().user()));
    }
  }

  private void walk(Map<String, String> db) throws Exception {
    try (FakeDnsServer dns = FakeDnsServer.start()) {
      Map<String, String> config = new HashMap<>(db);
      config.put("keel.tenants.dns-server", dns.hostAndPort());
      config.put("keel.tenants.domains.dns-timeout", "2s");
      // The registry watch is a stream: let it end soon so that its answer can be read whole.
      config.put("keel.services.watch.max-duration", "1s");
      try (KeelNode node =
          NodeHttp.start(
              config, new NodeWorkflowRegistry().register(new AuditIT.ApprovalWorkflow()))) {
        NodeHttp http = NodeHttp.ready(node);
        HttpResponse<String> served = http.sendAuth("GET", "/api/v1/openapi.json", null, null);
        assertThat(served.statusCode()).as("the document, without a token").isEqualTo(200);
        Calls calls = new Calls(http, new OpenApiContract(served.body()));
        operations(calls);
        workflows(calls, http);
        schedules(calls, http);
        services(calls, http);
        tenants(calls, http, dns);

        assertThat(calls.failures)
            .as(calls.failures.size() + " answers the document does not describe")
            .isEmpty();
        Set<String> unexercised = new TreeSet<>();
        for (RouteTable.Endpoint e : RouteTable.ENDPOINTS)
          unexercised.add(e.method() + " " + e.template());
        unexercised.removeAll(calls.succeeded);
        assertThat(unexercised).as("endpoints never answered with success in this walk").isEmpty();
        assertThat(calls.errorsSeen)
            .as("error statuses checked against the document")
            .containsAll(ERRORS_MET);
      }
    }
  }

  private static void operations(Calls c) throws Exception {
    c.call("GET", "/health", "/health", null, null, 200);
    c.call("GET", "/ready", "/ready", null, null, 200);
    c.call("GET", "/metrics", "/metrics", null, null, 200);
    c.call("GET", "/api/docs", "/api/docs", null, null, 200);
    for (String asset :
        List.of("swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png", "keel-docs.js")) {
      c.call("GET", "/api/docs/{asset}", "/api/docs/" + asset, null, null, 200);
    }
    c.call("GET", "/api/docs/{asset}", "/api/docs/index.html", null, null, 404);
    c.call("GET", "/api/v1/openapi.json", "/api/v1/openapi.json", null, null, 200);
    // The console: its page and files without a token, whom a credential stands for with one.
    c.call("GET", "/ui", "/ui", null, null, 200);
    for (String file : List.of("app.js", "console.css", "keel.svg", "index.html")) {
      c.call("GET", "/ui/{file}", "/ui/" + file, null, null, 200);
    }
    c.call("GET", "/ui/{file}", "/ui/nothing.js", null, null, 404);
    for (String file : List.of("uplot.js", "uplot.css")) {
      c.call("GET", "/ui/vendor/{file}", "/ui/vendor/" + file, null, null, 200);
    }
    c.call("GET", "/ui/vendor/{file}", "/ui/vendor/uPlot.esm.js", null, null, 404);
    c.call("GET", "/api/v1/caller", "/api/v1/caller", null, NodeHttp.TOKEN, 200);
    c.call("GET", "/api/v1/caller", "/api/v1/caller", null, null, 401);
    c.call(
        "GET",
        "/api/v1/workflow-counts",
        "/api/v1/workflow-counts?from=2026-01-01T00:00:00.000Z&idPrefix=a",
        null,
        NodeHttp.TOKEN,
        200);
    c.call(
        "GET",
        "/api/v1/workflow-counts",
        "/api/v1/workflow-counts?from=yesterday",
        null,
        NodeHttp.TOKEN,
        400);
    c.call(
        "GET",
        "/api/v1/workflows",
        "/api/v1/workflows?to=2099-01-01T00:00:00.000Z&idPrefix=a",
        null,
        NodeHttp.TOKEN,
        200);
    c.call(
        "GET",
        "/api/v1/service-counts",
        "/api/v1/service-counts?search=a",
        null,
        NodeHttp.TOKEN,
        200);
    c.call("GET", "/api/v1/services", "/api/v1/services?search=a", null, NodeHttp.TOKEN, 200);
    c.call("GET", "/api/v1/cluster", "/api/v1/cluster", null, NodeHttp.TOKEN, 200);
    c.call("GET", "/api/v1/cluster", "/api/v1/cluster", null, null, 401);
    c.call("GET", "/api/v1/metrics", "/api/v1/metrics", null, NodeHttp.TOKEN, 200);
    c.call(
        "GET",
        "/api/v1/workflow-definitions",
        "/api/v1/workflow-definitions",
        null,
        NodeHttp.TOKEN,
        200);
    // A method no route answers: a problem document, and Allow.
    HttpResponse<String> patch =
        c.http.sendAuth("PATCH", "/api/v1/workflows", null, NodeHttp.TOKEN);
    assertThat(patch.statusCode()).isEqualTo(405);
    c.failures.addAll(
        c.contract.checkSchema("Problem", patch.body(), "PATCH /api/v1/workflows -> 405"));
    c.errorsSeen.add(405);
  }

  private static void workflows(Calls c, NodeHttp http) throws Exception {
    String start =
        "{\"workflow\":\"example\",\"id\":\"wf-contract\",\"input\":{\"userId\":\"u-1\",\"action\":\"signup\"}}";
    c.call("POST", "/api/v1/workflows", "/api/v1/workflows?wait=PT30S", start, NodeHttp.TOKEN, 201);
    c.call("POST", "/api/v1/workflows", "/api/v1/workflows", start, NodeHttp.TOKEN, 200);
    c.call(
        "POST",
        "/api/v1/workflows",
        "/api/v1/workflows",
        start.replace("u-1", "u-2"),
        NodeHttp.TOKEN,
        409);
    c.call(
        "POST",
        "/api/v1/workflows",
        "/api/v1/workflows",
        "{\"workflow\":\"no-such-workflow\"}",
        NodeHttp.TOKEN,
        404);
    c.call(
        "POST",
        "/api/v1/workflows",
        "/api/v1/workflows",
        "{\"workflow\":7,\"id\":\"a b\"}",
        NodeHttp.TOKEN,
        400);
    HttpResponse<String> text = http.sendTyped("POST", "/api/v1/workflows", "{}", "text/plain");
    c.check("POST", "/api/v1/workflows", text, 415);
    http.await(
        "/api/v1/workflows/wf-contract",
        w -> w.get("status").asText().equals("completed"),
        "completed");
    c.call(
        "GET",
        "/api/v1/workflows/{id}",
        "/api/v1/workflows/wf-contract",
        null,
        NodeHttp.TOKEN,
        200);
    c.call(
        "GET", "/api/v1/workflows/{id}", "/api/v1/workflows/wf-nobody", null, NodeHttp.TOKEN, 404);
    c.call(
        "GET",
        "/api/v1/workflows/{id}/history",
        "/api/v1/workflows/wf-contract/history",
        null,
        NodeHttp.TOKEN,
        200);
    c.call(
        "POST",
        "/api/v1/workflows/{id}/cancel",
        "/api/v1/workflows/wf-contract/cancel",
        null,
        NodeHttp.TOKEN,
        409);
    http.await(
        "/api/v1/workflows?workflow=example",
        page -> page.get("items").size() > 0,
        "listed the execution");
    c.call(
        "GET",
        "/api/v1/workflows",
        "/api/v1/workflows?status=completed&limit=10",
        null,
        NodeHttp.TOKEN,
        200);

    // One that waits for a signal: paused, resumed, signalled to its end; another cancelled.
    String approval =
        "{\"workflow\":\"audit-approval\",\"id\":\"wf-contract-approval\",\"input\":{}}";
    c.call("POST", "/api/v1/workflows", "/api/v1/workflows", approval, NodeHttp.TOKEN, 201);
    http.await(
        "/api/v1/workflows/wf-contract-approval",
        w -> w.get("status").asText().equals("waiting"),
        "waited for its signal");
    c.call(
        "POST",
        "/api/v1/workflows/{id}/pause",
        "/api/v1/workflows/wf-contract-approval/pause",
        null,
        NodeHttp.TOKEN,
        202);
    c.call(
        "POST",
        "/api/v1/workflows/{id}/resume",
        "/api/v1/workflows/wf-contract-approval/resume",
        null,
        NodeHttp.TOKEN,
        202);
    c.call(
        "POST",
        "/api/v1/workflows/{id}/signals/{name}",
        "/api/v1/workflows/wf-contract-approval/signals/approve",
        "{\"by\":\"ops\"}",
        NodeHttp.TOKEN,
        202);
    c.call(
        "GET",
        "/api/v1/workflows/{id}",
        "/api/v1/workflows/wf-contract-approval?wait=PT30S",
        null,
        NodeHttp.TOKEN,
        200);
    c.call(
        "POST",
        "/api/v1/workflows",
        "/api/v1/workflows",
        approval.replace("wf-contract-approval", "wf-contract-cancelled"),
        NodeHttp.TOKEN,
        201);
    c.call(
        "POST",
        "/api/v1/workflows/{id}/cancel",
        "/api/v1/workflows/wf-contract-cancelled/cancel",
        "{\"reason\":\"not needed\"}",
        NodeHttp.TOKEN,
        202);
    // Operators' recovery: a cancelled execution retried (and cancelled again), a completed one
    // refused, and a rerun of the completed one from its second step.
    c.call(
        "POST",
        "/api/v1/workflows/{id}/retry",
        "/api/v1/workflows/wf-contract-cancelled/retry",
        "{\"reason\":\"needed after all\"}",
        NodeHttp.TOKEN,
        202);
    c.call(
        "POST",
        "/api/v1/workflows/{id}/cancel",
        "/api/v1/workflows/wf-contract-cancelled/cancel",
        null,
        NodeHttp.TOKEN,
        202);
    c.call(
        "POST",
        "/api/v1/workflows/{id}/retry",
        "/api/v1/workflows/wf-contract/retry",
        null,
        NodeHttp.TOKEN,
        409);
    c.call(
        "POST",
        "/api/v1/workflows/{id}/rerun",
        "/api/v1/workflows/wf-contract/rerun",
        "{\"fromStep\":\"process\",\"id\":\"wf-contract-rerun\"}",
        NodeHttp.TOKEN,
        201);
    c.call(
        "POST",
        "/api/v1/workflows/{id}/rerun",
        "/api/v1/workflows/wf-contract/rerun",
        "{\"fromStep\":\"never\"}",
        NodeHttp.TOKEN,
        400);
    c.call(
        "POST",
        "/api/v1/workflows/bulk/{action}",
        "/api/v1/workflows/bulk/pause",
        "{\"filter\":{\"workflow\":\"nothing-by-this-name\",\"status\":\"running\"},"
            + "\"reason\":\"contract\"}",
        NodeHttp.TOKEN,
        202);

    c.call(
        "POST",
        "/api/v1/admin/snapshots",
        "/api/v1/admin/snapshots",
        "{\"entityType\":\"workflow\",\"id\":\"wf-contract\"}",
        NodeHttp.TOKEN,
        202);
    c.call(
        "GET",
        "/api/v1/audit/{entityType}/{id}/events",
        "/api/v1/audit/workflow/wf-contract/events",
        null,
        NodeHttp.TOKEN,
        200);
    c.call(
        "GET",
        "/api/v1/audit/{entityType}/{id}/state",
        "/api/v1/audit/workflow/wf-contract-cancelled/state?asOf=" + Instant.now(),
        null,
        NodeHttp.TOKEN,
        200);
  }

  private static void schedules(Calls c, NodeHttp http) throws Exception {
    String schedule =
        "{\"workflow\":\"example\",\"cron\":\"0 3 1 1"
            + " *\",\"paused\":true,\"input\":{\"userId\":\"u-1\",\"action\":\"signup\"}}";
    c.call(
        "PUT",
        "/api/v1/schedules/{id}",
        "/api/v1/schedules/sched-contract",
        schedule,
        NodeHttp.TOKEN,
        201);
    c.call(
        "PUT",
        "/api/v1/schedules/{id}",
        "/api/v1/schedules/sched-contract",
        schedule,
        NodeHttp.TOKEN,
        200);
    c.call(
        "PUT",
        "/api/v1/schedules/{id}",
        "/api/v1/schedules/sched-contract",
        schedule.replace("0 3 1 1 *", "61 * * * *"),
        NodeHttp.TOKEN,
        400);
    c.call(
        "GET",
        "/api/v1/schedules/{id}",
        "/api/v1/schedules/sched-contract",
        null,
        NodeHttp.TOKEN,
        200);
    http.await("/api/v1/schedules", page -> page.get("items").size() > 0, "listed the schedule");
    c.call("GET", "/api/v1/schedules", "/api/v1/schedules?paused=true", null, NodeHttp.TOKEN, 200);
    c.call(
        "GET",
        "/api/v1/audit/{entityType}/{id}/state",
        "/api/v1/audit/schedule/sched-contract/state?asOf=" + Instant.now(),
        null,
        NodeHttp.TOKEN,
        200);
    c.call(
        "DELETE",
        "/api/v1/schedules/{id}",
        "/api/v1/schedules/sched-contract",
        null,
        NodeHttp.TOKEN,
        204);
  }

  private static void services(Calls c, NodeHttp http) throws Exception {
    String service =
        "{\"type\":\"source\",\"endpoint\":\"http://10.0.0.1:9000\",\"metadata\":{\"team\":\"a\"},\"ttlSeconds\":600}";
    c.call(
        "PUT",
        "/api/v1/services/{id}",
        "/api/v1/services/svc-contract",
        service,
        NodeHttp.TOKEN,
        201);
    c.call(
        "PUT",
        "/api/v1/services/{id}",
        "/api/v1/services/svc-contract",
        service,
        NodeHttp.TOKEN,
        200);
    String alert =
        "{\"service\":\"svc-contract\",\"condition\":\"status !="
            + " healthy\",\"webhook\":\"https://hooks.example.test/keel\"}";
    c.call(
        "PUT", "/api/v1/alerts/{id}", "/api/v1/alerts/alert-contract", alert, NodeHttp.TOKEN, 201);
    c.call(
        "PUT",
        "/api/v1/alerts/{id}",
        "/api/v1/alerts/alert-contract",
        alert.replace("!= healthy", "~ x"),
        NodeHttp.TOKEN,
        400);
    c.call(
        "POST",
        "/api/v1/services/{id}/heartbeat",
        "/api/v1/services/svc-contract/heartbeat",
        "{\"status\":\"healthy\",\"metrics\":{\"lag\":1.5},\"details\":{\"version\":\"1\"}}",
        NodeHttp.TOKEN,
        200);
    c.call(
        "GET",
        "/api/v1/services/{id}/health",
        "/api/v1/services/svc-contract/health",
        null,
        NodeHttp.TOKEN,
        200);
    c.call(
        "POST",
        "/api/v1/services/{id}/heartbeat",
        "/api/v1/services/svc-contract/heartbeat",
        "{\"status\":\"degraded\"}",
        NodeHttp.TOKEN,
        200);
    c.call(
        "GET",
        "/api/v1/services/{id}/health",
        "/api/v1/services/svc-contract/health",
        null,
        NodeHttp.TOKEN,
        503);
    // Every change so far (after=0), each event's data a ServiceChange as documented.
    c.call(
        "GET",
        "/api/v1/services/events",
        "/api/v1/services/events?after=0",
        null,
        NodeHttp.TOKEN,
        200);
    String stream =
        http.sendAuth("GET", "/api/v1/services/events?after=0", null, NodeHttp.TOKEN).body();
    List<String> data =
        stream.lines().filter(l -> l.startsWith("data:")).map(l -> l.substring(5)).toList();
    assertThat(data).as("the watch's events").isNotEmpty();
    for (String d : data)
      c.failures.addAll(c.contract.checkSchema("ServiceChange", d, "GET /api/v1/services/events"));
    c.call(
        "GET",
        "/api/v1/services/{id}/metrics",
        "/api/v1/services/svc-contract/metrics?since=PT1H&step=PT1M&name=lag",
        null,
        NodeHttp.TOKEN,
        200);
    c.call(
        "GET",
        "/api/v1/services/{id}/metrics",
        "/api/v1/services/svc-contract/metrics?since=P1000D",
        null,
        NodeHttp.TOKEN,
        400);
    c.call(
        "GET", "/api/v1/services/{id}", "/api/v1/services/svc-contract", null, NodeHttp.TOKEN, 200);
    http.await("/api/v1/services", page -> page.get("items").size() > 0, "listed the service");
    c.call(
        "GET",
        "/api/v1/services",
        "/api/v1/services?metadata=team%3Da&type=source",
        null,
        NodeHttp.TOKEN,
        200);
    http.await("/api/v1/alerts", page -> page.get("items").size() > 0, "listed the alert");
    c.call(
        "GET", "/api/v1/alerts", "/api/v1/alerts?service=svc-contract", null, NodeHttp.TOKEN, 200);
    c.call(
        "GET", "/api/v1/alerts/{id}", "/api/v1/alerts/alert-contract", null, NodeHttp.TOKEN, 200);
    c.call(
        "GET",
        "/api/v1/audit/{entityType}/{id}/state",
        "/api/v1/audit/service/svc-contract/state?asOf=" + Instant.now(),
        null,
        NodeHttp.TOKEN,
        200);
    c.call(
        "GET",
        "/api/v1/audit/{entityType}/{id}/state",
        "/api/v1/audit/alert/alert-contract/state?asOf=" + Instant.now(),
        null,
        NodeHttp.TOKEN,
        200);
    c.call(
        "DELETE",
        "/api/v1/alerts/{id}",
        "/api/v1/alerts/alert-contract",
        null,
        NodeHttp.TOKEN,
        204);
    c.call(
        "DELETE",
        "/api/v1/services/{id}",
        "/api/v1/services/svc-contract",
        null,
        NodeHttp.TOKEN,
        204);
  }

  /** Named keys: a tenant's viewer key reads but may not change, and is refused once revoked. */
  private static void namedKeys(Calls c, String base, String tenantAdminKey) throws Exception {
    JsonNode viewer =
        c.call(
            "POST",
            "/api/v1/tenants/{id}/keys",
            base + "/keys",
            "{\"name\":\"dashboards\",\"role\":\"viewer\",\"expiresAt\":\"2099-01-01T00:00:00Z\"}",
            tenantAdminKey,
            201);
    c.call(
        "POST",
        "/api/v1/tenants/{id}/keys",
        base + "/keys",
        "{\"name\":\"x\",\"role\":\"owner\"}",
        tenantAdminKey,
        400);
    String viewerKey = viewer.get("apiKey").asText();
    c.call("GET", "/api/v1/tenants/{id}", base, null, viewerKey, 200);
    c.call("GET", "/api/v1/tenants/{id}/keys", base + "/keys", null, viewerKey, 403);
    c.call("GET", "/api/v1/tenants/{id}/keys", base + "/keys", null, tenantAdminKey, 200);
    c.call(
        "DELETE",
        "/api/v1/tenants/{id}/keys/{keyId}",
        base + "/keys/" + viewer.get("id").asText(),
        null,
        tenantAdminKey,
        204);
    c.call("GET", "/api/v1/tenants/{id}", base, null, viewerKey, 401);
    JsonNode operator =
        c.call(
            "POST",
            "/api/v1/cluster-keys",
            "/api/v1/cluster-keys",
            "{\"name\":\"on-call\",\"role\":\"operator\"}",
            NodeHttp.TOKEN,
            201);
    c.call(
        "POST",
        "/api/v1/cluster-keys",
        "/api/v1/cluster-keys",
        "{\"name\":\"root\",\"role\":\"admin\"}",
        NodeHttp.TOKEN,
        400);
    c.call("GET", "/api/v1/cluster-keys", "/api/v1/cluster-keys", null, NodeHttp.TOKEN, 200);
    c.call(
        "GET",
        "/api/v1/cluster-keys",
        "/api/v1/cluster-keys",
        null,
        operator.get("apiKey").asText(),
        403);
    c.call("GET", "/api/v1/caller", "/api/v1/caller", null, operator.get("apiKey").asText(), 200);
    c.call(
        "DELETE",
        "/api/v1/cluster-keys/{keyId}",
        "/api/v1/cluster-keys/" + operator.get("id").asText(),
        null,
        NodeHttp.TOKEN,
        204);
  }

  private static void tenants(Calls c, NodeHttp http, FakeDnsServer dns) throws Exception {
    JsonNode tenant =
        c.call(
            "POST",
            "/api/v1/tenants",
            "/api/v1/tenants",
            "{\"slug\":\"contract\",\"name\":\"Contract\",\"plan\":\"free\"}",
            NodeHttp.TOKEN,
            201);
    String id = tenant.get("id").asText();
    String base = "/api/v1/tenants/" + id;
    http.await(base, t -> t.get("status").asText().equals("active"), "became active");
    c.call(
        "POST",
        "/api/v1/tenants",
        "/api/v1/tenants",
        "{\"slug\":\"contract\",\"name\":\"Again\",\"plan\":\"free\"}",
        NodeHttp.TOKEN,
        409);
    String key =
        c.call(
                "POST",
                "/api/v1/tenants/{id}/api-keys",
                base + "/api-keys",
                null,
                tenant.get("apiKey").asText(),
                201)
            .get("apiKey")
            .asText();
    c.call("GET", "/api/v1/tenants/{id}", base, null, key, 200);
    c.call("GET", "/api/v1/cluster", "/api/v1/cluster", null, key, 403);
    namedKeys(c, base, key);
    http.await("/api/v1/tenants", page -> page.get("items").size() > 0, "listed the tenant");
    c.call("GET", "/api/v1/tenants", "/api/v1/tenants?status=active", null, NodeHttp.TOKEN, 200);

    JsonNode domain =
        c.call(
            "POST",
            "/api/v1/tenants/{id}/domains",
            base + "/domains",
            "{\"hostname\":\"shop.contract.test\"}",
            key,
            201);
    c.call(
        "POST",
        "/api/v1/tenants/{id}/domains",
        base + "/domains",
        "{\"hostname\":\"blog.contract.test\"}",
        key,
        429);
    dns.putTxt(
        "_keel-challenge.shop.contract.test", domain.get("verification").get("value").asText());
    String hostname = base + "/domains/shop.contract.test";
    c.call(
        "POST",
        "/api/v1/tenants/{id}/domains/{hostname}/verify",
        hostname + "/verify",
        null,
        key,
        200);
    c.call(
        "PUT",
        "/api/v1/tenants/{id}/domains/{hostname}/certificate",
        hostname + "/certificate",
        "{\"status\":\"pending\"}",
        NodeHttp.TOKEN,
        200);
    c.call("GET", "/api/v1/tenants/{id}/domains/{hostname}", hostname, null, key, 200);
    http.await(base + "/domains", page -> page.get("items").size() > 0, "listed the domain");
    c.call("GET", "/api/v1/tenants/{id}/domains", base + "/domains?limit=5", null, key, 200);
    c.call(
        "GET",
        "/api/v1/audit/{entityType}/{id}/state",
        "/api/v1/audit/hostname/shop.contract.test/state?asOf=" + Instant.now(),
        null,
        NodeHttp.TOKEN,
        200);
    c.call(
        "GET",
        "/api/v1/audit/{entityType}/{id}/state",
        "/api/v1/audit/quota/"
            + QuotaLedger.entityId(id, Quota.DOMAINS, null)
            + "/state?asOf="
            + Instant.now(),
        null,
        NodeHttp.TOKEN,
        200);
    c.call("DELETE", "/api/v1/tenants/{id}/domains/{hostname}", hostname, null, key, 204);

    c.call(
        "POST",
        "/api/v1/tenants/{id}/suspend",
        base + "/suspend",
        "{\"reason\":\"contract check\"}",
        NodeHttp.TOKEN,
        200);
    c.call("GET", "/api/v1/workflows", "/api/v1/workflows", null, key, 403);
    c.call(
        "POST", "/api/v1/tenants/{id}/reactivate", base + "/reactivate", null, NodeHttp.TOKEN, 200);
    c.call(
        "GET",
        "/api/v1/audit/{entityType}/{id}/state",
        "/api/v1/audit/tenant/" + id + "/state?asOf=" + Instant.now(),
        null,
        NodeHttp.TOKEN,
        200);
    c.call("DELETE", "/api/v1/tenants/{id}", base, null, NodeHttp.TOKEN, 202);
  }

  /** Sends requests, checks each answer against the document, and keeps what was covered. */
  private static final class Calls {
    final NodeHttp http;
    final OpenApiContract contract;
    final List<String> failures = new ArrayList<>();
    final Set<String> succeeded = new TreeSet<>();
    final Set<Integer> errorsSeen = new TreeSet<>();

    Calls(NodeHttp http, OpenApiContract contract) {
      this.http = http;
      this.contract = contract;
    }

    /**
     * Sends {@code method path} as an instance of {@code template} with {@code token} (none when
     * null); the answer's JSON.
     */
    JsonNode call(
        String method, String template, String path, String body, String token, int expected)
        throws Exception {
      // A request the node accepts is one the document describes.
      if (body != null && expected < 300)
        failures.addAll(contract.checkRequest(method, template, body));
      HttpResponse<String> response = http.sendAuth(method, path, body, token);
      check(method, template, response, expected);
      String type = response.headers().firstValue("Content-Type").orElse("");
      return type.contains("json") && !response.body().isEmpty()
          ? NodeHttp.JSON.readTree(response.body())
          : null;
    }

    void check(String method, String template, HttpResponse<String> response, int expected) {
      String label = method + " " + response.uri().getRawPath();
      assertThat(response.statusCode()).as(label + " -> " + response.body()).isEqualTo(expected);
      failures.addAll(
          contract.check(
              method,
              template,
              response.statusCode(),
              response.headers().firstValue("Content-Type").orElse(null),
              response.body()));
      if (expected < 300) succeeded.add(method + " " + template);
      else errorsSeen.add(expected);
    }
  }
}
