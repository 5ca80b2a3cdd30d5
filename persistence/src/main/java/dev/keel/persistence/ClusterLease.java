package dev.keel.persistence;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Predicate;
import javax.sql.DataSource;

/**
 * The PostgreSQL record of which cluster owns the journal ({@code keel_cluster_lease} and {@code
 * keel_cluster_fence}, migration V10).
 *
 * <p>A living cluster's members {@link #renew} the lease every few seconds; a node may {@link
 * #form} a new cluster only when the lease allows it (the caller's rule: stale, released, or held
 * only by an earlier run of the node itself), and forming raises the fence's epoch, which ends
 * every write of an older cluster ({@link ClusterFence}). Times come from the database's clock, so
 * the nodes' clocks need not agree.
 */
public final class ClusterLease {

  /**
   * The lease as read: the epoch of the cluster that holds it, the members it last named, how long
   * ago it was renewed (empty when released or never held), and who formed it.
   */
  public record Lease(
      long epoch, List<String> members, Optional<Duration> renewedAgo, String formedBy) {
    /** Renewed within {@code timeout}: its cluster counts as alive. */
    public boolean freshWithin(Duration timeout) {
      return renewedAgo.map(ago -> ago.compareTo(timeout) < 0).orElse(false);
    }
  }

  private static final String READ =
      """
      SELECT epoch, members, formed_by,
        CASE WHEN renewed_at IS NULL THEN NULL
             ELSE CAST(EXTRACT(EPOCH FROM (clock_timestamp() - renewed_at)) * 1000 AS BIGINT) END
      FROM keel_cluster_lease WHERE id = 1\
      """;

  private final DataSource dataSource;
  private final int timeoutSeconds;

  public ClusterLease(DataSource dataSource, Duration statementTimeout) {
    this.dataSource = dataSource;
    this.timeoutSeconds = (int) Math.max(1, statementTimeout.toSeconds());
  }

  public Lease read() throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      return read(c, false);
    }
  }

  /**
   * Forms a new cluster of epoch n+1 held by {@code self} when {@code mayForm} accepts the lease as
   * it is; empty when it does not. The fence's lock is taken first, exclusively: this waits for
   * every journal and read-model batch in flight, and every batch after the commit reads the new
   * epoch. The fence row is locked too, for the batches of nodes of the version before, which lock
   * the row instead (a rolling upgrade).
   */
  public OptionalLong form(String self, Predicate<Lease> mayForm) throws SQLException {
    // A node waiting to join asks every renewal: taking the lock for a certain no would stall the
    // living cluster's writes each time. The answer that counts is the one under the lock below.
    if (!mayForm.test(read())) return OptionalLong.empty();
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        try (PreparedStatement exclusive =
            c.prepareStatement("SELECT pg_advisory_xact_lock(" + ClusterFence.LOCK_KEY + ")")) {
          exclusive.setQueryTimeout(timeoutSeconds);
          exclusive.execute();
        }
        long fenced;
        try (PreparedStatement lock =
            c.prepareStatement("SELECT epoch FROM keel_cluster_fence WHERE id = 1 FOR UPDATE")) {
          lock.setQueryTimeout(timeoutSeconds);
          try (ResultSet rs = lock.executeQuery()) {
            if (!rs.next())
              throw new SQLException(
                  "keel_cluster_fence has no row: the V10 migration did not run");
            fenced = rs.getLong(1);
          }
        }
        Lease lease = read(c, true);
        if (!mayForm.test(lease)) {
          c.rollback();
          return OptionalLong.empty();
        }
        long epoch = Math.max(lease.epoch(), fenced) + 1;
        update(c, "UPDATE keel_cluster_fence SET epoch = ? WHERE id = 1", epoch);
        try (PreparedStatement take =
            c.prepareStatement(
                """
                UPDATE keel_cluster_lease SET epoch = ?, members = ?, renewed_by = ?, renewed_at = clock_timestamp(),
                  formed_by = ?, formed_at = clock_timestamp() WHERE id = 1\
                """)) {
          take.setQueryTimeout(timeoutSeconds);
          take.setLong(1, epoch);
          take.setString(2, self);
          take.setString(3, self);
          take.setString(4, self);
          take.executeUpdate();
        }
        c.commit();
        return OptionalLong.of(epoch);
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    }
  }

  /** Renews the lease for the cluster of {@code epoch}; false when another cluster holds it now. */
  public boolean renew(long epoch, Collection<String> members, String self) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement renew =
            c.prepareStatement(
                """
                UPDATE keel_cluster_lease SET members = ?, renewed_by = ?, renewed_at = clock_timestamp()
                WHERE id = 1 AND epoch = ?\
                """)) {
      renew.setQueryTimeout(timeoutSeconds);
      renew.setString(1, String.join(" ", members));
      renew.setString(2, self);
      renew.setLong(3, epoch);
      return renew.executeUpdate() == 1;
    }
  }

  /**
   * Marks the lease of {@code epoch} as free: its cluster's last member left on purpose, so the
   * next node to start need not wait for the lease to go stale.
   */
  public void release(long epoch) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement release =
            c.prepareStatement(
                "UPDATE keel_cluster_lease SET renewed_at = NULL, members = '' WHERE id = 1 AND"
                    + " epoch = ?")) {
      release.setQueryTimeout(timeoutSeconds);
      release.setLong(1, epoch);
      release.executeUpdate();
    }
  }

  private Lease read(Connection c, boolean forUpdate) throws SQLException {
    try (PreparedStatement select = c.prepareStatement(forUpdate ? READ + " FOR UPDATE" : READ)) {
      select.setQueryTimeout(timeoutSeconds);
      try (ResultSet rs = select.executeQuery()) {
        if (!rs.next())
          throw new SQLException("keel_cluster_lease has no row: the V10 migration did not run");
        String members = rs.getString(2);
        long ago = rs.getLong(4);
        Optional<Duration> renewedAgo =
            rs.wasNull() ? Optional.empty() : Optional.of(Duration.ofMillis(Math.max(0, ago)));
        return new Lease(
            rs.getLong(1),
            members == null || members.isBlank()
                ? List.of()
                : Arrays.asList(members.trim().split(" +")),
            renewedAgo,
            rs.getString(3) == null ? "" : rs.getString(3));
      }
    }
  }

  private void update(Connection c, String sql, long value) throws SQLException {
    try (PreparedStatement s = c.prepareStatement(sql)) {
      s.setQueryTimeout(timeoutSeconds);
      s.setLong(1, value);
      s.executeUpdate();
    }
  }
}
