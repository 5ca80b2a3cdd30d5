package dev.keel.node;

import static dev.keel.node.NodeHttp.JSON;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.persistence.TestDatabases;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;

/**
 * Quotas hold exactly under concurrency, on a real node on the embedded H2 and on PostgreSQL: 64
 * concurrent new services, custom domains and workflow starts against limits of 10, 1 and 10 leave
 * exactly that many accepted and existing; the rest are 429s; a retry of an accepted id still
 * succeeds; deleting a service or a domain frees its slot.
 */
class QuotaConcurrencyIT {

  private static final int CONCURRENT = 64;

  @Test
  void onEmbeddedH2() throws Exception {
    Path dir = Files.createTempDirectory("keel-it-quota-race-h2");
    exercise(Map.of("keel.node.data-dir", dir.toString()));
  }

  @Test
  void onPostgres() throws Exception {
    try (TestDatabases.FreshPostgres pg = TestDatabases.freshPostgres()) {
      Path dir = Files.createTempDirectory("keel-it-quota-race-pg");
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
    Map<String, String> config = new HashMap<>(db);
    config.put("keel.tenants.plans.free.services", "10");
    config.put("keel.tenants.plans.free.workflow-starts-per-month", "10");
    config.put("keel.tenants.plans.free.domains", "1");
    try (KeelNode node = NodeHttp.start(config)) {
      NodeHttp api = NodeHttp.ready(node);
      JsonNode created =
          JSON.readTree(
              api.send(
                      "POST",
                      "/api/v1/tenants",
                      "{\"slug\":\"racer\",\"name\":\"Racer\",\"plan\":\"free\"}")
                  .body());
      String tenantId = created.get("id").asText();
      String key = created.get("apiKey").asText();
      api.await(
          "/api/v1/tenants/" + tenantId,
          t -> t.get("status").asText().equals("active"),
          "became active");

      // Services: 64 new ones at once against 10.
      String service = "{\"type\":\"source\",\"ttlSeconds\":600}";
      List<Integer> registered =
          race(i -> () -> api.sendAuth("PUT", "/api/v1/services/svc-" + i, service, key));
      List<Integer> accepted = indexesWith(registered, 201);
      assertThat(accepted).as("accepted of " + registered).hasSize(10);
      assertThat(indexesWith(registered, 429)).hasSize(CONCURRENT - 10);
      assertThat(existing(api, key, i -> "/api/v1/services/svc-" + i))
          .as("services that exist")
          .isEqualTo(accepted);
      int kept = accepted.get(0);
      assertThat(api.sendAuth("PUT", "/api/v1/services/svc-" + kept, service, key).statusCode())
          .as("a retry")
          .isEqualTo(200);
      assertThat(api.sendAuth("PUT", "/api/v1/services/one-more", service, key).statusCode())
          .isEqualTo(429);
      assertThat(api.sendAuth("DELETE", "/api/v1/services/svc-" + kept, null, key).statusCode())
          .isEqualTo(204);
      assertThat(api.sendAuth("PUT", "/api/v1/services/one-more", service, key).statusCode())
          .as("the freed slot")
          .isEqualTo(201);
      assertThat(api.sendAuth("PUT", "/api/v1/services/two-more", service, key).statusCode())
          .isEqualTo(429);

      // Custom domains: 64 claims at once on a 1-domain plan.
      String domains = "/api/v1/tenants/" + tenantId + "/domains";
      List<Integer> claimed =
          race(
              i ->
                  () ->
                      api.sendAuth(
                          "POST", domains, "{\"hostname\":\"d" + i + ".racer.example\"}", key));
      List<Integer> claimedOk = indexesWith(claimed, 201);
      assertThat(claimedOk).as("claimed of " + claimed).hasSize(1);
      assertThat(indexesWith(claimed, 429)).hasSize(CONCURRENT - 1);
      assertThat(existing(api, key, i -> domains + "/d" + i + ".racer.example"))
          .isEqualTo(claimedOk);
      String held = "d" + claimedOk.get(0) + ".racer.example";
      assertThat(api.sendAuth("POST", domains, "{\"hostname\":\"" + held + "\"}", key).statusCode())
          .as("a retry")
          .isEqualTo(200);
      assertThat(api.sendAuth("DELETE", domains + "/" + held, null, key).statusCode())
          .isEqualTo(204);
      assertThat(
              api.sendAuth("POST", domains, "{\"hostname\":\"next.racer.example\"}", key)
                  .statusCode())
          .as("the freed slot")
          .isEqualTo(201);
      assertThat(
              api.sendAuth("POST", domains, "{\"hostname\":\"other.racer.example\"}", key)
                  .statusCode())
          .isEqualTo(429);

      // Workflow starts: 64 at once against 10 this month.
      List<Integer> started =
          race(i -> () -> api.sendAuth("POST", "/api/v1/workflows", start("run-" + i), key));
      List<Integer> startedOk = indexesWith(started, 201);
      assertThat(startedOk).as("started of " + started).hasSize(10);
      assertThat(indexesWith(started, 429)).hasSize(CONCURRENT - 10);
      assertThat(existing(api, key, i -> "/api/v1/workflows/run-" + i)).isEqualTo(startedOk);
      assertThat(
              api.sendAuth("POST", "/api/v1/workflows", start("run-" + startedOk.get(0)), key)
                  .statusCode())
          .as("a retry")
          .isEqualTo(200);
      assertThat(api.sendAuth("POST", "/api/v1/workflows", start("run-late"), key).statusCode())
          .isEqualTo(429);
      assertThat(api.send("POST", "/api/v1/workflows", start("admins-own")).statusCode())
          .as("the admin for itself")
          .isEqualTo(201);
    }
  }

  /** Sends {@code CONCURRENT} requests at once; answers each one's status, by index. */
  private static List<Integer> race(
      IntFunction<java.util.concurrent.Callable<HttpResponse<String>>> request) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(CONCURRENT);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<HttpResponse<String>>> answers = new ArrayList<>();
      for (int i = 0; i < CONCURRENT; i++) {
        java.util.concurrent.Callable<HttpResponse<String>> send = request.apply(i);
        answers.add(
            pool.submit(
                () -> {
                  go.await();
                  return send.call();
                }));
      }
      go.countDown();
      List<Integer> statuses = new ArrayList<>();
      for (Future<HttpResponse<String>> a : answers) statuses.add(a.get().statusCode());
      return statuses;
    } finally {
      pool.shutdownNow();
    }
  }

  private static List<Integer> indexesWith(List<Integer> statuses, int status) {
    List<Integer> indexes = new ArrayList<>();
    for (int i = 0; i < statuses.size(); i++) if (statuses.get(i) == status) indexes.add(i);
    return indexes;
  }

  /** The indexes whose resource answers 200 (asked of its own entity, not of a read model). */
  private static List<Integer> existing(NodeHttp api, String key, IntFunction<String> path)
      throws Exception {
    List<Integer> found = new ArrayList<>();
    for (int i = 0; i < CONCURRENT; i++) {
      int status = api.sendAuth("GET", path.apply(i), null, key).statusCode();
      assertThat(status).as(path.apply(i)).isIn(200, 404);
      if (status == 200) found.add(i);
    }
    return found;
  }

  private static String start(String id) {
    return "{\"workflow\":\"example\",\"id\":\""
        + id
        + "\",\"input\":{\"userId\":\"u-1\",\"action\":\"signup\"}}";
  }
}
