package dev.keel.persistence;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.UUID;
import org.junit.jupiter.api.Assumptions;

/**
 * Databases for integration tests. PostgreSQL tests read {@code KEEL_TEST_DATABASE_URL} (default
 * the local server's {@code test} database, user {@code postgres}); each test gets a database of
 * its own, created from that server and dropped afterwards. When no server answers the test is
 * skipped, unless {@code KEEL_REQUIRE_POSTGRES=1} (set by .ci/run), where it fails.
 */
public final class TestDatabases {

  private TestDatabases() {}

  public static String baseUrl() {
    String url = System.getenv("KEEL_TEST_DATABASE_URL");
    return url == null || url.isBlank() ? "jdbc:postgresql://127.0.0.1:5432/test" : url;
  }

  public static String user() {
    String user = System.getenv("KEEL_TEST_DATABASE_USER");
    return user == null || user.isBlank() ? "postgres" : user;
  }

  public static String password() {
    String pw = System.getenv("KEEL_TEST_DATABASE_PASSWORD");
    return pw == null ? "" : pw;
  }

  public static boolean postgresRequired() {
    return "1".equals(System.getenv("KEEL_REQUIRE_POSTGRES"));
  }

  public static DatabaseSettings h2(Path dir) {
    return DatabaseSettings.embedded(dir);
  }

  /**
   * A fresh, empty PostgreSQL database; skips (or fails under KEEL_REQUIRE_POSTGRES=1) without a
   * server.
   */
  public static FreshPostgres freshPostgres() {
    String name = "keel_t_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
    try (Connection c = DriverManager.getConnection(baseUrl(), user(), password());
        Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + name);
    } catch (Exception e) {
      String why = "PostgreSQL at " + baseUrl() + " does not answer: " + e.getMessage();
      if (postgresRequired()) {
        throw new AssertionError(why + " (KEEL_REQUIRE_POSTGRES=1)", e);
      }
      Assumptions.abort(why + " — skipping; set KEEL_REQUIRE_POSTGRES=1 to fail instead");
    }
    String url = baseUrl().replaceFirst("/[^/?]*(\\?.*)?$", "/" + name + "$1");
    return new FreshPostgres(name, DatabaseSettings.of(url, user(), password()));
  }

  /**
   * A Flyway-migrated database of {@code kind} behind a pool of two: the embedded H2 under {@code
   * h2Dir}, or a fresh PostgreSQL database (skipped without a server, as {@link #freshPostgres}).
   */
  public static Migrated migrated(DatabaseSettings.Kind kind, Path h2Dir, String poolName) {
    FreshPostgres postgres = kind == DatabaseSettings.Kind.H2 ? null : freshPostgres();
    DatabaseSettings db = postgres == null ? h2(h2Dir) : postgres.settings();
    com.zaxxer.hikari.HikariDataSource dataSource = KeelDataSource.create(db, poolName, 2);
    SchemaMigrations.migrate(dataSource, db.kind());
    return new Migrated(dataSource, postgres);
  }

  /** A migrated test database; {@link #close()} closes the pool and drops a PostgreSQL database. */
  public record Migrated(com.zaxxer.hikari.HikariDataSource dataSource, FreshPostgres postgres)
      implements AutoCloseable {
    @Override
    public void close() {
      dataSource.close();
      if (postgres != null) postgres.close();
    }
  }

  /** A throwaway PostgreSQL database; {@link #close()} drops it. */
  public record FreshPostgres(String name, DatabaseSettings settings) implements AutoCloseable {
    @Override
    public void close() {
      try (Connection c = DriverManager.getConnection(baseUrl(), user(), password());
          Statement s = c.createStatement()) {
        s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
      } catch (Exception e) {
        // A database left behind costs disk, not correctness; the next run uses a new name.
      }
    }
  }
}
