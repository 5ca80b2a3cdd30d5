package dev.keel.persistence;

import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;

/**
 * Creates and upgrades every table Keel uses (journal, snapshots, projection offsets, read models)
 * at start-up. One migration set per database, derived from persistence-jdbc's shipped DDL but
 * re-runnable and transactional (STACK.md pitfall 4).
 */
public final class SchemaMigrations {

  private SchemaMigrations() {}

  public static MigrateResult migrate(DataSource dataSource, DatabaseSettings.Kind kind) {
    String folder = kind == DatabaseSettings.Kind.H2 ? "h2" : "postgres";
    return Flyway.configure(SchemaMigrations.class.getClassLoader())
        .dataSource(dataSource)
        .locations("classpath:db/keel/" + folder)
        .table("keel_schema_history")
        // A database that already holds other tables (a shared PostgreSQL) gets Keel's tables beside them.
        .baselineOnMigrate(true)
        .baselineVersion("0")
        .load()
        .migrate();
  }
}
