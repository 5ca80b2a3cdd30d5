package dev.keel.node;

import static dev.keel.node.NodeHttp.JSON;
import static dev.keel.node.NodeHttp.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.persistence.TestDatabases;
import dev.keel.tenant.domain.FakeDnsServer;
import dev.keel.workflow.execution.NodeWorkflowRegistry;
import dev.keel.workflow.sdk.Workflow;
import dev.keel.workflow.sdk.WorkflowContext;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Audit over HTTP: for every entity type (workflow, schedule, service, alert, tenant, hostname),
 * the state rebuilt as of an instant equals what the live resource answered at that instant, also
 * across an on-demand snapshot, and an instant before the entity existed (or after it was deleted)
 * is a 404. Heartbeat data is not journaled, so a service's past view has none.
 */
class AuditIT {

  @Test
  void onEmbeddedH2() throws Exception {
    Path dir = Files.createTempDirectory("keel-it-audit-h2");
    exercise(Map.of("keel.node.data-dir", dir.toString()));
  }

  @Test
  void onPostgres() throws Exception {
    try (TestDatabases.FreshPostgres pg = TestDatabases.freshPostgres()) {
      Path dir = Files.createTempDirectory("keel-it-audit-pg");
      exercise(
          Map.of(
              "keel.node.data-dir",
              dir.toString(),
              "keel.database.url",
              pg.settings().url(),
              "keel.database.user",
              pg.settings().user()));
    }
  }

  private void exercise(Map<String, String> db) throws Exception {
    try (FakeDnsServer dns = FakeDnsServer.start()) {
      Map<String, String> config = new HashMap<>(db);
      config.put("keel.tenants.dns-server", dns.hostAndPort());
      exerciseWith(config);
    }
  }

