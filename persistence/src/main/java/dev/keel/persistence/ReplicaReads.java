package dev.keel.persistence;

import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Optional;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.slf4j.LoggerFactory;

/**
 * Where list, history and audit reads go when the node has a PostgreSQL read replica: to the
 * replica while it answers and is at most {@code maxLag} behind the primary, to the primary
 * otherwise. {@link #probe} (every second) measures the lag on the replica itself, from the last
 * transaction it replayed; a replica that received everything it was sent counts as 0 behind
 * whatever the time of its last transaction, since the primary has written nothing newer.
 *
 * <p>Why fall back rather than fail: a replica that is down or far behind would otherwise turn
 * every list into an error or a stale answer, while the primary can serve the read. The answer says
 * which it got ({@code Keel-Replica-Lag-Ms}, see {@link #answeredLag}).
 */
public final class ReplicaReads {

  private static final org.slf4j.Logger log = LoggerFactory.getLogger(ReplicaReads.class);

  static final String LAG_SQL =
      "SELECT pg_is_in_recovery(), CASE WHEN pg_last_wal_receive_lsn() IS NULL"
          + " OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0"
          + " ELSE CAST(EXTRACT(EPOCH FROM (clock_timestamp() - pg_last_xact_replay_timestamp()))"
          + " * 1000 AS BIGINT) END";

  private final DataSource primary;
  private final DataSource replica;
  private final Duration maxLag;
  private final DataSource routed = new Routed();

  /** The last probe's lag; null while the replica did not answer (or not yet). */
  private volatile Duration lag;

  /** When the last probe measured it ({@link System#nanoTime}). */
  private volatile long probedAt = System.nanoTime();

  private volatile boolean lastUsable;

  public ReplicaReads(DataSource primary, DataSource replica, Duration maxLag) {
    this.primary = primary;
    this.replica = replica;
    this.maxLag = maxLag;
  }

  /** Measures the replica's lag now; a replica that does not answer is not used until it does. */
  public void probe() {
    Duration measured = null;
    try (Connection c = replica.getConnection();
        Statement s = c.createStatement()) {
      s.setQueryTimeout(2);
      try (ResultSet rs = s.executeQuery(LAG_SQL)) {
        if (rs.next()) {
          // A server that is not in recovery is no replica (promoted, or misconfigured): it is as
          // fresh as a primary.
          measured =
              rs.getBoolean(1) ? Duration.ofMillis(Math.max(0, rs.getLong(2))) : Duration.ZERO;
        }
      }
    } catch (SQLException e) {
      measured = null;
    }
    probedAt = System.nanoTime();
    lag = measured;
    boolean usable = usable();
    if (usable != lastUsable) {
      lastUsable = usable;
      if (usable) log.info("read replica in use lag_ms={}", measured.toMillis());
      else
        log.warn(
            "read replica not used: {}; lists, history and audit read the primary",
            measured == null
                ? "it does not answer"
                : "it is " + measured.toMillis() + " ms behind");
    }
  }

  /** Whether reads go to the replica now. */
  public boolean usable() {
    Duration l = lag;
    return l != null && l.compareTo(maxLag) <= 0;
  }

  /** The replica's last measured lag, empty while it does not answer. */
  public Optional<Duration> lag() {
    return Optional.ofNullable(lag);
  }

  /**
   * How far behind the primary a read answered now may be: while reads go to the replica, its lag
   * when last measured plus the time since (it may have fallen further behind meanwhile); zero when
   * they go to the primary.
   */
  public Duration answeredLag() {
    Duration l = lag;
    if (l == null || l.compareTo(maxLag) > 0) return Duration.ZERO;
    return l.plusNanos(Math.max(0, System.nanoTime() - probedAt));
  }

  /**
   * A data source for reads: a connection of the replica while it is usable, of the primary else.
   */
  public DataSource dataSource() {
    return routed;
  }

  private final class Routed implements DataSource {
    private DataSource target() {
      return usable() ? replica : primary;
    }

    @Override
    public Connection getConnection() throws SQLException {
      DataSource chosen = target();
      if (chosen == primary) return primary.getConnection();
      try {
        return replica.getConnection();
      } catch (SQLException e) {
        // Gone since the last probe: this read takes the primary, and so do the next ones.
        lag = null;
        return primary.getConnection();
      }
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
      throw new SQLFeatureNotSupportedException("the routed read data source has its own users");
    }

    @Override
    public PrintWriter getLogWriter() {
      return null;
    }

    @Override
    public void setLogWriter(PrintWriter out) {}

    @Override
    public void setLoginTimeout(int seconds) {}

    @Override
    public int getLoginTimeout() {
      return 0;
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
      throw new SQLFeatureNotSupportedException();
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
      throw new SQLException("not a wrapper");
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
      return false;
    }
  }
}
