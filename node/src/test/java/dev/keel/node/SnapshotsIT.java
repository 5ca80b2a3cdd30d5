package dev.keel.node;

import static dev.keel.node.NodeHttp.JSON;
import static dev.keel.node.NodeHttp.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.persistence.DatabaseSettings;
import dev.keel.persistence.TestDatabases;
import dev.keel.tenant.domain.FakeDnsServer;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code POST /api/v1/admin/snapshots} on a real node, on H2 and on PostgreSQL: for every entity
 * type the answer is 202 once a snapshot row exists at the entity's last sequence number, and the
 * entity recovers from that snapshot alone (its older events are removed from the test's journal
 * while the node is down, then it answers as before). Bad requests are 4xx and snapshot nothing; an
 * unknown id is a 404 that starts no entity and journals nothing.
 */
class SnapshotsIT {

  @Test
  void onEmbeddedH2() throws Exception {
    Path dir = Files.createTempDirectory("keel-it-snapshots-h2");
    exercise(Map.of("keel.node.data-dir", dir.toString()), DatabaseSettings.embedded(dir));
  }

  @Test
  void onPostgres() throws Exception {
    try (TestDatabases.FreshPostgres pg = TestDatabases.freshPostgres()) {
      Path dir = Files.createTempDirectory("keel-it-snapshots-pg");
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
    try (FakeDnsServer dns = FakeDnsServer.start()) {
      Map<String, String> config = new HashMap<>(db);
      config.put("keel.tenants.dns-server", dns.hostAndPort());
      // No scheduled hostname check may change a domain between the snapshot and the restart.
      config.put("keel.tenants.domains.check-backoff", "1h");
      config.put("keel.tenants.domains.check-every", "1h");
      // path of the live resource -> "type id"
      Map<String, String> entities = new LinkedHashMap<>();
      Map<String, JsonNode> before = new LinkedHashMap<>();
      Map<String, Long> snapshotSeq = new HashMap<>();

      try (KeelNode node = NodeHttp.start(config)) {
        NodeHttp api = NodeHttp.ready(node);
        String tenantId =
            JSON.readTree(
                    api.send(
                            "POST",
                            "/api/v1/tenants",
                            "{\"slug\":\"snap\",\"name\":\"Snap\",\"plan\":\"pro\"}")
                        .body())
                .get("id")
                .asText();
        api.await(
            "/api/v1/tenants/" + tenantId,
            t -> t.get("status").asText().equals("active"),
            "became active");
        api.send(
            "POST", "/api/v1/tenants/" + tenantId + "/suspend", "{\"reason\":\"snapshot test\"}");
        entities.put("/api/v1/tenants/" + tenantId, "tenant " + tenantId);

        assertThat(
                api.send(
                        "POST",
                        "/api/v1/tenants/" + tenantId + "/domains",
                        "{\"hostname\":\"shop.snap.example\"}")
                    .statusCode())
            .isEqualTo(201);
        api.send(
            "PUT",
            "/api/v1/tenants/" + tenantId + "/domains/shop.snap.example/certificate",
            "{\"status\":\"pending\"}");
        entities.put(
            "/api/v1/tenants/" + tenantId + "/domains/shop.snap.example",
            "hostname shop.snap.example");

        api.send(
            "PUT",
            "/api/v1/schedules/snap-s",
            "{\"workflow\":\"example\",\"cron\":\"0 3 1 1 *\",\"input\":{\"userId\":\"u-1\"}}");
        api.send(
            "PUT",
            "/api/v1/schedules/snap-s",
            "{\"workflow\":\"example\",\"cron\":\"0 4 1 1"
                + " *\",\"paused\":true,\"input\":{\"userId\":\"u-1\"}}");
        entities.put("/api/v1/schedules/snap-s", "schedule snap-s");

        api.send("PUT", "/api/v1/services/snap-svc", "{\"type\":\"source\",\"ttlSeconds\":3600}");
        api.send("POST", "/api/v1/services/snap-svc/heartbeat", "{\"status\":\"degraded\"}");
        entities.put("/api/v1/services/snap-svc", "service snap-svc");

        api.send(
            "PUT",
            "/api/v1/alerts/snap-a",
            "{\"service\":\"nobody\",\"condition\":\"status !="
                + " healthy\",\"webhook\":\"http://127.0.0.1:9/hook\"}");
        api.send(
            "PUT",
            "/api/v1/alerts/snap-a",
            "{\"service\":\"nobody\",\"condition\":\"status =="
                + " stale\",\"webhook\":\"http://127.0.0.1:9/hook\"}");
        entities.put("/api/v1/alerts/snap-a", "alert snap-a");

        api.send(
            "POST",
            "/api/v1/workflows",
            "{\"workflow\":\"example\",\"id\":\"snap-wf\",\"input\":{\"userId\":\"u\",\"action\":\"a\"}}");
        api.await(
            "/api/v1/workflows/snap-wf",
            w -> w.get("status").asText().equals("completed"),
            "completed");
        entities.put("/api/v1/workflows/snap-wf", "workflow snap-wf");

        for (Map.Entry<String, String> e : entities.entrySet()) {
          String[] typeAndId = e.getValue().split(" ");
          String pid = typeAndId[0] + "|" + typeAndId[1];
          long lastBefore = journalSeq(dbSettings, pid);
          HttpResponse<String> saved =
              api.send(
                  "POST",
                  "/api/v1/admin/snapshots",
                  "{\"entityType\":\"" + typeAndId[0] + "\",\"id\":\"" + typeAndId[1] + "\"}");
          assertThat(saved.statusCode()).as(e.getValue() + ": " + saved.body()).isEqualTo(202);
          assertThat(JSON.readTree(saved.body()).get("id").asText()).isEqualTo(typeAndId[1]);
          // The snapshot is stored before the answer, after the marker event that took it.
          long seq = snapshotSeq(dbSettings, pid);
          assertThat(seq)
              .as(e.getValue())
              .isEqualTo(lastBefore + 1)
              .isEqualTo(journalSeq(dbSettings, pid));
          snapshotSeq.put(pid, seq);
          before.put(e.getKey(), comparable(api.send("GET", e.getKey(), null)));
        }

        HttpResponse<String> unknownType =
            api.send(
                "POST", "/api/v1/admin/snapshots", "{\"entityType\":\"spaceship\",\"id\":\"x\"}");
        assertProblem(unknownType, 400, "entityType");
        assertThat(unknownType.body())
            .contains("alert, hostname, keyring, quota, schedule, service, slug, tenant, workflow");

        // Every entity type snapshots on demand, also those with no resource of their own to show.
        long slugBefore = journalSeq(dbSettings, "slug|snap");
        HttpResponse<String> slugSaved =
            api.send(
                "POST", "/api/v1/admin/snapshots", "{\"entityType\":\"slug\",\"id\":\"snap\"}");
        assertThat(slugSaved.statusCode()).as(slugSaved.body()).isEqualTo(202);
        assertThat(snapshotSeq(dbSettings, "slug|snap"))
            .isEqualTo(slugBefore + 1)
            .isEqualTo(journalSeq(dbSettings, "slug|snap"));
        assertProblem(
            api.send("POST", "/api/v1/admin/snapshots", "{\"entityType\":\"tenant\"}"), 400, "id");
        assertProblem(
            api.send(
                "POST",
                "/api/v1/admin/snapshots",
                "{\"entityType\":\"tenant\",\"id\":\"x\",\"extra\":1}"),
            400,
            "extra");
        assertProblem(api.send("POST", "/api/v1/admin/snapshots", "{\"entityType\":"), 400, "body");
        assertProblem(api.send("POST", "/api/v1/admin/snapshots", "[1]"), 400);
        assertProblem(api.send("GET", "/api/v1/admin/snapshots", null), 405);
        for (String type :
            List.of(
                "tenant",
                "workflow",
                "schedule",
                "service",
                "alert",
                "hostname",
                "slug",
                "quota")) {
          assertProblem(
              api.send(
                  "POST",
                  "/api/v1/admin/snapshots",
                  "{\"entityType\":\"" + type + "\",\"id\":\"never-was\"}"),
              404);
          assertThat(journalSeq(dbSettings, type + "|never-was")).as(type).isZero();
        }
        String key =
            JSON.readTree(
                    api.send(
                            "POST",
                            "/api/v1/tenants",
                            "{\"slug\":\"other\",\"name\":\"Other\",\"plan\":\"free\"}")
                        .body())
                .get("apiKey")
                .asText();
        assertProblem(
            api.sendAuth(
                "POST",
                "/api/v1/admin/snapshots",
                "{\"entityType\":\"tenant\",\"id\":\"" + tenantId + "\"}",
                key),
            403);
        assertProblem(
            api.sendAuth(
                "POST",
                "/api/v1/admin/snapshots",
                "{\"entityType\":\"tenant\",\"id\":\"" + tenantId + "\"}",
                null),
            401);
        assertThat(snapshotSeq(dbSettings, "tenant|" + tenantId))
            .isEqualTo(snapshotSeq.get("tenant|" + tenantId));
      }

      // Without the events the snapshot covers, only the snapshot can bring each entity back as it
      // was.
      for (String pid : snapshotSeq.keySet())
        deleteEventsBefore(dbSettings, pid, snapshotSeq.get(pid));

      try (KeelNode node = NodeHttp.start(config)) {
        NodeHttp api = NodeHttp.ready(node);
        for (Map.Entry<String, JsonNode> e : before.entrySet()) {
          assertThat(comparable(api.send("GET", e.getKey(), null)))
              .as(e.getKey())
              .isEqualTo(e.getValue());
        }
      }
    }
  }

  /**
   * The live view without what only memory knows (a service's heartbeat data, which a restart
   * forgets).
   */
  private static JsonNode comparable(HttpResponse<String> live) throws Exception {
    assertThat(live.statusCode()).as(live.body()).isEqualTo(200);
    ObjectNode view = (ObjectNode) JSON.readTree(live.body());
    view.remove(List.of("lastHeartbeatAt", "metrics", "details", "nextHeartbeatBefore"));
    return view;
  }

  private static long journalSeq(DatabaseSettings db, String pid) throws Exception {
    return maxSeq(db, "event_journal", pid);
  }

  private static long snapshotSeq(DatabaseSettings db, String pid) throws Exception {
    return maxSeq(db, "snapshot", pid);
  }

  private static long maxSeq(DatabaseSettings db, String table, String pid) throws Exception {
    try (Connection c = DriverManager.getConnection(db.url(), db.user(), db.password());
        PreparedStatement st =
            c.prepareStatement(
                "SELECT COALESCE(MAX("
                    + q(db, "sequence_number")
                    + "), 0) FROM "
                    + q(db, table)
                    + " WHERE "
                    + q(db, "persistence_id")
                    + " = ?")) {
      st.setString(1, pid);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  private static void deleteEventsBefore(DatabaseSettings db, String pid, long seq)
      throws Exception {
    try (Connection c = DriverManager.getConnection(db.url(), db.user(), db.password());
        PreparedStatement st =
            c.prepareStatement(
                "DELETE FROM "
                    + q(db, "event_journal")
                    + " WHERE "
                    + q(db, "persistence_id")
                    + " = ? AND "
                    + q(db, "sequence_number")
                    + " < ?")) {
      st.setString(1, pid);
      st.setLong(2, seq);
      assertThat(st.executeUpdate()).as(pid).isEqualTo((int) (seq - 1));
    }
  }

  /** H2's journal tables and columns have quoted lower-case names (V1__journal.sql). */
  private static String q(DatabaseSettings db, String name) {
    return db.kind() == DatabaseSettings.Kind.H2 ? "\"" + name + "\"" : name;
  }
}