  private void exerciseWith(Map<String, String> config) throws Exception {
    try (KeelNode node =
        NodeHttp.start(config, new NodeWorkflowRegistry().register(new ApprovalWorkflow()))) {
      NodeHttp api = NodeHttp.ready(node);
      Map<String, JsonNode> seen = new LinkedHashMap<>();
      Instant beforeAll = tick();

      // A schedule defined, redefined, deleted.
      api.send(
          "PUT",
          "/api/v1/schedules/audit-s",
          "{\"workflow\":\"example\",\"cron\":\"0 3 1 1 *\",\"input\":{\"userId\":\"u-1\"}}");
      record(api, seen, "schedule", "audit-s", "/api/v1/schedules/audit-s");
      api.send(
          "PUT",
          "/api/v1/schedules/audit-s",
          "{\"workflow\":\"example\",\"cron\":\"0 4 1 1"
              + " *\",\"paused\":true,\"input\":{\"userId\":\"u-1\"}}");
      record(api, seen, "schedule", "audit-s", "/api/v1/schedules/audit-s");
      api.send("DELETE", "/api/v1/schedules/audit-s", null);
      Instant scheduleGone = tick();

      // A service registered, then reporting degraded, then deregistered.
      api.send(
          "PUT",
          "/api/v1/services/audit-svc",
          "{\"type\":\"source\",\"metadata\":{\"env\":\"prod\"}}");
      record(api, seen, "service", "audit-svc", "/api/v1/services/audit-svc");
      api.send(
          "POST",
          "/api/v1/services/audit-svc/heartbeat",
          "{\"status\":\"degraded\",\"metrics\":{\"lag\":3}}");
      record(api, seen, "service", "audit-svc", "/api/v1/services/audit-svc");
      api.send("DELETE", "/api/v1/services/audit-svc", null);

      // A workflow run to completion.
      api.send(
          "POST",
          "/api/v1/workflows",
          "{\"workflow\":\"example\",\"id\":\"audit-wf\",\"input\":{\"userId\":\"u\",\"action\":\"a\"}}");
      assertThat(
              JSON.readTree(api.send("GET", "/api/v1/workflows/audit-wf?wait=PT30S", null).body())
                  .get("status")
                  .asText())
          .isEqualTo("completed");
      record(api, seen, "workflow", "audit-wf", "/api/v1/workflows/audit-wf");

      // A workflow seen waiting for a signal, paused, resumed, and completed by the signal.
      String approval = "/api/v1/workflows/audit-approval";
      api.send(
          "POST",
          "/api/v1/workflows",
          "{\"workflow\":\"audit-approval\",\"id\":\"audit-approval\",\"input\":{}}");
      api.await(approval, w -> w.get("status").asText().equals("waiting"), "waited for the signal");
      record(api, seen, "workflow", "audit-approval", approval);
      api.send("POST", approval + "/pause", null);
      api.await(approval, w -> w.get("status").asText().equals("paused"), "paused");
      record(api, seen, "workflow", "audit-approval", approval);
      api.send("POST", approval + "/resume", null);
      api.await(approval, w -> w.get("status").asText().equals("waiting"), "waited again");
      record(api, seen, "workflow", "audit-approval", approval);
      api.send("POST", approval + "/signals/approve", "{\"by\":\"ops\"}");
      api.await(approval, w -> w.get("status").asText().equals("completed"), "completed");
      record(api, seen, "workflow", "audit-approval", approval);

      // An alert rule defined, redefined, deleted.
      String rule =
          "{\"service\":\"nobody\",\"condition\":\"%s\",\"webhook\":\"http://127.0.0.1:9/hook\"}";
      api.send("PUT", "/api/v1/alerts/audit-a", rule.formatted("status != healthy"));
      record(api, seen, "alert", "audit-a", "/api/v1/alerts/audit-a");
      api.send("PUT", "/api/v1/alerts/audit-a", rule.formatted("status == stale"));
      record(api, seen, "alert", "audit-a", "/api/v1/alerts/audit-a");
      api.send("DELETE", "/api/v1/alerts/audit-a", null);
      Instant alertGone = tick();

      // A tenant, active, then suspended.
      String tenantId =
          JSON.readTree(
                  api.send(
                          "POST",
                          "/api/v1/tenants",
                          "{\"slug\":\"audited\",\"name\":\"Audited\",\"plan\":\"free\"}")
                      .body())
              .get("id")
              .asText();
      api.await(
          "/api/v1/tenants/" + tenantId,
          t -> t.get("status").asText().equals("active"),
          "became active");
      record(api, seen, "tenant", tenantId, "/api/v1/tenants/" + tenantId);

      // Its hostname claimed, its certificate pending, then released.
      String domain = "/api/v1/tenants/" + tenantId + "/domains/shop.audited.example";
      api.send(
          "POST",
          "/api/v1/tenants/" + tenantId + "/domains",
          "{\"hostname\":\"shop.audited.example\"}");
      record(api, seen, "hostname", "shop.audited.example", domain);
      api.send("PUT", domain + "/certificate", "{\"status\":\"pending\"}");
      record(api, seen, "hostname", "shop.audited.example", domain);
      api.send("DELETE", domain, null);
      Instant domainGone = tick();

      // A snapshot in the middle of the tenant's journal changes no past or present state.
      assertThat(
              api.send(
                      "POST",
                      "/api/v1/admin/snapshots",
                      "{\"entityType\":\"tenant\",\"id\":\"" + tenantId + "\"}")
                  .statusCode())
          .isEqualTo(202);
      record(api, seen, "tenant", tenantId, "/api/v1/tenants/" + tenantId);
      api.send("POST", "/api/v1/tenants/" + tenantId + "/suspend", "{\"reason\":\"audit\"}");
      record(api, seen, "tenant", tenantId, "/api/v1/tenants/" + tenantId);
      assertThat(
              JSON.readTree(
                      api.send("GET", "/api/v1/audit/tenant/" + tenantId + "/events", null).body())
                  .findValuesAsText("type"))
          .containsSubsequence("TenantActivated", "SnapshotRequested", "TenantSuspended");

      for (Map.Entry<String, JsonNode> e : seen.entrySet()) {
        String[] key = e.getKey().split(" ");
        HttpResponse<String> past =
            api.send(
                "GET", "/api/v1/audit/" + key[0] + "/" + key[1] + "/state?asOf=" + key[2], null);
        assertThat(past.statusCode()).as(e.getKey() + ": " + past.body()).isEqualTo(200);
        assertThat(comparable(key[0], JSON.readTree(past.body())))
            .as(e.getKey())
            .isEqualTo(comparable(key[0], e.getValue()));
      }
      assertProblem(
          api.send("GET", "/api/v1/audit/schedule/audit-s/state?asOf=" + beforeAll, null), 404);
      assertProblem(
          api.send("GET", "/api/v1/audit/schedule/audit-s/state?asOf=" + scheduleGone, null), 404);
      assertProblem(
          api.send("GET", "/api/v1/audit/alert/audit-a/state?asOf=" + alertGone, null), 404);
      assertProblem(
          api.send(
              "GET", "/api/v1/audit/hostname/shop.audited.example/state?asOf=" + domainGone, null),
          404);
      assertThat(seen.keySet().stream().map(k -> k.split(" ")[0]).distinct())
          .containsExactlyInAnyOrder(
              "schedule", "service", "workflow", "alert", "tenant", "hostname");

      // The events, whole and by time window.
      JsonNode events =
          JSON.readTree(api.send("GET", "/api/v1/audit/service/audit-svc/events", null).body());
      assertThat(events).hasSize(3);
      assertThat(events.get(0).get("type").asText()).isEqualTo("ServiceRegistered");
      assertThat(events.get(1).get("data").get("to").asText()).isEqualTo("degraded");
      assertThat(events.get(2).get("type").asText()).isEqualTo("ServiceDeregistered");
      Instant second = Instant.parse(events.get(1).get("at").asText());
      assertThat(
              JSON.readTree(
                  api.send("GET", "/api/v1/audit/service/audit-svc/events?from=" + second, null)
                      .body()))
          .hasSize(2);
      assertThat(
              JSON.readTree(
                  api.send("GET", "/api/v1/audit/service/audit-svc/events?to=" + second, null)
                      .body()))
          .hasSize(2);

      assertProblem(api.send("GET", "/api/v1/audit/spaceship/x/events", null), 404);
      assertProblem(api.send("GET", "/api/v1/audit/service/audit-svc/state", null), 400, "asOf");
      assertProblem(
          api.send("GET", "/api/v1/audit/service/audit-svc/state?asOf=yesterday&x=1", null),
          400,
          "asOf",
          "x");
      String key =
          JSON.readTree(
                  api.send(
                          "POST",
                          "/api/v1/tenants",
                          "{\"slug\":\"other\",\"name\":\"Other\",\"plan\":\"free\"}")
                      .body())
              .get("apiKey")
              .asText();
      assertProblem(api.sendAuth("GET", "/api/v1/audit/service/audit-svc/events", null, key), 403);
    }
  }

