package dev.keel.node;

import static dev.keel.node.NodeHttp.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.persistence.DatabaseSettings;
import dev.keel.persistence.TestDatabases;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The values the issue found accepted and journaled, each of which then stopped a read model or
 * failed an execution with a Java class name, now answer 400 naming the field and write nothing;
 * and the longest schedule id's ticks reach the workflow list.
 */
class FieldGrammarIT {

  private static final String OVERFLOW = "PT9223372036854775807S";
  private static final String EXAMPLE_INPUT = "{\"userId\":\"u-1\",\"action\":\"a\"}";

  /** method, path, body, then the fields the 400 must name. */
  private static final String[][] REFUSED = {
    {
      "POST",
      "/api/v1/workflows",
      "{\"workflow\":\"http-sequence\",\"input\":{\"steps\":[{\"name\":\"nap\",\"sleep\":\""
          + OVERFLOW
          + "\"}]}}",
      "input.steps[0].sleep"
    },
    {
      "POST",
      "/api/v1/workflows",
      "{\"workflow\":\"http-sequence\",\"input\":{\"steps\":["
          + "{\"name\":\"approval\",\"signal\":\"approve\",\"timeout\":\""
          + OVERFLOW
          + "\"}]}}",
      "input.steps[0].timeout"
    },
    {
      "POST",
      "/api/v1/workflows",
      "{\"workflow\":\"example\",\"id\":\"..\",\"input\":" + EXAMPLE_INPUT + "}",
      "id"
    },
    {
      "POST",
      "/api/v1/workflows",
      "{\"workflow\":\"example\",\"tenantId\":\""
          + "t".repeat(129)
          + "\",\"input\":"
          + EXAMPLE_INPUT
          + "}",
      "tenantId"
    },
    {"POST", "/api/v1/workflows/wf-1/cancel", "{\"reason\":\"stop\\u0000\"}", "reason"},
    {
      "PUT",
      "/api/v1/schedules/nightly",
      "{\"workflow\":\"example\",\"cron\":\"0 9 * * *\",\"timezone\":\"UTC\\u0000\",\"input\":"
          + EXAMPLE_INPUT
          + "}",
      "timezone"
    },
    {
      "PUT",
      "/api/v1/schedules/nightly",
      "{\"workflow\":\"example\",\"cron\":\"0 9 * * *\",\"timezone\":\"UTC\",\"tenantId\":\""
          + "t".repeat(65)
          + "\",\"input\":"
          + EXAMPLE_INPUT
          + "}",
      "tenantId"
    },
    {
      "PUT",
      "/api/v1/services/ledger",
      "{\"type\":\"source\",\"name\":\"Ledger\\u0000\",\"metadata\":{\"env\":\"prod\\u0000\"}}",
      "name",
      "metadata.env"
    },
    {
      "PUT",
      "/api/v1/services/ledger",
      "{\"type\":\"source\",\"tenantId\":\"" + "t".repeat(200) + "\"}",
      "tenantId"
    },
    {
      "POST",
      "/api/v1/services/ledger/heartbeat",
      "{\"details\":{\"version\":\"1\\u0000\"}}",
      "details.version"
    },
    {
      "PUT",
      "/api/v1/alerts/down",
      "{\"service\":\"*\",\"condition\":\"status =="
          + " \\\"x\\u0000\\\"\",\"webhook\":\"http://127.0.0.1:9/h\"}",
      "condition"
    },
    {
      "POST",
      "/api/v1/tenants",
      "{\"slug\":\"acme-nul\",\"name\":\"Acme\\u0000\",\"plan\":\"free\"}",
      "name"
    },
    {"POST", "/api/v1/tenants/tnope/suspend", "{\"reason\":\"\\u001b[2J\"}", "reason"},
    {"POST", "/api/v1/tenants/tnope/domains", "{\"hostname\":\"example.test\\u0000\"}", "hostname"},
    {
      "PUT",
      "/api/v1/tenants/tnope/domains/shop.example.com/certificate",
      "{\"status\":\"issued\",\"expiresAt\":\"+1000000000-12-31T23:59:59Z\"}",
      "expiresAt"
    },
  };

  @Test
  void onEmbeddedH2() throws Exception {
    Path dir = Files.createTempDirectory("keel-it-grammar-h2");
    exercise(Map.of("keel.node.data-dir", dir.toString()), DatabaseSettings.embedded(dir), true);
  }

  @Test
  void onPostgres() throws Exception {
    try (TestDatabases.FreshPostgres pg = TestDatabases.freshPostgres()) {
      Path dir = Files.createTempDirectory("keel-it-grammar-pg");
      exercise(
          Map.of(
              "keel.node.data-dir",
              dir.toString(),
              "keel.database.url",
              pg.settings().url(),
              "keel.database.user",
              pg.settings().user()),
          pg.settings(),
          false);
    }
  }

  private void exercise(Map<String, String> db, DatabaseSettings dbSettings, boolean waitForATick)
      throws Exception {
    try (KeelNode node = NodeHttp.start(db)) {
      NodeHttp api = NodeHttp.ready(node);
      long before = journalRows(dbSettings);

      for (String[] request : REFUSED) {
        String[] fields = java.util.Arrays.copyOfRange(request, 3, request.length);
        assertProblem(api.send(request[0], request[1], request[2]), 400, fields);
      }
      // Settle: sharding would have written its records as entities started.
      Thread.sleep(1000);
      assertThat(journalRows(dbSettings)).as("rows in the whole journal").isEqualTo(before);

      if (!waitForATick) return;
      // The longest schedule id: its tick's workflow id is 153 characters, longer than the workflow
      // read model's id column held before V11, which stopped the projection at the first tick.
      String scheduleId = "s".repeat(128);
      assertThat(
              api.send(
                      "PUT",
                      "/api/v1/schedules/" + scheduleId,
                      "{\"workflow\":\"example\",\"cron\":\"* * * *"
                          + " *\",\"timezone\":\"UTC\",\"input\":"
                          + EXAMPLE_INPUT
                          + "}")
                  .statusCode())
          .isEqualTo(201);
      JsonNode listed =
          api.await(
              "/api/v1/workflows?workflow=example",
              page -> page.path("items").size() > 0,
              "listed the first tick's workflow (up to a minute away)",
              java.time.Duration.ofSeconds(90));
      assertThat(listed.path("items").get(0).path("id").asText())
          .startsWith(scheduleId + "@")
          .hasSize(153);
      // The projection goes on after it.
      assertThat(
              api.send(
                      "POST",
                      "/api/v1/workflows",
                      "{\"workflow\":\"example\",\"id\":\"after-the-tick\",\"input\":"
                          + EXAMPLE_INPUT
                          + "}")
                  .statusCode())
          .isEqualTo(201);
      api.await(
          "/api/v1/workflows?workflow=example",
          page -> page.toString().contains("after-the-tick"),
          "listed the next workflow");
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
