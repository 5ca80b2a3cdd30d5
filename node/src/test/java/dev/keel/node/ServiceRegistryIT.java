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
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The service registry on a real node, driven over HTTP the way a reporting service would, on the
 * embedded H2 and on PostgreSQL: register, heartbeat, go stale, come back, lists and filters, a
 * restart of the control plane (one TTL of grace), automatic deregistration, and bad input that
 * answers 400 and journals nothing.
 */
class ServiceRegistryIT {

  @Test
  void onEmbeddedH2() throws Exception {
    Path dir = Files.createTempDirectory("keel-it-registry-h2");
    exercise(Map.of("keel.node.data-dir", dir.toString()), DatabaseSettings.embedded(dir));
  }

  @Test
  void onPostgres() throws Exception {
    try (TestDatabases.FreshPostgres pg = TestDatabases.freshPostgres()) {
      Path dir = Files.createTempDirectory("keel-it-registry-pg");
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

      // Register: 201, then the same again 200 with no new event.
      String ledger =
          "{\"name\":\"Ledger source\",\"type\":\"source\",\"endpoint\":\"10.0.0.7:9000\","
              + "\"metadata\":{\"env\":\"prod\",\"team\":\"payments\"},\"ttlSeconds\":30}";
      HttpResponse<String> created = api.send("PUT", "/api/v1/services/ledger-source", ledger);
      assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
      JsonNode view = JSON.readTree(created.body());
      assertThat(view.get("status").asText()).isEqualTo("healthy");
      assertThat(view.get("registeredAt").asText())
          .matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
      long afterRegistration = NodeHttp.journalEvents(dbSettings, "service");
      assertThat(api.send("PUT", "/api/v1/services/ledger-source", ledger).statusCode())
          .isEqualTo(200);
      api.send(
          "PUT",
          "/api/v1/services/event-filter",
          "{\"type\":\"processor\",\"metadata\":{\"env\":\"prod\"}}");
      Instant sinkRegistered =
          Instant.parse(
              JSON.readTree(
                      api.send(
                              "PUT",
                              "/api/v1/services/parquet-sink",
                              "{\"type\":\"sink\",\"metadata\":{\"env\":\"staging\"},\"ttlSeconds\":2}")
                          .body())
                  .get("registeredAt")
                  .asText());

      // Heartbeats: memory only while the status holds; the detail shows their metrics.
      for (int i = 0; i < 20; i++) {
        HttpResponse<String> ack =
            api.send(
                "POST",
                "/api/v1/services/ledger-source/heartbeat",
                "{\"status\":\"healthy\",\"metrics\":{\"lag_seconds\":"
                    + i
                    + ".5},\"details\":{\"version\":\"1.4.2\"}}");
        assertThat(ack.statusCode()).as(ack.body()).isEqualTo(200);
        JsonNode a = JSON.readTree(ack.body());
        assertThat(a.get("status").asText()).isEqualTo("healthy");
        assertThat(a.get("ttlSeconds").asInt()).isEqualTo(30);
        assertThat(Instant.parse(a.get("nextHeartbeatBefore").asText()))
            .isAfter(Instant.now().plusSeconds(25));
      }
      assertThat(NodeHttp.journalEvents(dbSettings, "service") - afterRegistration)
          .as("two registrations, no heartbeat events")
          .isEqualTo(2);
      JsonNode detail = json(api.send("GET", "/api/v1/services/ledger-source", null));
      assertThat(detail.get("metrics").get("lag_seconds").asDouble()).isEqualTo(19.5);
      assertThat(detail.get("details").get("version").asText()).isEqualTo("1.4.2");
      assertThat(detail.get("lastHeartbeatAt").isNull()).isFalse();
      assertThat(detail.get("name").asText()).isEqualTo("Ledger source");
      assertThat(json(api.send("GET", "/api/v1/services/event-filter", null)).get("name").asText())
          .as("the id is the name when none is given")
          .isEqualTo("event-filter");
      assertThat(api.send("GET", "/api/v1/services/ledger-source/health", null).statusCode())
          .isEqualTo(200);

      // An empty heartbeat means healthy; a reported status change is kept and shown.
      assertThat(api.send("POST", "/api/v1/services/event-filter/heartbeat", null).statusCode())
          .isEqualTo(200);
      assertThat(
              api.send(
                      "POST",
                      "/api/v1/services/event-filter/heartbeat",
                      "{\"status\":\"degraded\"}")
                  .statusCode())
          .isEqualTo(200);
      HttpResponse<String> degraded = api.send("GET", "/api/v1/services/event-filter/health", null);
      assertThat(degraded.statusCode()).isEqualTo(503);
      assertThat(JSON.readTree(degraded.body()).get("status").asText()).isEqualTo("degraded");

      // No heartbeat within the TTL (2 s): stale, recorded when it happens, and back on the next
      // heartbeat.
      JsonNode stale = awaitStatus(api, "parquet-sink", "stale", Duration.ofSeconds(10));
      assertThat(Duration.between(sinkRegistered, Instant.parse(stale.get("statusSince").asText())))
          .as("not before its TTL")
          .isGreaterThanOrEqualTo(Duration.ofSeconds(2));
      HttpResponse<String> health = api.send("GET", "/api/v1/services/parquet-sink/health", null);
      assertThat(health.statusCode()).isEqualTo(503);
      assertThat(JSON.readTree(health.body()).get("status").asText()).isEqualTo("stale");
      assertThat(api.send("POST", "/api/v1/services/parquet-sink/heartbeat", "{}").statusCode())
          .isEqualTo(200);
      assertThat(
              json(api.send("GET", "/api/v1/services/parquet-sink", null)).get("status").asText())
          .isEqualTo("healthy");

      // The list comes from the projection; filters by type, status and metadata; pages by id.
      JsonNode all =
          api.await(
              "/api/v1/services",
              l -> l.get("items").size() == 3 && status(l, "event-filter").equals("degraded"),
              "listed 3 services");
      assertThat(ids(all)).containsExactly("event-filter", "ledger-source", "parquet-sink");
      JsonNode first = all.get("items").get(1);
      assertThat(first.get("metadata").get("team").asText()).isEqualTo("payments");
      assertThat(first.get("lastHeartbeatAt").isNull())
          .as("the list shows the live last heartbeat")
          .isFalse();
      assertThat(ids(json(api.send("GET", "/api/v1/services?type=sink", null))))
          .containsExactly("parquet-sink");
      assertThat(ids(json(api.send("GET", "/api/v1/services?status=degraded", null))))
          .containsExactly("event-filter");
      assertThat(ids(json(api.send("GET", "/api/v1/services?metadata=env=prod", null))))
          .containsExactly("event-filter", "ledger-source");
      assertThat(
              ids(
                  json(
                      api.send(
                          "GET",
                          "/api/v1/services?metadata=env=prod&metadata=team=payments",
                          null))))
          .containsExactly("ledger-source");
      JsonNode page = json(api.send("GET", "/api/v1/services?limit=2", null));
      assertThat(ids(page)).containsExactly("event-filter", "ledger-source");
      assertThat(
              ids(
                  json(
                      api.send(
                          "GET",
                          "/api/v1/services?limit=2&cursor=" + page.get("nextCursor").asText(),
                          null))))
          .containsExactly("parquet-sink");

      // Bad input: 400 naming every bad field, nothing journaled.
      long beforeBad = NodeHttp.journalEvents(dbSettings, "service");
      assertProblem(api.send("PUT", "/api/v1/services/bad%20id", ledger), 400, "id");
      assertProblem(
          api.send(
              "PUT",
              "/api/v1/services/x-1",
              "{\"type\":\"Not A"
                  + " Type\",\"ttlSeconds\":\"thirty\",\"metadata\":{\"env\":1},\"colour\":\"red\"}"),
          400,
          "type",
          "ttlSeconds",
          "metadata.env",
          "colour");
      assertProblem(
          api.send(
              "PUT", "/api/v1/services/x-1", "{\"ttlSeconds\":0,\"deregisterAfterSeconds\":-5}"),
          400,
          "type",
          "ttlSeconds",
          "deregisterAfterSeconds");
      assertProblem(
          api.send(
              "POST",
              "/api/v1/services/ledger-source/heartbeat",
              "{\"status\":\"sleepy\",\"metrics\":{\"lag_seconds\":\"high\",\"9bad\":1}}"),
          400,
          "status",
          "metrics.lag_seconds",
          "metrics.9bad");
      assertProblem(
          api.send("POST", "/api/v1/services/ledger-source/heartbeat", "[1,2]"), 400, "body");
      assertProblem(
          api.send("POST", "/api/v1/services/ledger-source/heartbeat", "{\"status\":"),
          400,
          "body");
      assertProblem(
          api.sendTyped(
              "PUT", "/api/v1/services/x-1", "type=source", "application/x-www-form-urlencoded"),
          415);
      assertProblem(
          api.send("GET", "/api/v1/services?status=sleepy&metadata=novalue&sort=id", null),
          400,
          "status",
          "metadata",
          "sort");
      HttpResponse<String> unknown =
          api.send("POST", "/api/v1/services/never-registered/heartbeat", "{}");
      assertProblem(unknown, 404);
      assertThat(JSON.readTree(unknown.body()).get("detail").asText())
          .contains("register it first");
      assertProblem(api.sendAuth("GET", "/api/v1/services", null, null), 401);
      assertThat(NodeHttp.journalEvents(dbSettings, "service"))
          .as("bad requests journal nothing")
          .isEqualTo(beforeBad);
      assertProblem(api.send("GET", "/api/v1/services/x-1", null), 404);

      // Deregistration: 204, gone, the same again 204.
      assertThat(api.send("DELETE", "/api/v1/services/event-filter", null).statusCode())
          .isEqualTo(204);
      assertProblem(api.send("GET", "/api/v1/services/event-filter", null), 404);
      assertThat(api.send("DELETE", "/api/v1/services/event-filter", null).statusCode())
          .isEqualTo(204);
      api.await("/api/v1/services", l -> !ids(l).contains("event-filter"), "dropped event-filter");

      // Automatic deregistration of a service stale for deregisterAfterSeconds.
      api.send(
          "PUT",
          "/api/v1/services/short-lived",
          "{\"type\":\"job\",\"ttlSeconds\":1,\"deregisterAfterSeconds\":1}");
      long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
      while (api.send("GET", "/api/v1/services/short-lived", null).statusCode() != 404) {
        assertThat(System.nanoTime())
            .as("short-lived deregistered automatically")
            .isLessThan(deadline);
        Thread.sleep(100);
      }
      assertThat(
              api.send("PUT", "/api/v1/services/grace-sink", "{\"type\":\"sink\",\"ttlSeconds\":4}")
                  .statusCode())
          .isEqualTo(201);
    }

    // The control plane is down longer than grace-sink's TTL: after the restart it gets one TTL of
    // grace instead of being declared stale at once.
    Thread.sleep(5000);
    try (KeelNode node = NodeHttp.start(db)) {
      NodeHttp api = NodeHttp.ready(node);
      JsonNode sink = json(api.send("GET", "/api/v1/services/grace-sink", null));
      assertThat(sink.get("status").asText()).isEqualTo("healthy");
      assertThat(sink.get("lastHeartbeatAt").isNull()).as("heartbeats are not journaled").isTrue();
      assertThat(
              json(api.send("GET", "/api/v1/services/ledger-source", null))
                  .get("metadata")
                  .get("env")
                  .asText())
          .isEqualTo("prod");
      assertThat(api.send("POST", "/api/v1/services/ledger-source/heartbeat", "{}").statusCode())
          .isEqualTo(200);
      // Nobody heartbeats for the sink: stale once the grace has passed.
      awaitStatus(api, "grace-sink", "stale", Duration.ofSeconds(10));
    }
  }

  private static JsonNode awaitStatus(NodeHttp api, String id, String status, Duration within)
      throws Exception {
    long deadline = System.nanoTime() + within.toNanos();
    JsonNode last = null;
    while (System.nanoTime() < deadline) {
      last = json(api.send("GET", "/api/v1/services/" + id, null));
      if (last.get("status").asText().equals(status)) return last;
      Thread.sleep(50);
    }
    throw new AssertionError(id + " never became " + status + ": " + last);
  }

  private static JsonNode json(HttpResponse<String> response) throws Exception {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    return JSON.readTree(response.body());
  }

  private static String status(JsonNode list, String id) {
    for (JsonNode item : list.get("items"))
      if (item.get("id").asText().equals(id)) return item.get("status").asText();
    return "";
  }

  private static List<String> ids(JsonNode list) {
    List<String> ids = new ArrayList<>();
    for (JsonNode item : list.get("items")) ids.add(item.get("id").asText());
    return ids;
  }
}