  /** Reads the live resource and remembers it with the instant right after the answer. */
  private static void record(
      NodeHttp api, Map<String, JsonNode> seen, String type, String id, String path)
      throws Exception {
    HttpResponse<String> live = api.send("GET", path, null);
    assertThat(live.statusCode()).as(live.body()).isEqualTo(200);
    seen.put(type + " " + id + " " + tick(), JSON.readTree(live.body()));
  }

  /** An instant strictly after everything before it, at the API's millisecond precision. */
  private static Instant tick() throws InterruptedException {
    Thread.sleep(5);
    Instant now = Instant.ofEpochMilli(System.currentTimeMillis());
    Thread.sleep(5);
    return now;
  }

  /**
   * What a past state can know: a service's last heartbeat, metrics and deadline live only in
   * memory.
   */
  private static JsonNode comparable(String type, JsonNode view) {
    ObjectNode copy = view.deepCopy();
    if (type.equals("service")) {
      copy.remove(
          java.util.List.of("lastHeartbeatAt", "metrics", "details", "nextHeartbeatBefore"));
    }
    return copy;
  }

  /**
   * Prepares, waits for the signal {@code approve}, then finishes: an execution with a life to look
   * back on.
   */
  static final class ApprovalWorkflow implements Workflow<JsonNode, String> {
    @Override
    public String name() {
      return "audit-approval";
    }

    @Override
    public Class<JsonNode> inputType() {
      return JsonNode.class;
    }

    @Override
    public String run(WorkflowContext ctx, JsonNode input) {
      String prepared = ctx.step("prepare", String.class, () -> "prepared");
      JsonNode approval = ctx.awaitSignal("approve", JsonNode.class, Duration.ofHours(1));
      return ctx.step(
          "finish", String.class, () -> prepared + ", approved by " + approval.path("by").asText());
    }
  }
}
