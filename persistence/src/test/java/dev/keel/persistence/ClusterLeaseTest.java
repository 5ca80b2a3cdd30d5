package dev.keel.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.persistence.jdbc.journal.dao.JournalTables.JournalPekkoSerializationRow;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import scala.Option;
import scala.Tuple2;
import scala.collection.immutable.Set;
import scala.jdk.javaapi.CollectionConverters;

/**
 * One cluster owns the journal (PostgreSQL): a node forms a cluster only when the lease allows it,
 * forming raises the fence, and from then on the journal refuses every write of an older cluster,
 * also one whose batch was already on its way.
 */
class ClusterLeaseTest {

  private static final Duration TIMEOUT = Duration.ofSeconds(20);

  @TempDir Path dir;

  @Test
  void aFreshJournalCanBeFormedOnceAndAFreshLeaseKeepsASecondClusterFromForming() throws Exception {
    try (TestDatabases.Migrated db =
        TestDatabases.migrated(DatabaseSettings.Kind.POSTGRES, dir, "lease")) {
      ClusterLease lease = new ClusterLease(db.dataSource(), Duration.ofSeconds(5));
      assertThat(lease.read().epoch()).isZero();
      assertThat(lease.read().freshWithin(TIMEOUT)).as("never held").isFalse();

      OptionalLong first =
          lease.form("pekko://keel@10.0.0.1:25520#1", l -> !l.freshWithin(TIMEOUT));
      assertThat(first).hasValue(1);
      assertThat(
              lease.renew(
                  1,
                  List.of("pekko://keel@10.0.0.1:25520#1", "pekko://keel@10.0.0.2:25520#2"),
                  "pekko://keel@10.0.0.2:25520#2"))
          .isTrue();

      OptionalLong second =
          lease.form("pekko://keel@10.0.0.3:25520#3", l -> !l.freshWithin(TIMEOUT));
      assertThat(second).as("the first cluster renewed its lease a moment ago").isEmpty();
      ClusterLease.Lease held = lease.read();
      assertThat(held.epoch()).isEqualTo(1);
      assertThat(held.members())
          .containsExactly("pekko://keel@10.0.0.1:25520#1", "pekko://keel@10.0.0.2:25520#2");
      assertThat(held.formedBy()).isEqualTo("pekko://keel@10.0.0.1:25520#1");
      assertThat(fenceEpoch(db)).isEqualTo(1);
    }
  }

  @Test
  void anOlderClustersWritesAreRefusedOnceANewOneFormed_andItsRenewalFails() throws Exception {
    try (TestDatabases.Migrated db =
        TestDatabases.migrated(DatabaseSettings.Kind.POSTGRES, dir, "fence")) {
      ClusterLease lease = new ClusterLease(db.dataSource(), Duration.ofSeconds(5));
      ClusterFence old = new ClusterFence(Duration.ofSeconds(1));
      old.hold(lease.form("old#1", l -> true).getAsLong());
      try (Connection c = db.dataSource().getConnection()) {
        MeteredJournalDao.write(c, List.of(row("thing|a", 1)), Optional.of(old), 10);
      }

      // The old cluster stalls past the lease timeout; a new one forms (the rule says yes here).
      ClusterFence young = new ClusterFence(Duration.ofSeconds(1));
      young.hold(lease.form("young#2", l -> true).getAsLong());

      try (Connection c = db.dataSource().getConnection()) {
        assertThatThrownBy(
                () -> MeteredJournalDao.write(c, List.of(row("thing|a", 2)), Optional.of(old), 10))
            .isInstanceOf(SQLException.class)
            .hasMessageContaining("journal belongs to cluster epoch 2")
            .satisfies(
                e ->
                    assertThat(((SQLException) e).getSQLState())
                        .isEqualTo(ClusterFence.FENCED_SQL_STATE));
        MeteredJournalDao.write(c, List.of(row("thing|a", 2)), Optional.of(young), 10);
      }
      assertThat(journal(db)).containsExactly("thing|a#1", "thing|a#2");
      assertThat(lease.renew(1, List.of("old#1"), "old#1"))
          .as("the old cluster's renewal")
          .isFalse();
      assertThat(lease.renew(2, List.of("young#2"), "young#2")).isTrue();
    }
  }

