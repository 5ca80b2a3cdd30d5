package dev.keel.persistence.grammar;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import dev.keel.persistence.DatabaseSettings;
import dev.keel.persistence.KeelDataSource;
import dev.keel.persistence.SchemaMigrations;
import dev.keel.persistence.TestDatabases;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every value the grammar lets through fits each read-model column it reaches, on H2 and on
 * PostgreSQL: a value one character too long for its column stops that projection, and every list
 * of its entity type goes stale. Checked against the migrated schema, not the SQL text.
 */
class GrammarFitsColumnsTest {

  @TempDir Path dir;

  @Test
  void onH2() throws Exception {
    DatabaseSettings db = TestDatabases.h2(dir);
    try (HikariDataSource ds = KeelDataSource.create(db, "test", 2)) {
      SchemaMigrations.migrate(ds, db.kind());
      check(ds);
    }
  }

  @Test
  void onPostgres() throws Exception {
    try (TestDatabases.FreshPostgres pg = TestDatabases.freshPostgres();
        HikariDataSource ds = KeelDataSource.create(pg.settings(), "test", 2)) {
      SchemaMigrations.migrate(ds, pg.settings().kind());
      check(ds);
      try (Connection c = ds.getConnection();
          Statement s = c.createStatement()) {
        // The longest schedule tick's workflow id and the latest instant are stored, not only
        // declared.
        String tick = "s".repeat(Ids.MAX_LENGTH) + "@9999-12-31T23:59:59.999Z";
        s.executeUpdate(
            "INSERT INTO keel_workflow_wakeups (workflow_id, wake_at) VALUES ('"
                + tick
                + "', '"
                + Instants.MAX
                + "')");
      }
    }
  }

  private static void check(HikariDataSource ds) throws Exception {
    try (Connection c = ds.getConnection()) {
      for (String column :
          new String[] {
            "keel_workflows.id",
            "keel_workflow_wakeups.workflow_id",
            "keel_schedules.last_run_workflow_id"
          }) {
        assertFits(c, column, Ids.MAX_WORKFLOW_ID_LENGTH);
      }
      for (String column :
          new String[] {
            "keel_workflows.workflow",
            "keel_schedules.id",
            "keel_schedules.workflow",
            "keel_services.id",
            "keel_service_metadata.service_id",
            "keel_alerts.id",
            "keel_alerts.service"
          }) {
        assertFits(c, column, Ids.MAX_LENGTH);
      }
      for (String column :
          new String[] {
            "keel_workflows.tenant_id",
            "keel_schedules.tenant_id",
            "keel_services.tenant_id",
            "keel_alerts.tenant_id",
            "keel_tenants.id",
            "keel_domains.tenant_id"
          }) {
        assertFits(c, column, Ids.MAX_TENANT_ID_LENGTH);
      }
      assertFits(c, "keel_services.name", Texts.MAX_SERVICE_NAME_LENGTH);
      assertFits(c, "keel_tenants.name", Texts.MAX_TENANT_NAME_LENGTH);
      assertFits(c, "keel_service_metadata.meta_key", Texts.MAX_METADATA_KEY_LENGTH);
      assertFits(c, "keel_service_metadata.meta_value", Texts.MAX_METADATA_VALUE_LENGTH);
      assertFits(c, "keel_domains.hostname", Hostnames.MAX_LENGTH);
    }
    assertThat(Instants.MAX)
        .isBefore(Instant.parse("+294276-12-31T23:59:59Z")); // PostgreSQL's latest timestamp
  }

  private static void assertFits(Connection c, String tableAndColumn, int longest)
      throws Exception {
    String[] parts = tableAndColumn.split("\\.");
    int size = -1;
    for (String table : new String[] {parts[0], parts[0].toUpperCase(Locale.ROOT)}) {
      try (ResultSet rs = c.getMetaData().getColumns(null, null, table, null)) {
        while (rs.next()) {
          if (rs.getString("COLUMN_NAME").equalsIgnoreCase(parts[1]))
            size = rs.getInt("COLUMN_SIZE");
        }
      }
    }
    assertThat(size).as(tableAndColumn + " exists").isPositive();
    assertThat(size)
        .as(tableAndColumn + " holds the longest value the grammar allows")
        .isGreaterThanOrEqualTo(longest);
  }
}
