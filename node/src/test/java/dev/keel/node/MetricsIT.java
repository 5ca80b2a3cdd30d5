package dev.keel.node;

import static dev.keel.node.NodeHttp.JSON;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.persistence.TestDatabases;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * A real node's {@code /metrics} and {@code /api/v1/metrics} after one workflow and one heartbeat,
 * on the embedded H2 and on PostgreSQL: the counters moved by exactly what was done, requests are
 * labelled by route template, and the JSON figures are for the admin only.
 */
class MetricsIT {

  @Test
  void onEmbeddedH2() throws Exception {
    Path dir = Files.createTempDirectory("keel-it-metrics-h2");
    exercise(Map.of("keel.node.data-dir", dir.toString()));
  }

  @Test
  void onPostgres() throws Exception {
    try (TestDatabases.FreshPostgres pg = TestDatabases.freshPostgres()) {
      Path dir = Files.createTempDirectory("keel-it-metrics-pg");
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

  /**
   * {@code --metrics-port}: /metrics there and not on the API port; {@code --instance-id} and
   * {@code --region} label every meter.
   */
  @Test
  void onAPortOfItsOwnWithTheNodesLabels() throws Exception {
    Path dir = Files.createTempDirectory("keel-it-metrics-port");
    int port;
    try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
      port = free.getLocalPort();
    }
    try (KeelNode node =
        NodeHttp.start(
            Map.of(
                "keel.node.data-dir",
                dir.toString(),
                "keel.http.metrics-port",
                Integer.toString(port),
                "keel.node.instance-id",
                "node-7",
                "keel.node.region",
                "eu-west-1"))) {
      NodeHttp api = NodeHttp.ready(node);
      assertThat(node.metricsPort()).isEqualTo(port).isNotEqualTo(node.httpPort());
      assertThat(api.sendAuth("GET", "/metrics", null, null).statusCode()).isEqualTo(404);
      HttpResponse<String> own =
          java.net.http.HttpClient.newHttpClient()
              .send(
                  java.net.http.HttpRequest.newBuilder(
                          java.net.URI.create("http://127.0.0.1:" + port + "/metrics"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(own.statusCode()).isEqualTo(200);
      assertThat(own.body().lines().filter(l -> l.startsWith("jvm_threads_live_threads")))
          .isNotEmpty()
          .allMatch(l -> l.contains("instance=\"node-7\"") && l.contains("region=\"eu-west-1\""));
      // Keel's own meters too, which are registered as the node starts.
      assertThat(own.body().lines().filter(l -> l.startsWith("keel_services_heartbeats_total")))
          .isNotEmpty()
          .allMatch(l -> l.contains("instance=\"node-7\""));
    }
  }

  private void exercise(Map<String, String> db) throws Exception {
    try (KeelNode node = NodeHttp.start(db)) {
      NodeHttp api = NodeHttp.ready(node);
      String before = scrape(api);
      assertThat(sample(before, "keel_workflows_started_total")).contains(0.0);

      String start =
          "{\"workflow\":\"example\",\"id\":\"metrics-it-1\",\"input\":{\"userId\":\"u-1\",\"action\":\"signup\"}}";
      assertThat(api.send("POST", "/api/v1/workflows", start).statusCode()).isEqualTo(201);
      JsonNode done =
          JSON.readTree(api.send("GET", "/api/v1/workflows/metrics-it-1?wait=PT30S", null).body());
      assertThat(done.get("status").asText()).isEqualTo("completed");
      assertThat(
              api.send("PUT", "/api/v1/services/metrics-svc", "{\"type\":\"source\"}").statusCode())
          .isEqualTo(201);
      assertThat(
              api.send(
                      "POST", "/api/v1/services/metrics-svc/heartbeat", "{\"status\":\"degraded\"}")
                  .statusCode())
          .isEqualTo(200);

      HttpResponse<String> open = api.sendAuth("GET", "/metrics", null, null);
      assertThat(open.statusCode()).isEqualTo(200);
      String text = open.body();
      assertThat(sample(text, "keel_workflows_started_total")).contains(1.0);
      assertThat(sample(text, "keel_workflows_completed_total")).contains(1.0);
      assertThat(sample(text, "keel_workflows_failed_total")).contains(0.0);
      assertThat(sample(text, "keel_workflows_step_latency_seconds_count")).contains(3.0);
      assertThat(sample(text, "keel_journal_write_latency_seconds_count"))
          .hasValueSatisfying(n -> assertThat(n).isGreaterThanOrEqualTo(4));
      // The journal's own batches: the workflow's 8 events and the registration, at least, in some
      // transactions.
      assertThat(sample(text, "keel_journal_batch_rows_sum"))
          .hasValueSatisfying(n -> assertThat(n).isGreaterThanOrEqualTo(9));
      assertThat(sample(text, "keel_journal_batch_write_latency_seconds_count"))
          .hasValueSatisfying(n -> assertThat(n).isGreaterThanOrEqualTo(1));
      assertThat(sample(text, "keel_journal_batch_failures_total")).contains(0.0);
      assertThat(sample(text, "keel_services_heartbeats_total")).contains(1.0);
      assertThat(sample(text, "keel_services_transitions_total{to=\"degraded\"}")).contains(1.0);
      assertThat(sample(text, "keel_cluster_members{status=\"up\"}")).contains(1.0);
      assertThat(
              sample(
                  text,
                  "keel_http_requests_seconds_count{method=\"POST\",route=\"/api/v1/workflows\",status=\"201\"}"))
          .contains(1.0);
      assertThat(
              sample(
                  text,
                  "keel_http_requests_seconds_count{method=\"GET\",route=\"/api/v1/workflows/{id}\",status=\"200\"}"))
          .contains(1.0);
      assertThat(text)
          .as("ids are never label values")
          .doesNotContain("metrics-it-1")
          .doesNotContain("metrics-svc");
      assertThat(text)
          .contains("jvm_memory_used_bytes")
          .contains("jvm_threads_live_threads")
          .contains("process_uptime_seconds")
          .contains("hikaricp_connections_active{pool=\"keel-read-model\"}");

      // The read models are counted in the background: the gauges follow within the refresh
      // interval.
      api.await(
          "/api/v1/workflows?status=completed",
          page -> page.get("items").size() == 1,
          "listed the workflow");
      long deadline = System.nanoTime() + NodeMetrics.REFRESH.plusSeconds(10).toNanos();
      while (sample(scrape(api), "keel_entities{status=\"completed\",type=\"workflow\"}").isEmpty()
          && System.nanoTime() < deadline) {
        Thread.sleep(500);
      }
      assertThat(sample(scrape(api), "keel_entities{status=\"completed\",type=\"workflow\"}"))
          .contains(1.0);
      // Registered once per projection instance, on the refresh after it first handled events.
      assertThat(scrape(api).lines())
          .as("the lag of the workflow projection instances")
          .anyMatch(l -> l.startsWith("keel_projection_lag_seconds{projection=\"workflow-"));

      NodeHttp.assertProblem(api.sendAuth("GET", "/api/v1/metrics", null, null), 401);
      JsonNode figures =
          api.await(
              "/api/v1/metrics",
              f -> f.path("entities").path("service").path("degraded").asLong() == 1,
              "counted the degraded service");
      assertThat(figures.get("entities").get("workflow").get("completed").asLong()).isEqualTo(1);
      assertThat(figures.get("entities").fieldNames())
          .toIterable()
          .contains("workflow", "service", "tenant", "domain", "schedule", "alert");
      JsonNode rates = figures.get("rates");
      assertThat(rates.get("node").asText()).startsWith("pekko://keel@");
      assertThat(rates.get("windowSeconds").asDouble()).isPositive();
      assertThat(rates.get("workflowsCompleted").asDouble()).isPositive();
      assertThat(rates.get("heartbeats").asDouble()).isPositive();
      assertThat(figures.get("clusterMembers").asInt()).isEqualTo(1);
      JsonNode lag = figures.get("projections");
      assertThat(lag.fieldNames())
          .toIterable()
          .anyMatch(name -> name.startsWith("workflows/workflow-"));
      lag.forEach(p -> assertThat(p.get("eventsBehind").asLong()).isGreaterThanOrEqualTo(0));
    }
  }

  private static String scrape(NodeHttp api) throws Exception {
    return api.sendAuth("GET", "/metrics", null, null).body();
  }

  /** The value of one series ({@code name{labels}} exactly as written), if the text has it. */
  static Optional<Double> sample(String text, String series) {
    return text.lines()
        .filter(l -> l.startsWith(series + " "))
        .findFirst()
        .map(l -> Double.parseDouble(l.substring(series.length() + 1).trim()));
  }
}
