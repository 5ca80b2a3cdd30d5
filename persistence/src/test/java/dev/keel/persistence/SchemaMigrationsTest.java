package dev.keel.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SchemaMigrationsTest {

  @TempDir Path dir;

  @Test
  void createsEveryTableOnH2AndIsSafeToRunAgain() throws Exception {
    DatabaseSettings db = TestDatabases.h2(dir);
    try (HikariDataSource ds = KeelDataSource.create(db, "test", 2)) {
      assertThat(SchemaMigrations.migrate(ds, db.kind()).migrationsExecuted)
          .isGreaterThanOrEqualTo(4);
      assertThat(SchemaMigrations.migrate(ds, db.kind()).migrationsExecuted).isZero();
      assertThat(tables(ds))
          .contains(
              "event_journal",
              "event_tag",
              "snapshot",
              "pekko_projection_offset_store",
              "keel_workflows",
              "keel_workflow_wakeups",
              "keel_schedules",
              "keel_services",
              "keel_domains",
              "keel_projection_dead_letters");
    }
  }

  @Test
  void createsEveryTableOnPostgresAndIsSafeToRunAgain() throws Exception {
    try (TestDatabases.FreshPostgres pg = TestDatabases.freshPostgres();
        HikariDataSource ds = KeelDataSource.create(pg.settings(), "test", 2)) {
      assertThat(SchemaMigrations.migrate(ds, pg.settings().kind()).migrationsExecuted)
          .isGreaterThanOrEqualTo(4);
      assertThat(SchemaMigrations.migrate(ds, pg.settings().kind()).migrationsExecuted).isZero();
      assertThat(tables(ds))
          .contains(
              "event_journal",
              "event_tag",
              "snapshot",
              "pekko_projection_offset_store",
              "keel_workflows",
              "keel_workflow_wakeups",
              "keel_schedules",
              "keel_services",
              "keel_domains",
              "keel_projection_dead_letters");
    }
  }

  @Test
  void nodesStartingTogetherOnAnEmptyPostgresAllMigrate() throws Exception {
    // The nodes of a new cluster start at once: each must come up, and the migrations run once. The
    // race on Flyway's history table showed between JVMs (ClusterFailoverIT), rarely in one; this
    // checks that the lock lets every node through and runs each migration once.
    int nodes = 3;
    try (TestDatabases.FreshPostgres pg = TestDatabases.freshPostgres()) {
      java.util.concurrent.ExecutorService pool =
          java.util.concurrent.Executors.newFixedThreadPool(nodes);
      java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
      List<java.util.concurrent.Future<Integer>> results = new ArrayList<>();
      try {
        for (int i = 0; i < nodes; i++) {
          results.add(
              pool.submit(
                  () -> {
                    try (HikariDataSource ds = KeelDataSource.create(pg.settings(), "node", 2)) {
                      go.await();
                      return SchemaMigrations.migrate(ds, pg.settings().kind()).migrationsExecuted;
                    }
                  }));
        }
        go.countDown();
        int executed = 0;
        for (java.util.concurrent.Future<Integer> r : results)
          executed += r.get(2, java.util.concurrent.TimeUnit.MINUTES);
        try (HikariDataSource ds = KeelDataSource.create(pg.settings(), "check", 2)) {
          assertThat(executed)
              .as("each migration ran on one node only")
              .isEqualTo(
                  SchemaMigrations.migrate(ds, pg.settings().kind()).migrationsExecuted
                      + countApplied(ds));
        }
      } finally {
        pool.shutdownNow();
      }
    }
  }

  private static int countApplied(HikariDataSource ds) throws Exception {
    try (var c = ds.getConnection();
        var s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT count(*) FROM keel_schema_history WHERE success AND type <> 'BASELINE'")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  @Test
  void rejectsUrlsThatAreNotPostgresOrH2() {
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> DatabaseSettings.of("jdbc:mysql://x/y", "u", "p"))
        .hasMessageContaining("not a PostgreSQL JDBC URL");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> DatabaseSettings.of("postgres://x", "u", "p"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(
            DatabaseSettings.of("jdbc:postgresql://h/db?password=secret", "u", "p").redactedUrl())
        .doesNotContain("secret");
  }

  private static List<String> tables(HikariDataSource ds) throws Exception {
    List<String> names = new ArrayList<>();
    try (var c = ds.getConnection();
        ResultSet rs = c.getMetaData().getTables(null, null, "%", new String[] {"TABLE"})) {
      while (rs.next()) names.add(rs.getString("TABLE_NAME").toLowerCase());
    }
    return names;
  }
}
