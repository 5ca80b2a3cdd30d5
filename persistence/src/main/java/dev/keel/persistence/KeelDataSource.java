package dev.keel.persistence;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.micrometer.core.instrument.MeterRegistry;
import javax.sql.DataSource;

/**
 * The connection pool for read models, projections and migrations. The journal has its own pool
 * (Slick's, configured by {@link PersistenceConfig}).
 */
public final class KeelDataSource {

  private KeelDataSource() {}

  public static HikariDataSource create(DatabaseSettings db, String poolName, int maxConnections) {
    return create(db, poolName, maxConnections, null);
  }

  /**
   * As above, with the pool's own meters ({@code hikaricp_connections_*}: connections in use, idle,
   * pending, acquire and usage times, timeouts) in {@code meters} when it is not null.
   */
  public static HikariDataSource create(
      DatabaseSettings db, String poolName, int maxConnections, MeterRegistry meters) {
    HikariConfig config = new HikariConfig();
    if (meters != null) config.setMetricRegistry(meters);
    config.setPoolName(poolName);
    config.setJdbcUrl(db.url());
    config.setUsername(db.user());
    config.setPassword(db.password());
    config.setMaximumPoolSize(maxConnections);
    config.setMinimumIdle(Math.min(2, maxConnections));
    config.setConnectionTimeout(5_000);
    config.setValidationTimeout(3_000);
    // Fail fast at start-up with the driver's own reason rather than after a pool timeout.
    config.setInitializationFailTimeout(1);
    config.setAutoCommit(true);
    return new HikariDataSource(config);
  }

  public static boolean answers(DataSource dataSource) {
    try (var c = dataSource.getConnection();
        var s = c.createStatement()) {
      s.setQueryTimeout(3);
      s.execute("SELECT 1");
      return true;
    } catch (Exception e) {
      return false;
    }
  }
}
