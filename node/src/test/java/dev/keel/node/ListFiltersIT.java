package dev.keel.node;

import static dev.keel.node.NodeHttp.JSON;
import static dev.keel.node.NodeHttp.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.persistence.TestDatabases;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * What the console's lists ask of the API, on H2 and on PostgreSQL: workflows by creation time and
 * id prefix (wildcards in it taken literally) with counts by status under the same filters,
 * services by a search in id or name with counts by status, each scoped to a tenant's own, and
 * {@code GET /api/v1/caller}; bad values are 400s naming the parameter.
 */
class ListFiltersIT {

  private static final String WAITS =
      "{\"workflow\":\"http-sequence\",\"id\":\"%s\",\"input\":{\"steps\":[{\"name\":\"a\",\"signal\":\"go\",\"timeout\":\"P1D\"}]}}";

  @Test
  void onEmbeddedH2() throws Exception {
    Path dir = Files.createTempDirectory("keel-filters-h2");
    exercise(Map.of("keel.node.data-dir", dir.toString()));
  }

  @Test
  void onPostgres() throws Exception {
    try (TestDatabases.FreshPostgres pg = TestDatabases.freshPostgres()) {
      Path dir = Files.createTempDirectory("keel-filters-pg");
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
    try (KeelNode node = NodeHttp.start(db)) {
      NodeHttp api = NodeHttp.ready(node);
      assertThat(
              JSON.readTree(api.send("GET", "/api/v1/caller", null).body())
                  .get("admin")
                  .asBoolean())
          .isTrue();
      HttpResponse<String> created =
          api.send(
              "POST", "/api/v1/tenants", "{\"slug\":\"filters\",\"name\":\"F\",\"plan\":\"pro\"}");
      JsonNode tenant = JSON.readTree(created.body());
      String tenantId = tenant.get("id").asText();
      String key = tenant.get("apiKey").asText();
      api.await(
          "/api/v1/tenants/" + tenantId,
          t -> t.get("status").asText().equals("active"),
          "tenant active");
      JsonNode me = JSON.readTree(api.sendAuth("GET", "/api/v1/caller", null, key).body());
      assertThat(me.get("admin").asBoolean()).isFalse();
      assertThat(me.get("tenantId").asText()).isEqualTo(tenantId);

      // Three before a mark, two after; an id with '_' that a LIKE wildcard would also match.
      for (String id : List.of("batch_a-1", "batch_a-2", "batchXa-3"))
        assertThat(api.send("POST", "/api/v1/workflows", WAITS.formatted(id)).statusCode())
            .isEqualTo(201);
      Thread.sleep(20);
      Instant mark = Instant.now();
      Thread.sleep(20);
      assertThat(api.send("POST", "/api/v1/workflows", WAITS.formatted("later-1")).statusCode())
          .isEqualTo(201);
      assertThat(
              api.sendAuth("POST", "/api/v1/workflows", WAITS.formatted("later-tenant"), key)
                  .statusCode())
          .isEqualTo(201);
      api.send("POST", "/api/v1/workflows/later-1/cancel", "{}");
      api.await(
          "/api/v1/workflows?status=cancelled&idPrefix=later-1",
          l -> l.get("items").size() == 1,
          "the cancel projected");
      api.await(
          "/api/v1/workflows?idPrefix=later-tenant",
          l -> l.get("items").size() == 1,
          "the tenant's start projected");

      assertThat(ids(api.send("GET", "/api/v1/workflows?idPrefix=batch_a", null)))
          .containsExactlyInAnyOrder("batch_a-1", "batch_a-2");
      assertThat(ids(api.send("GET", "/api/v1/workflows?idPrefix=batch", null))).hasSize(3);
      String at = URLEncoder.encode(mark.toString(), StandardCharsets.UTF_8);
      assertThat(ids(api.send("GET", "/api/v1/workflows?workflow=http-sequence&from=" + at, null)))
          .containsExactlyInAnyOrder("later-1", "later-tenant");
      assertThat(ids(api.send("GET", "/api/v1/workflows?workflow=http-sequence&to=" + at, null)))
          .containsExactlyInAnyOrder("batch_a-1", "batch_a-2", "batchXa-3");
      // Paging keeps the filters.
      JsonNode first =
          JSON.readTree(api.send("GET", "/api/v1/workflows?idPrefix=batch&limit=2", null).body());
      assertThat(first.get("items")).hasSize(2);
      JsonNode second =
          JSON.readTree(
              api.send(
                      "GET",
                      "/api/v1/workflows?idPrefix=batch&limit=2&cursor="
                          + first.get("nextCursor").asText(),
                      null)
                  .body());
      assertThat(second.get("items")).hasSize(1);
      assertThat(second.get("nextCursor").isNull()).isTrue();

      JsonNode counts =
          JSON.readTree(
              api.send("GET", "/api/v1/workflow-counts?workflow=http-sequence&from=" + at, null)
                  .body());
      assertThat(counts.get("counts").get("waiting").asLong()).isEqualTo(1);
      assertThat(counts.get("counts").get("cancelled").asLong()).isEqualTo(1);
      assertThat(counts.get("counts").get("completed").asLong()).isZero();
      assertThat(counts.get("total").asLong()).isEqualTo(2);
      // A tenant counts and lists its own only, whatever tenant it names.
      JsonNode own =
          JSON.readTree(
              api.sendAuth("GET", "/api/v1/workflow-counts?tenantId=someone-else", null, key)
                  .body());
      assertThat(own.get("total").asLong()).isEqualTo(1);
      assertThat(ids(api.sendAuth("GET", "/api/v1/workflows?idPrefix=later", null, key)))
          .containsExactly("later-tenant");

      assertProblem(api.send("GET", "/api/v1/workflows?from=yesterday", null), 400, "from");
      assertProblem(api.send("GET", "/api/v1/workflows?idPrefix=%25", null), 400, "idPrefix");
      assertProblem(api.send("GET", "/api/v1/workflow-counts?status=waiting", null), 400, "status");
      assertProblem(
          api.send("GET", "/api/v1/workflow-counts?to=99999-01-01T00:00:00Z", null), 400, "to");

      // Services: a search in id or name (case-insensitive), status counts under the same filters.
      for (String id : List.of("pay-1", "pay-2", "mail-1")) {
        assertThat(
                api.send(
                        "PUT",
                        "/api/v1/services/" + id,
                        "{\"name\":\""
                            + (id.startsWith("pay") ? "Payments 100%" : "Mailer")
                            + "\",\"type\":\"sink\",\"ttlSeconds\":600}")
                    .statusCode())
            .isEqualTo(201);
      }
      assertThat(
              api.send("POST", "/api/v1/services/pay-2/heartbeat", "{\"status\":\"degraded\"}")
                  .statusCode())
          .isEqualTo(200);
      assertThat(
              api.sendAuth(
                      "PUT",
                      "/api/v1/services/pay-tenant",
                      "{\"type\":\"sink\",\"ttlSeconds\":600}",
                      key)
                  .statusCode())
          .isEqualTo(201);
      api.await(
          "/api/v1/service-counts?search=pay",
          c -> c.get("total").asLong() == 3 && c.get("counts").get("degraded").asLong() == 1,
          "services projected");
      assertThat(serviceIds(api.send("GET", "/api/v1/services?search=PAYMENTS", null)))
          .containsExactly("pay-1", "pay-2");
      assertThat(serviceIds(api.send("GET", "/api/v1/services?search=100%25", null)))
          .containsExactly("pay-1", "pay-2");
      assertThat(serviceIds(api.send("GET", "/api/v1/services?search=ail", null)))
          .containsExactly("mail-1");
      JsonNode serviceCounts =
          JSON.readTree(api.send("GET", "/api/v1/service-counts?search=pay", null).body());
      assertThat(serviceCounts.get("counts").get("healthy").asLong()).isEqualTo(2);
      assertThat(serviceCounts.get("counts").get("stale").asLong()).isZero();
      JsonNode tenantCounts =
          JSON.readTree(api.sendAuth("GET", "/api/v1/service-counts", null, key).body());
      assertThat(tenantCounts.get("total").asLong()).isEqualTo(1);
      assertProblem(api.send("GET", "/api/v1/service-counts?limit=5", null), 400, "limit");
      assertProblem(
          api.send("GET", "/api/v1/services?search=" + "x".repeat(300), null), 400, "search");
    }
  }

  private static List<String> ids(HttpResponse<String> response) throws Exception {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    List<String> ids = new ArrayList<>();
    JSON.readTree(response.body())
        .get("items")
        .forEach(
            i -> {
              if (!i.get("workflow").asText().equals("tenant-provisioning"))
                ids.add(i.get("id").asText());
            });
    return ids;
  }

  private static List<String> serviceIds(HttpResponse<String> response) throws Exception {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    List<String> ids = new ArrayList<>();
    JSON.readTree(response.body()).get("items").forEach(i -> ids.add(i.get("id").asText()));
    return ids;
  }
}
