package dev.keel.persistence;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import org.apache.pekko.NotUsed;
import org.apache.pekko.persistence.PersistentRepr;
import org.apache.pekko.persistence.jdbc.PekkoSerialization;
import org.apache.pekko.persistence.jdbc.config.ReadJournalConfig;
import org.apache.pekko.persistence.jdbc.journal.dao.JournalTables;
import org.apache.pekko.persistence.jdbc.query.dao.DefaultReadJournalDao;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.stream.Materializer;
import scala.Option;
import scala.Tuple3;
import scala.collection.immutable.Set;
import scala.concurrent.ExecutionContext;
import scala.util.Try;
import slick.jdbc.H2Profile;
import slick.jdbc.JdbcBackend;
import slick.jdbc.JdbcProfile;

/**
 * The read journal's data access with one query replaced: events by tag.
 *
 * <p>pekko-persistence-jdbc 1.1 bounds that query on the journal's {@code ordering} only, and the
 * join to {@code event_tag} does not carry the bound over (PostgreSQL derives equalities, not
 * ranges, across a join). Each poll of each tag's projection therefore walked every event that tag
 * ever had: the read side's cost grew with the journal's age, and on a busy node it cost more than
 * the writes (10 million tuples read for 1,000 workflows on a fresh journal). Here the range is put
 * on {@code event_tag.event_id}, so the {@code (tag, event_id)} index answers it with a range scan
 * of just the new events. Everything else is the plugin's own code. Configured as {@code
 * jdbc-read-journal.dao} in keel-persistence.conf.
 */
public final class TagRangeReadJournalDao extends DefaultReadJournalDao {

  // Quoted lower-case names are what the H2 schema uses and what PostgreSQL folds unquoted names
  // to.
  // The columns are in the order row(ResultSet) reads them; the two %s are index hints (none on
  // PostgreSQL).
  private static final String EVENTS_BY_TAG_TEMPLATE =
      """
      SELECT j."ordering", j."deleted", j."persistence_id", j."sequence_number", j."writer",
             j."write_timestamp", j."adapter_manifest", j."event_payload", j."event_ser_id",
             j."event_ser_manifest", j."meta_payload", j."meta_ser_id", j."meta_ser_manifest"
      FROM "event_tag" t%s JOIN "event_journal" j%s ON j."ordering" = t."event_id"
      WHERE t."tag" = ? AND t."event_id" > ? AND t."event_id" <= ? AND j."deleted" = FALSE
      ORDER BY t."event_id"
      LIMIT ?\
      """;

  static final String EVENTS_BY_TAG_SQL = EVENTS_BY_TAG_TEMPLATE.formatted("", "");

  /**
   * The same query for H2, with the indexes named. H2's optimizer drove the join from a scan of the
   * whole journal instead (1.4 s per poll at 345,000 events, every poll of every tag), so an
   * embedded node slowed down as its journal grew; with the hints it reads the new tag rows and
   * their events only.
   */
  static final String EVENTS_BY_TAG_SQL_H2 =
      EVENTS_BY_TAG_TEMPLATE.formatted(
          " USE INDEX (\"event_tag_tag_idx\")", " USE INDEX (\"event_journal_ordering_idx\")");

  /**
   * The next orderings after an offset, for the plugin's journal-sequence actor, which asks every
   * second on every node. The plugin's own form ({@code WHERE ordering > ? ORDER BY ordering LIMIT
   * ?} with its default limit of 10,000) leaves PostgreSQL to guess how many rows lie above the
   * offset; without fresh statistics it guesses a third of the table and reads the whole journal in
   * a sequential scan, each second, idle or not (37 ms for 340,000 events, growing with the
   * journal). Bounding the range from the first ordering after the offset makes the index answer it
   * whatever the statistics say. The answer is the plugin's answer up to {@code first + limit}: the
   * same when there is no gap in that range, a shorter prefix when rolled-back writes left one (the
   * actor then asks again after its delay instead of at once, and finds the rest). It is never
   * empty while an ordering after the offset exists, however long a gap, as the range starts at the
   * next ordering that exists.
   */
  static final String JOURNAL_SEQUENCE_SQL =
      """
      SELECT "ordering" FROM "event_journal"
      WHERE "ordering" >= (SELECT MIN("ordering") FROM "event_journal" WHERE "ordering" > ?)
        AND "ordering" < (SELECT MIN("ordering") FROM "event_journal" WHERE "ordering" > ?) + ?
      ORDER BY "ordering"
      LIMIT ?\
      """;

