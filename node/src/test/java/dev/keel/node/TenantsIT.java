package dev.keel.node;

import static dev.keel.node.NodeHttp.JSON;
import static dev.keel.node.NodeHttp.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.persistence.DatabaseSettings;
import dev.keel.persistence.TestDatabases;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Tenants over HTTP on H2 and PostgreSQL: one event creates a tenant with its domain and key;
 * concurrent creates of one slug; keys that stop working after rotation, suspension and deletion;
 * admin-only endpoints; and every resource type tried across tenants (404, never another tenant's
 * data).
 */
class TenantsIT {

  @Test
  void onEmbeddedH2() throws Exception {
    Path dir = Files.createTempDirectory("keel-it-tenants-h2");
    exercise(Map.of("keel.node.data-dir", dir.toString()), DatabaseSettings.embedded(dir));
  }

  @Test
  void onPostgres() throws Exception {
    try (TestDatabases.FreshPostgres pg = TestDatabases.freshPostgres()) {
      Path dir = Files.createTempDirectory("keel-it-tenants-pg");
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
    try (KeelNode node = NodeHttp.start(db)) {
      NodeHttp api = NodeHttp.ready(node);

      JsonNode acme =
          created(
              api.send(
                  "POST",
                  "/api/v1/tenants",
                  "{\"slug\":\"acme\",\"name\":\"Acme Inc\",\"plan\":\"pro\"}"));
      assertThat(acme.get("defaultDomain").asText()).isEqualTo("acme.keel.localhost");
      assertThat(acme.get("status").asText()).isEqualTo("provisioning");
      String acmeId = acme.get("id").asText();
      String acmeKey = acme.get("apiKey").asText();
      assertThat(acmeKey).startsWith("keel_" + acmeId + "_");
      JsonNode globex =
          created(
              api.send(
                  "POST",
                  "/api/v1/tenants",
                  "{\"slug\":\"globex\",\"name\":\"Globex\",\"plan\":\"free\"}"));
      String globexId = globex.get("id").asText();
      String globexKey = globex.get("apiKey").asText();

      // Provisioning (no downstream services configured) makes both active; the key is never shown
      // again.
      JsonNode read = awaitStatus(api, acmeId, "active");
      assertThat(read.has("apiKey")).isFalse();
      assertThat(api.send("GET", "/api/v1/tenants/" + acmeId, null).body())
          .doesNotContain(acmeKey.substring(50));
      awaitStatus(api, globexId, "active");

      // Concurrent creates of one slug: exactly one 201, the others 409.
      ExecutorService pool = Executors.newFixedThreadPool(8);
      List<Future<HttpResponse<String>>> racing = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        int n = i;
        racing.add(
            pool.submit(
                (Callable<HttpResponse<String>>)
                    () ->
                        api.send(
                            "POST",
                            "/api/v1/tenants",
                            "{\"slug\":\"race\",\"name\":\"Racer " + n + "\",\"plan\":\"free\"}")));
      }
      List<Integer> codes = new ArrayList<>();
      for (Future<HttpResponse<String>> f : racing) codes.add(f.get().statusCode());
      pool.shutdown();
      assertThat(codes).filteredOn(c -> c == 201).hasSize(1);
      assertThat(codes).filteredOn(c -> c == 409).hasSize(7);

      // Resources created with a tenant key belong to that tenant.
      assertThat(
              api.sendAuth("PUT", "/api/v1/services/acme-ledger", "{\"type\":\"source\"}", acmeKey)
                  .statusCode())
          .isEqualTo(201);
      assertThat(
              api.sendAuth(
                      "POST",
                      "/api/v1/workflows",
                      "{\"workflow\":\"example\",\"id\":\"acme-wf\",\"input\":{\"userId\":\"u\",\"action\":\"a\"}}",
                      acmeKey)
                  .statusCode())
          .isEqualTo(201);
      assertThat(
              api.sendAuth(
                      "PUT",
                      "/api/v1/schedules/acme-nightly",
                      "{\"workflow\":\"example\",\"cron\":\"0 3 1 1"
                          + " *\",\"input\":{\"userId\":\"u-1\"}}",
                      acmeKey)
                  .statusCode())
          .isEqualTo(201);
      JsonNode service = json(api.sendAuth("GET", "/api/v1/services/acme-ledger", null, acmeKey));
      assertThat(service.get("tenantId").asText()).isEqualTo(acmeId);
      assertThat(json(api.send("GET", "/api/v1/workflows/acme-wf", null)).get("tenantId").asText())
          .isEqualTo(acmeId);

      // Another tenant: 404 for each of them, as for ids that do not exist, and no way to take them
      // over.
      for (String path :
          List.of(
              "/api/v1/services/acme-ledger",
              "/api/v1/services/acme-ledger/health",
              "/api/v1/workflows/acme-wf",
              "/api/v1/workflows/acme-wf/history",
              "/api/v1/schedules/acme-nightly",
              "/api/v1/tenants/" + acmeId)) {
        assertProblem(api.sendAuth("GET", path, null, globexKey), 404);
      }
      assertProblem(
          api.sendAuth(
              "POST",
              "/api/v1/services/acme-ledger/heartbeat",
              "{\"status\":\"unhealthy\"}",
              globexKey),
          404);
      assertProblem(api.sendAuth("DELETE", "/api/v1/services/acme-ledger", null, globexKey), 404);
      assertProblem(api.sendAuth("POST", "/api/v1/workflows/acme-wf/cancel", null, globexKey), 404);
      assertProblem(api.sendAuth("DELETE", "/api/v1/schedules/acme-nightly", null, globexKey), 404);
      assertProblem(
          api.sendAuth("PUT", "/api/v1/services/acme-ledger", "{\"type\":\"sink\"}", globexKey),
          409);
      assertProblem(
          api.sendAuth(
              "PUT",
              "/api/v1/schedules/acme-nightly",
              "{\"workflow\":\"example\",\"cron\":\"0 4 1 1 *\",\"input\":{\"userId\":\"u-1\"}}",
              globexKey),
          409);
      HttpResponse<String> sameWorkflowId =
          api.sendAuth(
              "POST",
              "/api/v1/workflows",
              "{\"workflow\":\"example\",\"id\":\"acme-wf\",\"input\":{\"userId\":\"u\",\"action\":\"a\"}}",
              globexKey);
      assertProblem(sameWorkflowId, 409);
      assertThat(sameWorkflowId.body()).doesNotContain(acmeId);
      assertProblem(
          api.sendAuth(
              "PUT",
              "/api/v1/services/globex-x",
              "{\"type\":\"source\",\"tenantId\":\"" + acmeId + "\"}",
              globexKey),
          400,
          "tenantId");
      assertThat(
              json(api.sendAuth("GET", "/api/v1/services/acme-ledger", null, acmeKey))
                  .get("status")
                  .asText())
          .isEqualTo("healthy");

      // Lists show a tenant its own only; the admin everything, or one tenant's.
      api.await("/api/v1/services", l -> l.get("items").size() == 1, "listed acme-ledger");
      assertThat(json(api.sendAuth("GET", "/api/v1/services", null, globexKey)).get("items"))
          .isEmpty();
      assertThat(json(api.sendAuth("GET", "/api/v1/services", null, acmeKey)).get("items"))
          .hasSize(1);
      api.await(
          "/api/v1/workflows?tenantId=" + acmeId,
          l -> l.get("items").size() == 1,
          "listed acme-wf");
      assertThat(json(api.sendAuth("GET", "/api/v1/workflows", null, globexKey)).get("items"))
          .isEmpty();
      api.await("/api/v1/schedules", l -> l.get("items").size() == 1, "listed acme-nightly");
      assertThat(json(api.sendAuth("GET", "/api/v1/schedules", null, globexKey)).get("items"))
          .isEmpty();

      // Admin-only endpoints are 403 to tenant keys; a tenant may read itself.
      assertProblem(
          api.sendAuth(
              "POST",
              "/api/v1/tenants",
              "{\"slug\":\"sneaky\",\"name\":\"x\",\"plan\":\"free\"}",
              acmeKey),
          403);
      assertProblem(api.sendAuth("GET", "/api/v1/tenants", null, acmeKey), 403);
      assertProblem(
          api.sendAuth("POST", "/api/v1/tenants/" + acmeId + "/suspend", null, acmeKey), 403);
      assertProblem(api.sendAuth("DELETE", "/api/v1/tenants/" + acmeId, null, acmeKey), 403);
      assertThat(
              json(api.sendAuth("GET", "/api/v1/tenants/" + acmeId, null, acmeKey))
                  .get("slug")
                  .asText())
          .isEqualTo("acme");

      // Rotation: the old key stops at once, the new one works.
      JsonNode rotated =
          created(api.sendAuth("POST", "/api/v1/tenants/" + acmeId + "/api-keys", null, acmeKey));
      String newKey = rotated.get("apiKey").asText();
      assertThat(newKey).isNotEqualTo(acmeKey);
      assertProblem(api.sendAuth("GET", "/api/v1/services/acme-ledger", null, acmeKey), 401);
      assertThat(api.sendAuth("GET", "/api/v1/services/acme-ledger", null, newKey).statusCode())
          .isEqualTo(200);

      // Suspension: 403 saying so; reactivation restores the key.
      assertThat(
              api.send(
                      "POST",
                      "/api/v1/tenants/" + acmeId + "/suspend",
                      "{\"reason\":\"unpaid invoice\"}")
                  .statusCode())
          .isEqualTo(200);
      HttpResponse<String> suspended =
          api.sendAuth("GET", "/api/v1/services/acme-ledger", null, newKey);
      assertProblem(suspended, 403);
      assertThat(JSON.readTree(suspended.body()).get("detail").asText()).contains("suspended");
      assertProblem(
          api.send("POST", "/api/v1/tenants/" + acmeId + "/suspend", "{\"reason\":7}"),
          400,
          "reason");
      assertThat(api.send("POST", "/api/v1/tenants/" + acmeId + "/reactivate", null).statusCode())
          .isEqualTo(200);
      assertThat(api.sendAuth("GET", "/api/v1/services/acme-ledger", null, newKey).statusCode())
          .isEqualTo(200);

      // Bad input: every bad field, nothing journaled.
      long before = NodeHttp.journalEvents(dbSettings, "tenant", "slug");
      assertProblem(
          api.send(
              "POST",
              "/api/v1/tenants",
              "{\"slug\":\"Not_A_Slug\",\"name\":\"\",\"plan\":\"gold\",\"colour\":1}"),
          400,
          "slug",
          "name",
          "plan",
          "colour");
      assertProblem(
          api.send(
              "POST", "/api/v1/tenants", "{\"slug\":\"www\",\"name\":\"x\",\"plan\":\"free\"}"),
          400,
          "slug");
      assertProblem(
          api.send("POST", "/api/v1/tenants", "{\"slug\":\"ab\",\"name\":\"x\",\"plan\":\"free\"}"),
          400,
          "slug");
      assertThat(NodeHttp.journalEvents(dbSettings, "tenant", "slug")).isEqualTo(before);
      assertProblem(api.send("GET", "/api/v1/tenants/tdoesnotexistdoesnotexistdoe", null), 404);
      assertProblem(api.send("GET", "/api/v1/tenants?status=gone", null), 400, "status");

      // Deletion: deprovisioning runs, the key stops working, the slug is free again.
      HttpResponse<String> deleting = api.send("DELETE", "/api/v1/tenants/" + globexId, null);
      assertThat(deleting.statusCode()).as(deleting.body()).isEqualTo(202);
      awaitStatus(api, globexId, "deleted");
      assertProblem(api.send("POST", "/api/v1/tenants/" + globexId + "/suspend", null), 409);
      assertProblem(api.send("POST", "/api/v1/tenants/" + globexId + "/api-keys", null), 409);
      assertProblem(api.sendAuth("GET", "/api/v1/services", null, globexKey), 401);
      assertThat(
              api.send(
                      "POST",
                      "/api/v1/tenants",
                      "{\"slug\":\"globex\",\"name\":\"Globex again\",\"plan\":\"free\"}")
                  .statusCode())
          .isEqualTo(201);
      JsonNode tenants =
          api.await(
              "/api/v1/tenants", l -> l.get("items").size() == 3, "listed acme, race, new globex");
      List<String> slugs = new ArrayList<>();
      tenants.get("items").forEach(t -> slugs.add(t.get("slug").asText()));
      assertThat(slugs).containsExactlyInAnyOrder("acme", "race", "globex");
      assertThat(tenants.toString()).doesNotContain(newKey).doesNotContain("apiKey");
    }
  }

  private static JsonNode awaitStatus(NodeHttp api, String tenantId, String status)
      throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    JsonNode last = null;
    while (System.nanoTime() < deadline) {
      last = json(api.send("GET", "/api/v1/tenants/" + tenantId, null));
      if (last.get("status").asText().equals(status)) return last;
      Thread.sleep(100);
    }
    throw new AssertionError("tenant " + tenantId + " never became " + status + ": " + last);
  }

  private static JsonNode created(HttpResponse<String> response) throws Exception {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
    return JSON.readTree(response.body());
  }

  private static JsonNode json(HttpResponse<String> response) throws Exception {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    return JSON.readTree(response.body());
  }
}
