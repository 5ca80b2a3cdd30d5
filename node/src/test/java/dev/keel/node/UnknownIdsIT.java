package dev.keel.node;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.persistence.DatabaseSettings;
import dev.keel.persistence.TestDatabases;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Requests naming ids that were never created are answered 404 (or 401 for a key of a tenant that
 * never existed) and write nothing, not even sharding's record of a started entity: a client
 * heartbeating an id it never registered, or a scan of made-up ids, must not grow the journal.
 */
class UnknownIdsIT {

  private static final String[] REQUESTS_FOR_UNKNOWN_IDS = {
    "GET /api/v1/workflows/never-started",
    "GET /api/v1/workflows/never-started?wait=PT1S",
    "POST /api/v1/workflows/never-started/cancel",
    "POST /api/v1/workflows/never-started/signals/approve",
    "GET /api/v1/services/never-registered",
    "POST /api/v1/services/never-registered/heartbeat",
    "DELETE /api/v1/services/never-registered",
    "GET /api/v1/alerts/never-defined",
    "DELETE /api/v1/alerts/never-defined",
    "GET /api/v1/schedules/never-defined",
    "DELETE /api/v1/schedules/never-defined",
    "GET /api/v1/tenants/tneverexistedneverexistedneve",
    "POST /api/v1/tenants/tneverexistedneverexistedneve/suspend",
  };

  @Test
  void onEmbeddedH2() throws Exception {
    Path dir = Files.createTempDirectory("keel-it-unknown-h2");
    exercise(Map.of("keel.node.data-dir", dir.toString()), DatabaseSettings.embedded(dir));
  }

  @Test
  void onPostgres() throws Exception {
    try (TestDatabases.FreshPostgres pg = TestDatabases.freshPostgres()) {
      Path dir = Files.createTempDirectory("keel-it-unknown-pg");
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
      long before = journalRows(dbSettings);

      for (int round = 0; round < 3; round++) {
        for (String request : REQUESTS_FOR_UNKNOWN_IDS) {
          String[] methodAndPath = request.split(" ", 2);
          String body = methodAndPath[0].equals("POST") ? "{}" : null;
          HttpResponse<String> response = api.send(methodAndPath[0], methodAndPath[1], body);
          assertThat(response.statusCode()).as(request + " -> " + response.body()).isEqualTo(404);
          assertThat(response.body()).as(request).contains("never");
        }
        HttpResponse<String> bogusKey =
            api.sendAuth(
                "GET",
                "/api/v1/services",
                null,
                "keel_tneverexistedneverexistedneve_" + "0".repeat(64));
        assertThat(bogusKey.statusCode()).as(bogusKey.body()).isEqualTo(401);
      }
      assertThat(api.send("POST", "/api/v1/services/never-registered/heartbeat", "{}").body())
          .as("the client is told to register first")
          .contains("register it first with PUT /api/v1/services/never-registered");

      // Settle: sharding would have written its records as the entities started and stopped.
      Thread.sleep(1500);
      assertThat(journalRows(dbSettings))
          .as("rows in the whole journal, sharding's own included")
          .isEqualTo(before);

      // The same ids work once created, through the same node.
      assertThat(
              api.send("PUT", "/api/v1/services/never-registered", "{\"type\":\"source\"}")
                  .statusCode())
          .isEqualTo(201);
      assertThat(api.send("POST", "/api/v1/services/never-registered/heartbeat", "{}").statusCode())
          .isEqualTo(200);
      assertThat(api.send("GET", "/api/v1/services/never-registered", null).statusCode())
          .isEqualTo(200);
    }
  }

  private static long journalRows(DatabaseSettings db) throws Exception {
    String table = db.kind() == DatabaseSettings.Kind.H2 ? "\"event_journal\"" : "event_journal";
    try (java.sql.Connection c =
            java.sql.DriverManager.getConnection(db.url(), db.user(), db.password());
        java.sql.ResultSet rs = c.createStatement().executeQuery("SELECT COUNT(*) FROM " + table)) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