  /** H2's journal sequence, first step: the next ordering after the offset. */
  static final String FIRST_ORDERING_AFTER_SQL =
      "SELECT \"ordering\" FROM \"event_journal\" WHERE \"ordering\" > ? ORDER BY \"ordering\""
          + " LIMIT 1";

  /** H2's journal sequence, second step: the orderings from that one up to it + limit. */
  static final String ORDERINGS_FROM_SQL =
      """
      SELECT "ordering" FROM "event_journal"
      WHERE "ordering" >= ? AND "ordering" < ? + ?
      ORDER BY "ordering"
      LIMIT ?\
      """;

  /** The dispatcher the blocking tag queries run on (keel-persistence.conf). */
  static final String DISPATCHER = "keel.persistence.tag-query-dispatcher";

  // The plugin's own query answers no tags either: the caller asked for one and gets only that one.
  private static final Set<String> NO_TAGS = scala.collection.immutable.Set$.MODULE$.empty();

  private final JdbcBackend.JdbcDatabaseDef database;
  private final Serialization serialization;
  private final Executor blocking;
  private final boolean h2;
  private final String eventsByTagSql;

  /** The constructor persistence-jdbc calls reflectively, with these exact parameter types. */
  public TagRangeReadJournalDao(
      JdbcBackend.JdbcDatabaseDef database,
      JdbcProfile profile,
      ReadJournalConfig config,
      Serialization serialization,
      ExecutionContext ec,
      Materializer mat) {
    super(database, profile, config, serialization, ec, mat);
    this.database = database;
    this.serialization = serialization;
    this.blocking = mat.system().dispatchers().lookup(DISPATCHER);
    this.h2 = profile instanceof H2Profile;
    this.eventsByTagSql = h2 ? EVENTS_BY_TAG_SQL_H2 : EVENTS_BY_TAG_SQL;
  }

  @Override
  public org.apache.pekko.stream.scaladsl.Source<
          Try<Tuple3<PersistentRepr, Set<String>, Object>>, NotUsed>
      eventsByTag(String tag, long offset, long maxOffset, long max) {
    // Nothing lies in (offset, maxOffset]. The plugin asks anyway whenever the journal has not
    // grown
    // since a projection's last poll (it skips only maxOffset < offset): every 200 ms for every
    // projection instance of an idle node, each a connection and an empty query.
    if (maxOffset <= offset) return org.apache.pekko.stream.scaladsl.Source.empty();
    return onBlockingPool(() -> query(tag, offset, maxOffset, max));
  }

  @Override
  public org.apache.pekko.stream.scaladsl.Source<Object, NotUsed> journalSequence(
      long offset, long limit) {
    return onBlockingPool(() -> orderingsAfter(offset, limit));
  }

  /**
   * The rows a blocking JDBC query returns, run on the tag-query dispatcher, as the plugin's
   * stream.
   */
  private <T> org.apache.pekko.stream.scaladsl.Source<T, NotUsed> onBlockingPool(
      Supplier<List<T>> query) {
    return org.apache.pekko.stream.javadsl.Source.completionStage(
            CompletableFuture.supplyAsync(query, blocking))
        .<T>mapConcat(rows -> rows)
        .asScala();
  }

