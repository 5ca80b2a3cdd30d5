package dev.keel.persistence;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import org.apache.pekko.persistence.jdbc.config.JournalConfig;
import org.apache.pekko.persistence.jdbc.journal.dao.DefaultJournalDao;
import org.apache.pekko.persistence.jdbc.journal.dao.JournalTables;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.stream.Materializer;
import scala.Tuple2;
import scala.collection.immutable.Seq;
import scala.collection.immutable.Set;
import scala.concurrent.ExecutionContext;
import scala.concurrent.Future;
import scala.jdk.javaapi.CollectionConverters;
import scala.jdk.javaapi.FutureConverters;
import scala.runtime.BoxedUnit;
import slick.jdbc.JdbcBackend;
import slick.jdbc.JdbcProfile;
import slick.jdbc.PostgresProfile;

/**
 * The JDBC journal's data access, measured and, on PostgreSQL, written in a few round trips.
 *
 * <p>pekko-persistence-jdbc queues the writes of all entities and writes them in batches, each one
 * transaction through {@link #writeJournalRows}; this times each batch and counts its rows and its
 * failures ({@link JournalMeters}). Configured as {@code jdbc-journal.dao} in
 * keel-persistence.conf.
 *
 * <p>Why the write is ours on PostgreSQL: a batch with a tagged event needs each row's generated
 * ordering for {@code event_tag}, and the plugin asks Slick for them with {@code returning ++=},
 * which Slick's PostgreSQL profile runs as one statement and one round trip per row. A batch of 30
 * rows cost 30 round trips and as many thread wake-ups on the node and on the server. Here the rows
 * go as one JDBC batch (pgjdbc sends it in one go and returns the orderings in batch order), the
 * tags as another, then the commit: the same rows, orderings and tags, in one transaction, as the
 * plugin's. H2 runs inside the node, has no round trips to save, and keeps the plugin's write.
 */
public final class MeteredJournalDao extends DefaultJournalDao {

  /** The dispatcher the blocking batch writes run on (persistence reference.conf). */
  static final String DISPATCHER = "keel.persistence.journal-write-dispatcher";

  static final String INSERT_EVENT_SQL =
      """
      INSERT INTO "event_journal" ("deleted", "persistence_id", "sequence_number", "writer", "write_timestamp",
        "adapter_manifest", "event_payload", "event_ser_id", "event_ser_manifest", "meta_payload", "meta_ser_id",
        "meta_ser_manifest")
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)\
      """;

  static final String INSERT_TAG_SQL =
      "INSERT INTO \"event_tag\" (\"event_id\", \"tag\") VALUES (?, ?)";

  private final JdbcBackend.JdbcDatabaseDef database;
  private final boolean postgres;
  private final Optional<JournalMeters> meters;
  private final Optional<ClusterFence> fence;
  private final ExecutionContext ec;
  private final Executor blocking;
  private final int timeoutSeconds;

  /** The constructor persistence-jdbc calls reflectively, with these exact parameter types. */
  public MeteredJournalDao(
      JdbcBackend.JdbcDatabaseDef database,
      JdbcProfile profile,
      JournalConfig config,
      Serialization serialization,
      ExecutionContext ec,
      Materializer mat) {
    super(database, profile, config, serialization, ec, mat);
    this.database = database;
    this.postgres = profile instanceof PostgresProfile;
    this.ec = ec;
    this.meters = JournalMeters.of(mat.system());
    this.fence = ClusterFence.of(mat.system());
    this.blocking = mat.system().dispatchers().lookup(DISPATCHER);
    this.timeoutSeconds = callTimeoutSeconds(mat.system().settings().config());
  }