  @Test
  void formingWaitsForABatchInFlight_andThatBatchIsTheOldClustersLast() throws Exception {
    try (TestDatabases.Migrated db =
        TestDatabases.migrated(DatabaseSettings.Kind.POSTGRES, dir, "inflight")) {
      ClusterLease lease = new ClusterLease(db.dataSource(), Duration.ofSeconds(5));
      ClusterFence old = new ClusterFence(Duration.ofSeconds(1));
      old.hold(lease.form("old#1", l -> true).getAsLong());
      try (Connection inFlight = db.dataSource().getConnection()) {
        // A batch of the old cluster has passed its check and not committed yet.
        inFlight.setAutoCommit(false);
        old.check(inFlight, 10);
        assertThat(
                CompletableFuture.supplyAsync(
                        () -> {
                          try {
                            return lease.form("waiting#3", l -> false);
                          } catch (SQLException e) {
                            throw new IllegalStateException(e);
                          }
                        })
                    .get(3, TimeUnit.SECONDS))
            .as("a node the lease says no to does not wait for the batches in flight")
            .isEmpty();
        CompletableFuture<OptionalLong> forming =
            CompletableFuture.supplyAsync(
                () -> {
                  try {
                    return lease.form("young#2", l -> true);
                  } catch (SQLException e) {
                    throw new IllegalStateException(e);
                  }
                });
        assertThatThrownBy(() -> forming.get(700, TimeUnit.MILLISECONDS))
            .as("the new cluster may not take the journal while the old batch can still commit")
            .isInstanceOf(TimeoutException.class);
        inFlight.commit();
        assertThat(forming.get(10, TimeUnit.SECONDS)).hasValue(2);
      }
      try (Connection c = db.dataSource().getConnection()) {
        assertThatThrownBy(
                () -> MeteredJournalDao.write(c, List.of(row("thing|b", 1)), Optional.of(old), 10))
            .isInstanceOf(SQLException.class);
      }
      assertThat(journal(db)).isEmpty();
    }
  }