  /** Boxed {@code Long}s, as the plugin's {@code Source[Long]} carries them. */
  private List<Object> orderingsAfter(long offset, long limit) {
    try (Connection connection = database.source().createConnection()) {
      return orderingsAfter(connection, h2, offset, limit);
    } catch (SQLException e) {
      // The sequence actor retries a failed query with backoff, as with the plugin's own.
      throw new CompletionException(e);
    }
  }

  /**
   * The journal-sequence answer, boxed as the plugin's {@code Source[Long]} carries it. On H2 in
   * two statements: H2 answers {@code MIN(ordering) WHERE ordering > ?} by reading every ordering
   * above the offset, twice per query (155 ms at 120,000 events), where the first ordering is one
   * index probe; the range that follows is the same.
   */
  static List<Object> orderingsAfter(Connection connection, boolean h2, long offset, long limit)
      throws SQLException {
    // H2 takes no LIMIT above an int; the plugin asks for 10,000 at a time.
    long bounded = Math.min(limit, Integer.MAX_VALUE);
    if (!h2) return orderingsInRange(connection, JOURNAL_SEQUENCE_SQL, offset, bounded);
    try (PreparedStatement next = connection.prepareStatement(FIRST_ORDERING_AFTER_SQL)) {
      next.setLong(1, offset);
      try (ResultSet rows = next.executeQuery()) {
        if (!rows.next()) return new ArrayList<>();
        return orderingsInRange(connection, ORDERINGS_FROM_SQL, rows.getLong(1), bounded);
      }
    }
  }

  /** Runs one of the range queries, whose parameters are (from, from, limit, limit). */
  private static List<Object> orderingsInRange(
      Connection connection, String sql, long from, long limit) throws SQLException {
    List<Object> orderings = new ArrayList<>();
    try (PreparedStatement statement = connection.prepareStatement(sql)) {
      statement.setLong(1, from);
      statement.setLong(2, from);
      statement.setLong(3, limit);
      statement.setLong(4, limit);
      try (ResultSet rows = statement.executeQuery()) {
        while (rows.next()) orderings.add(rows.getLong(1));
      }
    }
    return orderings;
  }

  private List<Try<Tuple3<PersistentRepr, Set<String>, Object>>> query(
      String tag, long offset, long maxOffset, long max) {
    List<Try<Tuple3<PersistentRepr, Set<String>, Object>>> events = new ArrayList<>();
    try (Connection connection = database.source().createConnection();
        PreparedStatement statement = connection.prepareStatement(eventsByTagSql)) {
      statement.setString(1, tag);
      statement.setLong(2, offset);
      statement.setLong(3, maxOffset);
      // H2 takes no LIMIT above an int; batches are a few hundred anyway.
      statement.setLong(4, Math.min(max, Integer.MAX_VALUE));
      try (ResultSet rows = statement.executeQuery()) {
        while (rows.next()) {
          events.add(
              PekkoSerialization.fromRow(serialization, row(rows))
                  .map(decoded -> new Tuple3<>(decoded._1(), NO_TAGS, decoded._2())));
        }
      }
    } catch (SQLException e) {
      // The stream fails with the error, as with the plugin's own query; the projection restarts
      // it.
      throw new CompletionException(e);
    }
    return events;
  }

  private static JournalTables.JournalPekkoSerializationRow row(ResultSet rows)
      throws SQLException {
    int metaSerId = rows.getInt(12);
    Option<Object> metaSerIdOption = rows.wasNull() ? Option.empty() : Option.apply(metaSerId);
    return new JournalTables.JournalPekkoSerializationRow(
        rows.getLong(1),
        rows.getBoolean(2),
        rows.getString(3),
        rows.getLong(4),
        rows.getString(5),
        rows.getLong(6),
        rows.getString(7),
        rows.getBytes(8),
        rows.getInt(9),
        rows.getString(10),
        Option.apply(rows.getBytes(11)),
        metaSerIdOption,
        Option.apply(rows.getString(13)));
  }
}