  /**
   * The journal's circuit breaker reports a write failed after its call timeout; the statements are
   * cancelled then too, so that a hung one does not hold a write thread (and every write behind
   * it).
   */
  static int callTimeoutSeconds(com.typesafe.config.Config config) {
    String own = "jdbc-journal.circuit-breaker.call-timeout";
    String fallback = "pekko.persistence.journal-plugin-fallback.circuit-breaker.call-timeout";
    java.time.Duration timeout =
        config.hasPath(own) ? config.getDuration(own) : config.getDuration(fallback);
    return (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toSeconds()));
  }

  @Override
  public Future<BoxedUnit> writeJournalRows(
      Seq<Tuple2<JournalTables.JournalPekkoSerializationRow, Set<String>>> rows) {
    long start = System.nanoTime();
    int count = rows.size();
    Future<BoxedUnit> written =
        postgres ? writeInOneTransaction(rows) : super.writeJournalRows(rows);
    meters.ifPresent(
        m ->
            written.onComplete(
                result -> {
                  if (result.isSuccess()) m.written(start, count);
                  else m.failed(start, count);
                  return BoxedUnit.UNIT;
                },
                ec));
    return written;
  }

  private Future<BoxedUnit> writeInOneTransaction(
      Seq<Tuple2<JournalTables.JournalPekkoSerializationRow, Set<String>>> rows) {
    List<Tuple2<JournalTables.JournalPekkoSerializationRow, Set<String>>> sorted =
        new ArrayList<>(CollectionConverters.asJava(rows));
    // As the plugin writes them: orderings follow sequence numbers, so each entity's events stay in
    // order.
    sorted.sort(Comparator.comparingLong(row -> row._1().sequenceNumber()));
    return FutureConverters.asScala(
        CompletableFuture.supplyAsync(
            () -> {
              try (Connection connection = database.source().createConnection()) {
                write(connection, sorted, fence, timeoutSeconds);
                return BoxedUnit.UNIT;
              } catch (SQLException e) {
                // The plugin fails every write of the batch, as when its own transaction fails.
                throw new CompletionException(e);
              }
            },
            blocking));
  }

  /**
   * Inserts {@code rows} and their tags in one transaction; nothing of them lands when it fails.
   */
  static void write(
      Connection connection,
      List<Tuple2<JournalTables.JournalPekkoSerializationRow, Set<String>>> rows,
      int timeoutSeconds)
      throws SQLException {
    write(connection, rows, Optional.empty(), timeoutSeconds);
  }

  /**
   * As above, and first, in the same transaction, refused unless this node's cluster is the one the
   * journal belongs to ({@link ClusterFence}): its row lock keeps a new cluster's formation waiting
   * until this batch is committed or rolled back.
   */
  static void write(
      Connection connection,
      List<Tuple2<JournalTables.JournalPekkoSerializationRow, Set<String>>> rows,
      Optional<ClusterFence> fence,
      int timeoutSeconds)
      throws SQLException {
    connection.setAutoCommit(false);
    try {
      if (fence.isPresent()) fence.get().check(connection, timeoutSeconds);
      List<Long> orderings = insertEvents(connection, rows, timeoutSeconds);
      insertTags(connection, rows, orderings, timeoutSeconds);
      connection.commit();
    } catch (SQLException | RuntimeException e) {
      try {
        connection.rollback();
      } catch (SQLException rollbackFailed) {
        e.addSuppressed(rollbackFailed);
      }
      throw e;
    }
    // Auto-commit comes back on with the connection's return to the pool (HikariCP resets it).
  }

  private static List<Long> insertEvents(
      Connection connection,
      List<Tuple2<JournalTables.JournalPekkoSerializationRow, Set<String>>> rows,
      int timeoutSeconds)
      throws SQLException {
    try (PreparedStatement insert =
        connection.prepareStatement(INSERT_EVENT_SQL, new String[] {"ordering"})) {
      insert.setQueryTimeout(timeoutSeconds);
      for (Tuple2<JournalTables.JournalPekkoSerializationRow, Set<String>> t : rows) {
        JournalTables.JournalPekkoSerializationRow row = t._1();
        insert.setBoolean(1, row.deleted());
        insert.setString(2, row.persistenceId());
        insert.setLong(3, row.sequenceNumber());
        insert.setString(4, row.writer());
        insert.setLong(5, row.writeTimestamp());
        insert.setString(6, row.adapterManifest());
        insert.setBytes(7, row.eventPayload());
        insert.setInt(8, row.eventSerId());
        insert.setString(9, row.eventSerManifest());
        if (row.metaPayload().isDefined()) insert.setBytes(10, row.metaPayload().get());
        else insert.setNull(10, Types.BINARY);
        if (row.metaSerId().isDefined()) insert.setInt(11, (Integer) row.metaSerId().get());
        else insert.setNull(11, Types.INTEGER);
        if (row.metaSerManifest().isDefined()) insert.setString(12, row.metaSerManifest().get());
        else insert.setNull(12, Types.VARCHAR);
        insert.addBatch();
      }
      insert.executeBatch();
      // One generated row per insert, in batch order.
      List<Long> orderings = new ArrayList<>(rows.size());
      try (ResultSet keys = insert.getGeneratedKeys()) {
        while (keys.next()) orderings.add(keys.getLong(1));
      }
      if (orderings.size() != rows.size()) {
        throw new SQLException(
            "the journal insert returned "
                + orderings.size()
                + " orderings for "
                + rows.size()
                + " rows");
      }
      return orderings;
    }
  }

  private static void insertTags(
      Connection connection,
      List<Tuple2<JournalTables.JournalPekkoSerializationRow, Set<String>>> rows,
      List<Long> orderings,
      int timeoutSeconds)
      throws SQLException {
    boolean anyTag = false;
    try (PreparedStatement insert = connection.prepareStatement(INSERT_TAG_SQL)) {
      insert.setQueryTimeout(timeoutSeconds);
      for (int i = 0; i < rows.size(); i++) {
        for (String tag : CollectionConverters.asJava(rows.get(i)._2())) {
          insert.setLong(1, orderings.get(i));
          insert.setString(2, tag);
          insert.addBatch();
          anyTag = true;
        }
      }
      if (anyTag) insert.executeBatch();
    }
  }
}