  @Test
  void aBatchThatWaitedForAFormationIsRefused_itReadsTheEpochOnlyOnceTheFormationCommitted()
      throws Exception {
    try (TestDatabases.Migrated db =
        TestDatabases.migrated(DatabaseSettings.Kind.POSTGRES, dir, "waited")) {
      ClusterLease lease = new ClusterLease(db.dataSource(), Duration.ofSeconds(5));
      ClusterFence old = new ClusterFence(Duration.ofSeconds(1));
      old.hold(lease.form("old#1", l -> true).getAsLong());
      CountDownLatch formationHoldsItsLocks = new CountDownLatch(1);
      CountDownLatch letFormationCommit = new CountDownLatch(1);
      CompletableFuture<OptionalLong> forming =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  AtomicInteger asked = new AtomicInteger();
                  return lease.form(
                      "young#2",
                      l -> {
                        // The first question is form()'s look without the lock; the second is under
                        // it.
                        if (asked.incrementAndGet() == 1) return true;
                        formationHoldsItsLocks.countDown();
                        return await(letFormationCommit);
                      });
                } catch (SQLException e) {
                  throw new IllegalStateException(e);
                }
              });
      assertThat(formationHoldsItsLocks.await(10, TimeUnit.SECONDS)).isTrue();
      try (Connection c = db.dataSource().getConnection()) {
        // A batch of the old cluster begins while the formation is under way, and waits for it.
        CompletableFuture<Void> batch =
            CompletableFuture.runAsync(
                () -> {
                  try {
                    MeteredJournalDao.write(c, List.of(row("thing|d", 1)), Optional.of(old), 10);
                  } catch (SQLException e) {
                    throw new IllegalStateException(e);
                  }
                });
        assertThatThrownBy(() -> batch.get(700, TimeUnit.MILLISECONDS))
            .as("the batch waits for the formation")
            .isInstanceOf(TimeoutException.class);
        letFormationCommit.countDown();
        assertThat(forming.get(10, TimeUnit.SECONDS)).hasValue(2);
        assertThatThrownBy(() -> batch.get(10, TimeUnit.SECONDS))
            .as("an epoch read before the formation committed would let this batch through")
            .hasMessageContaining("journal belongs to cluster epoch 2");
      }
      assertThat(journal(db)).isEmpty();
    }
  }

  private static boolean await(CountDownLatch latch) {
    try {
      return latch.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  @Test
  void aNodeThatDoesNotKnowItsEpochOrLostItWritesNothing() throws Exception {
    try (TestDatabases.Migrated db =
        TestDatabases.migrated(DatabaseSettings.Kind.POSTGRES, dir, "unknown")) {
      ClusterLease lease = new ClusterLease(db.dataSource(), Duration.ofSeconds(5));
      lease.form("a#1", l -> true);
      ClusterFence joining = new ClusterFence(Duration.ofMillis(200));
      ClusterFence lost = new ClusterFence(Duration.ofMillis(200));
      lost.hold(1);
      lost.lose("another cluster took the journal over");
      try (Connection c = db.dataSource().getConnection()) {
        assertThatThrownBy(
                () ->
                    MeteredJournalDao.write(
                        c, List.of(row("thing|c", 1)), Optional.of(joining), 10))
            .hasMessageContaining("has not learnt its cluster's epoch");
        assertThatThrownBy(
                () -> MeteredJournalDao.write(c, List.of(row("thing|c", 1)), Optional.of(lost), 10))
            .hasMessageContaining("another cluster took the journal over");
      }
      assertThat(journal(db)).isEmpty();
      assertThat(lost.epoch()).isEmpty();

      // A read-model batch does not wait for the epoch: it holds a connection the lease keeper may
      // need.
      ClusterFence stillJoining = new ClusterFence(Duration.ofSeconds(30));
      try (Connection c = db.dataSource().getConnection()) {
        long start = System.nanoTime();
        assertThatThrownBy(() -> stillJoining.checkWithoutWaiting(c, 10))
            .hasMessageContaining("has not learnt its cluster's epoch");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        assertThatThrownBy(() -> lost.checkWithoutWaiting(c, 10))
            .hasMessageContaining("another cluster took the journal over");
      }
    }
  }

  @Test
  void aReleasedLeaseIsFreeAtOnce() throws Exception {
    try (TestDatabases.Migrated db =
        TestDatabases.migrated(DatabaseSettings.Kind.POSTGRES, dir, "release")) {
      ClusterLease lease = new ClusterLease(db.dataSource(), Duration.ofSeconds(5));
      lease.form("a#1", l -> true);
      assertThat(lease.read().freshWithin(TIMEOUT)).isTrue();
      lease.release(7);
      assertThat(lease.read().freshWithin(TIMEOUT))
          .as("another epoch's release changes nothing")
          .isTrue();
      lease.release(1);
      assertThat(lease.read().freshWithin(TIMEOUT)).isFalse();
      assertThat(lease.read().members()).isEmpty();
    }
  }

  private static long fenceEpoch(TestDatabases.Migrated db) throws SQLException {
    try (Connection c = db.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT epoch FROM keel_cluster_fence")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static List<String> journal(TestDatabases.Migrated db) throws SQLException {
    try (Connection c = db.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT persistence_id, sequence_number FROM event_journal ORDER BY ordering")) {
      List<String> rows = new java.util.ArrayList<>();
      while (rs.next()) rows.add(rs.getString(1) + "#" + rs.getLong(2));
      return rows;
    }
  }

  private static Tuple2<JournalPekkoSerializationRow, Set<String>> row(String pid, long seqNr) {
    JournalPekkoSerializationRow row =
        new JournalPekkoSerializationRow(
            Long.MIN_VALUE,
            false,
            pid,
            seqNr,
            "writer-1",
            1_700_000_000_000L + seqNr,
            "",
            ("e" + seqNr).getBytes(),
            1,
            "",
            Option.empty(),
            Option.empty(),
            Option.empty());
    return new Tuple2<>(row, CollectionConverters.asScala(new HashSet<String>()).toSet());
  }
}
