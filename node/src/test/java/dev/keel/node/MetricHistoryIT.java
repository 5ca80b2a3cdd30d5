package dev.keel.node;

import static dev.keel.node.NodeHttp.JSON;
import static dev.keel.node.NodeHttp.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.persistence.TestDatabases;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Metric history on a real node, on H2 and on PostgreSQL: heartbeats' metrics come back from {@code
 * GET /api/v1/services/{id}/metrics} summarised per step (min, max, last, mean), one metric by
 * name, from the tier the span and step call for; another tenant sees a 404; bad parameters are
 * 400s naming the parameter; and the history survives a restart of the node.
 */
class MetricHistoryIT {

  @Test
  void onEmbeddedH2() throws Exception {
    Path dir = Files.createTempDirectory("keel-history-h2");
    exercise(Map.of("keel.node.data-dir", dir.toString()));
  }

  @Test
  void onPostgres() throws Exception {
    try (TestDatabases.FreshPostgres pg = TestDatabases.freshPostgres()) {
      Path dir = Files.createTempDirectory("keel-history-pg");
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
    Map<String, String> settings = new HashMap<>(db);
    settings.put("keel.services.history.flush-interval", "100ms");
    settings.put("keel.services.history.coarse-flush-interval", "100ms");
    String key;
    try (KeelNode node = NodeHttp.start(settings)) {
      NodeHttp api = NodeHttp.ready(node);
      assertThat(
              api.send("PUT", "/api/v1/services/pump-1", "{\"type\":\"source\",\"ttlSeconds\":600}")
                  .statusCode())
          .isEqualTo(201);
      for (double lag : new double[] {1, 5, 3}) {
        assertThat(
                api.send(
                        "POST",
                        "/api/v1/services/pump-1/heartbeat",
                        "{\"metrics\":{\"lag\":" + lag + ",\"rate\":10}}")
                    .statusCode())
            .isEqualTo(200);
      }
      JsonNode fine =
          api.await(
              "/api/v1/services/pump-1/metrics?since=PT1H&step=PT10S",
              MetricHistoryIT::holdsAllLag,
              "held three lag samples");
      assertThat(fine.get("resolution").asText()).isEqualTo("PT10S");
      assertThat(fine.get("step").asText()).isEqualTo("PT10S");
      assertThat(names(fine)).containsExactly("lag", "rate");
      assertLag(fine);
      // A span of a day at an hour a point: the hourly tier, one metric by name.
      JsonNode coarse =
          api.await(
              "/api/v1/services/pump-1/metrics?since=P1D&step=PT1H&name=lag",
              MetricHistoryIT::holdsAllLag,
              "held three lag samples in the hourly tier");
      assertThat(coarse.get("resolution").asText()).isEqualTo("PT1H");
      assertThat(names(coarse)).containsExactly("lag");
      assertLag(coarse);

      // Bad parameters: 400s naming each; an unknown service: 404.
      assertProblem(
          api.send("GET", "/api/v1/services/pump-1/metrics?since=P1000D", null), 400, "since");
      assertProblem(
          api.send("GET", "/api/v1/services/pump-1/metrics?since=P1D&step=PT1S", null),
          400,
          "step");
      assertProblem(
          api.send("GET", "/api/v1/services/pump-1/metrics?since=soon&bogus=1", null),
          400,
          "since",
          "bogus");
      assertProblem(
          api.send("GET", "/api/v1/services/pump-1/metrics?name=a%20b", null), 400, "name");
      assertThat(api.send("GET", "/api/v1/services/nobody/metrics", null).statusCode())
          .isEqualTo(404);

      // Another tenant sees nothing of the admin's service.
      JsonNode tenant =
          JSON.readTree(
              api.send(
                      "POST",
                      "/api/v1/tenants",
                      "{\"slug\":\"histo\",\"name\":\"H\",\"plan\":\"pro\"}")
                  .body());
      key = tenant.get("apiKey").asText();
      api.await(
          "/api/v1/tenants/" + tenant.get("id").asText(),
          t -> t.get("status").asText().equals("active"),
          "tenant active");
      assertThat(api.sendAuth("GET", "/api/v1/services/pump-1/metrics", null, key).statusCode())
          .isEqualTo(404);
    }
    // Kept in the database: the same answer after a restart.
    try (KeelNode node = NodeHttp.start(settings)) {
      NodeHttp api = NodeHttp.ready(node);
      JsonNode after =
          api.await(
              "/api/v1/services/pump-1/metrics?since=PT1H&step=PT10S",
              MetricHistoryIT::holdsAllLag,
              "kept three lag samples across the restart");
      assertLag(after);
    }
  }

  /** Every lag point together: values 1, 5, 3 in that order. */
  private static void assertLag(JsonNode history) {
    List<JsonNode> points = points(history, "lag");
    assertThat(points.stream().mapToDouble(p -> p.get("min").asDouble()).min().orElseThrow())
        .isEqualTo(1.0);
    assertThat(points.stream().mapToDouble(p -> p.get("max").asDouble()).max().orElseThrow())
        .isEqualTo(5.0);
    assertThat(points.get(points.size() - 1).get("last").asDouble()).isEqualTo(3.0);
    assertThat(points.get(0).get("time").asText()).endsWith("Z");
  }

  /** Values 1, 5, 3 give min 1, max 5 and last 3 only once all three are written. */
  private static boolean holdsAllLag(JsonNode history) {
    List<JsonNode> points = points(history, "lag");
    if (points.isEmpty()) return false;
    double min = points.stream().mapToDouble(p -> p.get("min").asDouble()).min().orElseThrow();
    double max = points.stream().mapToDouble(p -> p.get("max").asDouble()).max().orElseThrow();
    return min == 1 && max == 5 && points.get(points.size() - 1).get("last").asDouble() == 3;
  }

  private static List<JsonNode> points(JsonNode history, String metric) {
    List<JsonNode> points = new ArrayList<>();
    for (JsonNode m : history.get("metrics"))
      if (m.get("name").asText().equals(metric)) m.get("points").forEach(points::add);
    return points;
  }

  private static List<String> names(JsonNode history) {
    List<String> names = new ArrayList<>();
    history.get("metrics").forEach(m -> names.add(m.get("name").asText()));
    return names;
  }
}
