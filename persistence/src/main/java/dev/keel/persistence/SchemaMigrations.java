package dev.keel.persistence;

import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;

/**
 * Creates and upgrades every table Keel uses (journal, snapshots, projection offsets, read models)
 * at start-up. One migration set per database, derived from persistence-jdbc's shipped DDL but
 * re-runnable and transactional (STACK.md pitfall 4).
 *
 * <p>The nodes of a cluster often start together on an empty database. Flyway serializes the
 * migrations themselves, but not the creation of its history table, so on PostgreSQL the whole
 * migration runs under an advisory lock held on a connection of its own (outside the pool, which
 * Flyway may need two connections of).
 */
public final class SchemaMigrations {

  /** Advisory lock key of Keel's migrations: "keel" in ASCII. */
  static final long LOCK_KEY = 0x6B65656CL;

  private SchemaMigrations() {}

  public static MigrateResult migrate(DataSource dataSource, DatabaseSettings.Kind kind) {
    String folder = kind == DatabaseSettings.Kind.H2 ? "h2" : "postgres";
    Flyway flyway =
        Flyway.configure(SchemaMigrations.class.getClassLoader())
            .dataSource(dataSource)
            .locations("classpath:db/keel/" + folder)
            .table("keel_schema_history")
            // A database that already holds other tables (a shared PostgreSQL) gets Keel's tables
            // beside them.
            .baselineOnMigrate(true)
            .baselineVersion("0")
            .load();
    if (kind != DatabaseSettings.Kind.POSTGRES || !(dataSource instanceof HikariDataSource pool)) {
      return flyway.migrate();
    }
    try (Connection lock =
            DriverManager.getConnection(pool.getJdbcUrl(), pool.getUsername(), pool.getPassword());
        Statement s = lock.createStatement()) {
      s.execute("SELECT pg_advisory_lock(" + LOCK_KEY + ")");
      try {
        return flyway.migrate();
      } finally {
        s.execute("SELECT pg_advisory_unlock(" + LOCK_KEY + ")");
      }
    } catch (SQLException e) {
      throw new IllegalStateException("cannot take the migration lock: " + e.getMessage(), e);
    }
  }
}
