package dev.keel.node;

import static dev.keel.node.NodeHttp.JSON;
import static dev.keel.node.NodeHttp.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.persistence.TestDatabases;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Audit over HTTP: for every entity type, the state rebuilt as of an instant equals what the live
 * resource answered at that instant, and an instant before the entity existed (or after it was
 * deleted) is a 404. Heartbeat data is not journaled, so a service's past view has none.
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
      exercise(Map.of("keel.node.data-dir", dir.toString(), "keel.database.url", pg.settings().url(),
          "keel.database.user", pg.settings().user()));
    }
  }

  private void exercise(Map<String, String> db) throws Exception {
    try (KeelNode node = NodeHttp.start(db)) {
      NodeHttp api = NodeHttp.ready(node);
      Map<String, JsonNode> seen = new LinkedHashMap<>();
      Instant beforeAll = tick();

      // A schedule defined, redefined, deleted.
      api.send("PUT", "/api/v1/schedules/audit-s", "{\"workflow\":\"example\",\"cron\":\"0 3 1 1 *\"}");
      record(api, seen, "schedule", "audit-s", "/api/v1/schedules/audit-s");
      api.send("PUT", "/api/v1/schedules/audit-s", "{\"workflow\":\"example\",\"cron\":\"0 4 1 1 *\",\"paused\":true}");
      record(api, seen, "schedule", "audit-s", "/api/v1/schedules/audit-s");
      api.send("DELETE", "/api/v1/schedules/audit-s", null);
      Instant scheduleGone = tick();

      // A service registered, then reporting degraded, then deregistered.
      api.send("PUT", "/api/v1/services/audit-svc", "{\"type\":\"source\",\"metadata\":{\"env\":\"prod\"}}");
      record(api, seen, "service", "audit-svc", "/api/v1/services/audit-svc");
      api.send("POST", "/api/v1/services/audit-svc/heartbeat", "{\"status\":\"degraded\",\"metrics\":{\"lag\":3}}");
      record(api, seen, "service", "audit-svc", "/api/v1/services/audit-svc");
      api.send("DELETE", "/api/v1/services/audit-svc", null);

      // A workflow run to completion.
      api.send("POST", "/api/v1/workflows", "{\"workflow\":\"example\",\"id\":\"audit-wf\",\"input\":{\"userId\":\"u\",\"action\":\"a\"}}");
      assertThat(JSON.readTree(api.send("GET", "/api/v1/workflows/audit-wf?wait=PT30S", null).body()).get("status").asText())
          .isEqualTo("completed");
      record(api, seen, "workflow", "audit-wf", "/api/v1/workflows/audit-wf");

      // A tenant, active, then suspended.
      String tenantId = JSON.readTree(api.send("POST", "/api/v1/tenants", "{\"slug\":\"audited\",\"name\":\"Audited\",\"plan\":\"free\"}")
          .body()).get("id").asText();
      api.await("/api/v1/tenants/" + tenantId, t -> t.get("status").asText().equals("active"), "became active");
      record(api, seen, "tenant", tenantId, "/api/v1/tenants/" + tenantId);
      api.send("POST", "/api/v1/tenants/" + tenantId + "/suspend", "{\"reason\":\"audit\"}");
      record(api, seen, "tenant", tenantId, "/api/v1/tenants/" + tenantId);

      for (Map.Entry<String, JsonNode> e : seen.entrySet()) {
        String[] key = e.getKey().split(" ");
        HttpResponse<String> past = api.send("GET", "/api/v1/audit/" + key[0] + "/" + key[1] + "/state?asOf=" + key[2], null);
        assertThat(past.statusCode()).as(e.getKey() + ": " + past.body()).isEqualTo(200);
        assertThat(comparable(key[0], JSON.readTree(past.body()))).as(e.getKey()).isEqualTo(comparable(key[0], e.getValue()));
      }
      assertProblem(api.send("GET", "/api/v1/audit/schedule/audit-s/state?asOf=" + beforeAll, null), 404);
      assertProblem(api.send("GET", "/api/v1/audit/schedule/audit-s/state?asOf=" + scheduleGone, null), 404);

      // The events, whole and by time window.
      JsonNode events = JSON.readTree(api.send("GET", "/api/v1/audit/service/audit-svc/events", null).body());
      assertThat(events).hasSize(3);
      assertThat(events.get(0).get("type").asText()).isEqualTo("ServiceRegistered");
      assertThat(events.get(1).get("data").get("to").asText()).isEqualTo("degraded");
      assertThat(events.get(2).get("type").asText()).isEqualTo("ServiceDeregistered");
      Instant second = Instant.parse(events.get(1).get("at").asText());
      assertThat(JSON.readTree(api.send("GET", "/api/v1/audit/service/audit-svc/events?from=" + second, null).body())).hasSize(2);
      assertThat(JSON.readTree(api.send("GET", "/api/v1/audit/service/audit-svc/events?to=" + second, null).body())).hasSize(2);

      assertProblem(api.send("GET", "/api/v1/audit/spaceship/x/events", null), 404);
      assertProblem(api.send("GET", "/api/v1/audit/service/audit-svc/state", null), 400, "asOf");
      assertProblem(api.send("GET", "/api/v1/audit/service/audit-svc/state?asOf=yesterday&x=1", null), 400, "asOf", "x");
      String key = JSON.readTree(api.send("POST", "/api/v1/tenants", "{\"slug\":\"other\",\"name\":\"Other\",\"plan\":\"free\"}").body())
          .get("apiKey").asText();
      assertProblem(api.sendAuth("GET", "/api/v1/audit/service/audit-svc/events", null, key), 403);
    }
  }

  /** Reads the live resource and remembers it with the instant right after the answer. */
  private static void record(NodeHttp api, Map<String, JsonNode> seen, String type, String id, String path) throws Exception {
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

  /** What a past state can know: a service's last heartbeat, metrics and deadline live only in memory. */
  private static JsonNode comparable(String type, JsonNode view) {
    ObjectNode copy = view.deepCopy();
    if (type.equals("service")) {
      copy.remove(java.util.List.of("lastHeartbeatAt", "metrics", "details", "nextHeartbeatBefore"));
    }
    return copy;
  }
}
