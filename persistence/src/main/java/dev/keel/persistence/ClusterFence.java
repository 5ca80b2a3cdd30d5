package dev.keel.persistence;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.setup.Setup;

/**
 * This node's right to write the journal and the read models: the epoch of the cluster it belongs
 * to, which every journal batch ({@link MeteredJournalDao}) and every read-model batch ({@link
 * ReadModelProjection}) on PostgreSQL compares with the database's ({@code keel_cluster_fence}) in
 * its own transaction.
 *
 * <p>Sharding keeps one live instance per entity within a cluster, not across two clusters on one
 * journal. A node that forms a cluster first raises the database's epoch ({@link
 * ClusterLease#form}), so a cluster that formed before it — whatever let it run beside the new one:
 * a partition, a stalled machine waking up — has every later write refused. An entity must journal
 * a step's start before its body runs, so a refused write is also a body that does not run twice.
 *
 * <p>Until the node knows its epoch (it joined, and has not yet read its cluster's epoch from the
 * lease) writes wait for it, up to {@code waitForEpoch}; after the node lost its epoch every write
 * is refused.
 */
public final class ClusterFence {

  /** SQLSTATE of a refused write: class 72 is "snapshot failure", the closest standard class. */
  public static final String FENCED_SQL_STATE = "72K01";

  /**
   * The advisory lock that orders writes and formations ("keelfenc" in ASCII): every batch holds it
   * shared until it ends, a formation takes it exclusively ({@link ClusterLease#form}), so a
   * formation waits for the batches in flight and the batches after it wait for the formation.
   */
  static final long LOCK_KEY = 0x6b65656c66656e63L;

  /**
   * Two statements in one round trip: the epoch is read by a statement of its own, so that its
   * snapshot is taken after the lock is granted and sees a formation that the lock waited for.
   *
   * <p>Why not a row lock ({@code SELECT ... FOR KEY SHARE}) as before: concurrent batches sharing
   * a lock on one row make PostgreSQL write the lock into the row (a WAL record per batch) and
   * create a MultiXact whenever two batches overlap; an advisory lock lives in shared memory only.
   */
  static final String CHECK_SQL =
      "SELECT pg_advisory_xact_lock_shared("
          + LOCK_KEY
          + ");"
          + " SELECT epoch FROM keel_cluster_fence WHERE id = 1";

  /** Carries the node's fence into the actor system, for the journal plugin to find. */
  public static final class FenceSetup extends Setup {
    private final ClusterFence fence;

    public FenceSetup(ClusterFence fence) {
      this.fence = fence;
    }

    public ClusterFence fence() {
      return fence;
    }
  }

  private final Duration waitForEpoch;
  private final CompletableFuture<Long> epoch = new CompletableFuture<>();
  private volatile String lostBecause;

  public ClusterFence(Duration waitForEpoch) {
    this.waitForEpoch = waitForEpoch;
  }

  static Optional<ClusterFence> of(ActorSystem system) {
    return system.settings().setup().get(FenceSetup.class).map(FenceSetup::fence);
  }

  /** From now on this node writes as a member of the cluster of {@code epoch}. */
  public void hold(long epoch) {
    if (!this.epoch.complete(epoch) && this.epoch.getNow(-1L) != epoch) {
      throw new IllegalStateException(
          "this node already holds epoch " + this.epoch.getNow(-1L) + ", not " + epoch);
    }
  }

  /** The epoch this node holds, if it knows it and has not lost it. */
  public Optional<Long> epoch() {
    return lostBecause != null || !epoch.isDone() ? Optional.empty() : Optional.of(epoch.join());
  }

  /** Every later write of this node is refused: its cluster is no longer the journal's. */
  public void lose(String because) {
    lostBecause = because;
    epoch.completeExceptionally(new IllegalStateException(because));
  }

  public boolean lost() {
    return lostBecause != null;
  }

  /**
   * Refuses the write of {@code connection}'s transaction unless this node's epoch is the
   * journal's.
   */
  void check(Connection connection, int timeoutSeconds) throws SQLException {
    check(connection, timeoutSeconds, awaitEpoch());
  }

  /**
   * As {@link #check}, but refused at once while this node has not learnt its epoch, instead of
   * waiting for it: for read-model batches, which hold a connection of the pool that the lease
   * keeper needs to learn the epoch, and which lose nothing by being retried a little later.
   */
  void checkWithoutWaiting(Connection connection, int timeoutSeconds) throws SQLException {
    if (lostBecause != null) throw refused(lostBecause);
    if (!epoch.isDone()) throw refused("this node has not learnt its cluster's epoch yet");
    check(connection, timeoutSeconds, awaitEpoch());
  }

  private void check(Connection connection, int timeoutSeconds, long mine) throws SQLException {
    try (PreparedStatement select = connection.prepareStatement(CHECK_SQL)) {
      select.setQueryTimeout(timeoutSeconds);
      select.execute();
      if (!select.getMoreResults())
        throw new SQLException("the cluster fence check returned no epoch");
      try (ResultSet rs = select.getResultSet()) {
        long current = rs.next() ? rs.getLong(1) : -1;
        if (current != mine) {
          throw new SQLException(
              "write refused: the journal belongs to cluster epoch "
                  + current
                  + " and this node's cluster is epoch "
                  + mine,
              FENCED_SQL_STATE);
        }
      }
    }
  }

  private long awaitEpoch() throws SQLException {
    if (lostBecause != null) throw refused(lostBecause);
    try {
      return epoch.get(waitForEpoch.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw refused(
          "this node has not learnt its cluster's epoch within " + waitForEpoch.toSeconds() + " s");
    } catch (ExecutionException e) {
      throw refused(lostBecause == null ? e.getCause().getMessage() : lostBecause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw refused("interrupted while waiting for this node's cluster epoch");
    }
  }

  private static SQLException refused(String why) {
    return new SQLException("write refused: " + why, FENCED_SQL_STATE);
  }
}
