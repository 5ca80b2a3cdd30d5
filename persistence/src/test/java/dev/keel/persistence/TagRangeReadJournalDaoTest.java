package dev.keel.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.persistence.jdbc.query.javadsl.JdbcReadJournal;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.query.Sequence;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Projections read events by tag through {@link TagRangeReadJournalDao}: same answers, bounded
 * work.
 */
class TagRangeReadJournalDaoTest {

  @TempDir Path dir;

  @Test
  void readsOneTagInOrderFromAnOffsetOnH2() throws Exception {
    try (TestDatabases.Migrated db =
        TestDatabases.migrated(DatabaseSettings.Kind.H2, dir, "tags")) {
      readsOneTagInOrderFromAnOffset(db, TestDatabases.h2(dir));
    }
  }

  @Test
  void readsOneTagInOrderFromAnOffsetOnPostgres() throws Exception {
    try (TestDatabases.Migrated db =
        TestDatabases.migrated(DatabaseSettings.Kind.POSTGRES, dir, "tags")) {
      readsOneTagInOrderFromAnOffset(db, db.postgres().settings());
    }
  }

  @Test
  void aPollWithNothingNewInItsRangeAsksTheDatabaseNothing() throws Exception {
    // An idle node's projections poll every 200 ms with the journal's latest ordering as both ends
    // of the range. Without event_tag any query fails, so an answer proves that none was made.
    try (TestDatabases.Migrated db =
        TestDatabases.migrated(DatabaseSettings.Kind.H2, dir, "tags")) {
      withSystem(
          TestDatabases.h2(dir),
          system -> {
            long ordering;
            try (Connection c = db.dataSource().getConnection()) {
              Serializer strings = SerializationExtension.get(system).serializerFor(String.class);
              ordering = insertEvent(c, strings, "thing|one", 1, "event-1", false);
              insertTag(c, ordering, "a");
            }
            org.apache.pekko.persistence.jdbc.query.dao.ReadJournalDao dao =
                PersistenceQuery.get(system)
                    .<org.apache.pekko.persistence.jdbc.query.scaladsl.JdbcReadJournal>
                        readJournalFor(JdbcReadJournal.Identifier())
                    .readJournalDao();
            assertThat(daoEventsByTag(system, dao, "a", ordering - 1, ordering)).hasSize(1);

            try (Connection c = db.dataSource().getConnection();
                PreparedStatement drop = c.prepareStatement("DROP TABLE \"event_tag\"")) {
              drop.executeUpdate();
            }
            assertThat(daoEventsByTag(system, dao, "a", ordering, ordering)).isEmpty();
            assertThat(daoEventsByTag(system, dao, "a", ordering + 5, ordering)).isEmpty();
            org.assertj.core.api.Assertions.assertThatThrownBy(
                    () -> daoEventsByTag(system, dao, "a", ordering - 1, ordering))
                .as("a poll with a range does query, and fails without event_tag")
                .hasStackTraceContaining("event_tag");
          });
    }
  }

  private static List<?> daoEventsByTag(
      ActorSystem<?> system,
      org.apache.pekko.persistence.jdbc.query.dao.ReadJournalDao dao,
      String tag,
      long offset,
      long maxOffset)
      throws Exception {
    return dao.eventsByTag(tag, offset, maxOffset, 100)
        .asJava()
        .runWith(Sink.seq(), system)
        .toCompletableFuture()
        .get(20, java.util.concurrent.TimeUnit.SECONDS);
  }

  @Test
  void postgresAnswersFromTheTagIndexRangeNotFromEveryEventOfTheTag() throws Exception {
    // The plugin's own query bounded only the journal side of the join, so each poll read every
    // event the tag ever had. The plan must seek to the offset in the (tag, event_id) index.
    try (TestDatabases.Migrated db =
            TestDatabases.migrated(DatabaseSettings.Kind.POSTGRES, dir, "tags");
        Connection c = db.dataSource().getConnection()) {
      assertThat(
              plan(
                  c,
                  TagRangeReadJournalDao.EVENTS_BY_TAG_SQL,
                  "workflow-0",
                  1_000_000L,
                  2_000_000L,
                  500L))
          .containsPattern(
              "Index Cond: \\(\\(tag = .*\\) AND \\(event_id > .*\\) AND \\(event_id <= ");
    }
  }

  @Test
  void h2AnswersFromTheTagIndexRangeNotFromAScanOfTheJournal() throws Exception {
    // H2's optimizer drove the join from a scan of every event, each poll; the H2 form names the
    // indexes.
    try (TestDatabases.Migrated db = TestDatabases.migrated(DatabaseSettings.Kind.H2, dir, "tags");
        Connection c = db.dataSource().getConnection()) {
      insertEvents(c, 30_000);
      try (PreparedStatement tag =
          c.prepareStatement(
              "INSERT INTO \"event_tag\" (\"event_id\", \"tag\") SELECT \"ordering\", 'workflow-0'"
                  + " FROM \"event_journal\" WHERE MOD(\"ordering\", 10) = 0")) {
        tag.executeUpdate();
      }
      assertThat(
              plan(
                  c,
                  TagRangeReadJournalDao.EVENTS_BY_TAG_SQL_H2,
                  "workflow-0",
                  29_000L,
                  30_000L,
                  500L))
          .contains("event_tag_tag_idx: ")
          .contains("event_journal_ordering_idx: ")
          .doesNotContain("tableScan");
    }
  }

  @Test
  void journalSequenceAnswersAsThePluginsQueryDoesOnH2() throws Exception {
    try (TestDatabases.Migrated db =
        TestDatabases.migrated(DatabaseSettings.Kind.H2, dir, "sequence")) {
      journalSequenceAnswersAsThePluginsQuery(db, true);
    }
  }

  @Test
  void journalSequenceAnswersAsThePluginsQueryOnPostgres() throws Exception {
    try (TestDatabases.Migrated db =
        TestDatabases.migrated(DatabaseSettings.Kind.POSTGRES, dir, "sequence")) {
      journalSequenceAnswersAsThePluginsQuery(db, false);
    }
  }

  @Test
  void postgresAnswersTheJournalSequenceFromTheOrderingIndexNotFromAScanOfTheJournal()
      throws Exception {
    // The plugin's form read the whole journal every second on a table without fresh statistics.
    try (TestDatabases.Migrated db =
            TestDatabases.migrated(DatabaseSettings.Kind.POSTGRES, dir, "sequence");
        Connection c = db.dataSource().getConnection()) {
      insertEvents(c, 30_000);
      assertThat(
              plan(
                  c,
                  TagRangeReadJournalDao.JOURNAL_SEQUENCE_SQL,
                  29_000L,
                  29_000L,
                  10_000L,
                  10_000L))
          .contains("event_journal_ordering_idx")
          .doesNotContain("Seq Scan");
    }
  }

  @Test
  void h2AnswersTheJournalSequenceFromTheOrderingIndexReadingOnlyTheRowsItReturns()
      throws Exception {
    // H2 answered the one-statement form by reading every ordering above the offset, twice: the
    // two statements must each read only what they return (EXPLAIN ANALYZE counts rows read).
    try (TestDatabases.Migrated db =
            TestDatabases.migrated(DatabaseSettings.Kind.H2, dir, "sequence");
        Connection c = db.dataSource().getConnection()) {
      insertEvents(c, 30_000);
      String next =
          explained(c, "EXPLAIN ANALYZE", TagRangeReadJournalDao.FIRST_ORDERING_AFTER_SQL, 1_000L);
      assertThat(next).contains("index sorted").doesNotContain("tableScan");
      assertThat(rowsRead(next)).as(next).isLessThanOrEqualTo(2);
      String range =
          explained(
              c,
              "EXPLAIN ANALYZE",
              TagRangeReadJournalDao.ORDERINGS_FROM_SQL,
              1_001L,
              1_001L,
              500L,
              500L);
      assertThat(range).contains("index sorted").doesNotContain("tableScan");
      assertThat(rowsRead(range)).as(range).isLessThanOrEqualTo(501);
    }
  }

  /** H2's count of rows read, from {@code EXPLAIN ANALYZE}'s {@code scanCount} comments. */
  private static long rowsRead(String analyzedPlan) {
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("scanCount: (\\d+)").matcher(analyzedPlan);
    long total = 0;
    boolean found = false;
    while (m.find()) {
      total += Long.parseLong(m.group(1));
      found = true;
    }
    assertThat(found).as("scanCount in " + analyzedPlan).isTrue();
    return total;
  }

  /** The database's plan for {@code sql} with these parameters. */
  private static String plan(Connection c, String sql, Object... parameters) throws Exception {
    return explained(c, "EXPLAIN", sql, parameters);
  }

  /**
   * The database's plan for {@code sql} with these parameters, as {@code explain} prints it, one
   * line per row.
   */
  private static String explained(Connection c, String explain, String sql, Object... parameters)
      throws Exception {
    try (PreparedStatement query = c.prepareStatement(explain + " " + sql)) {
      for (int i = 0; i < parameters.length; i++) query.setObject(i + 1, parameters[i]);
      StringBuilder plan = new StringBuilder();
      try (ResultSet rows = query.executeQuery()) {
        while (rows.next()) plan.append(rows.getString(1)).append('\n');
      }
      return plan.toString();
    }
  }

  private static void journalSequenceAnswersAsThePluginsQuery(TestDatabases.Migrated db, boolean h2)
      throws Exception {
    try (Connection c = db.dataSource().getConnection()) {
      insertEvents(c, 300);
      // Gaps, as rolled-back writes leave them: one ordering, then a run longer than some limits.
      try (PreparedStatement delete =
          c.prepareStatement(
              "DELETE FROM \"event_journal\" WHERE \"ordering\" = 40 OR \"ordering\" BETWEEN 100"
                  + " AND 219")) {
        delete.executeUpdate();
      }
      for (long offset : new long[] {0, 39, 40, 41, 99, 150, 219, 299, 300, 1_000}) {
        for (long limit : new long[] {1, 7, 50, 10_000}) {
          List<Long> plugins =
              orderings(
                  c,
                  "SELECT \"ordering\" FROM \"event_journal\" WHERE \"ordering\" > ?"
                      + " ORDER BY \"ordering\" LIMIT ?",
                  offset,
                  limit);
          List<Long> ours =
              TagRangeReadJournalDao.orderingsAfter(c, h2, offset, limit).stream()
                  .map(o -> (Long) o)
                  .collect(Collectors.toList());
          // The plugin's answer up to first + limit: all of it without a gap in that range.
          long end = plugins.isEmpty() ? Long.MAX_VALUE : plugins.get(0) + limit;
          assertThat(ours)
              .as("after %d, at most %d", offset, limit)
              .isEqualTo(plugins.stream().filter(o -> o < end).collect(Collectors.toList()));
        }
      }
    }
  }

  private static List<Long> orderings(Connection c, String sql, long offset, long limit)
      throws Exception {
    List<Long> found = new ArrayList<>();
    try (PreparedStatement query = c.prepareStatement(sql)) {
      query.setLong(1, offset);
      query.setLong(2, limit);
      try (ResultSet rows = query.executeQuery()) {
        while (rows.next()) found.add(rows.getLong(1));
      }
    }
    return found;
  }

  /** {@code count} events of one entity with orderings 1..count on a fresh journal. */
  private static void insertEvents(Connection c, int count) throws Exception {
    try (PreparedStatement insert =
        c.prepareStatement(
            """
            INSERT INTO "event_journal" ("deleted", "persistence_id", "sequence_number", "writer", "write_timestamp",
              "adapter_manifest", "event_payload", "event_ser_id", "event_ser_manifest")
            VALUES (FALSE, 'thing|one', ?, 'test', 0, '', ?, 1, '')\
            """)) {
      for (int i = 1; i <= count; i++) {
        insert.setLong(1, i);
        insert.setBytes(2, new byte[] {1});
        insert.addBatch();
        if (i % 1_000 == 0) insert.executeBatch();
      }
      insert.executeBatch();
    }
  }

  /** What runs against an actor system on the test's database. */
  private interface SystemBody {
    void run(ActorSystem<Void> system) throws Exception;
  }

  /**
   * Runs {@code body} with an actor system whose journal is {@code settings}' database, then
   * terminates it.
   */
  private static void withSystem(DatabaseSettings settings, SystemBody body) throws Exception {
    ActorSystem<Void> system =
        ActorSystem.create(
            Behaviors.empty(),
            "tags",
            PersistenceConfig.forDatabase(settings, 2).withFallback(ConfigFactory.load()));
    try {
      body.run(system);
    } finally {
      system.terminate();
      system
          .getWhenTerminated()
          .toCompletableFuture()
          .get(30, java.util.concurrent.TimeUnit.SECONDS);
    }
  }

  private void readsOneTagInOrderFromAnOffset(TestDatabases.Migrated db, DatabaseSettings settings)
      throws Exception {
    withSystem(
        settings,
        system -> {
          assertThat(system.settings().config().getString("jdbc-read-journal.dao"))
              .isEqualTo(TagRangeReadJournalDao.class.getName());
          Serializer strings = SerializationExtension.get(system).serializerFor(String.class);
          // Two entities interleave two tags; one event of tag "a" is deleted.
          List<Long> orderingsOfA = new ArrayList<>();
          try (Connection c = db.dataSource().getConnection()) {
            for (int i = 1; i <= 6; i++) {
              String pid = "thing|" + (i % 2 == 0 ? "even" : "odd");
              long seqNr = (i + 1) / 2;
              long ordering = insertEvent(c, strings, pid, seqNr, "event-" + i, i == 5);
              String tag = i <= 4 ? "a" : "b";
              if (i == 6) tag = "a";
              insertTag(c, ordering, tag);
              if (tag.equals("a") && i != 5) orderingsOfA.add(ordering);
            }
          }
          JdbcReadJournal journal =
              PersistenceQuery.get(system)
                  .getReadJournalFor(JdbcReadJournal.class, JdbcReadJournal.Identifier());

          List<EventEnvelope> all = currentEventsByTag(system, journal, "a", Offset.noOffset());
          assertThat(all)
              .extracting(e -> (String) e.event())
              .containsExactly("event-1", "event-2", "event-3", "event-4", "event-6");
          assertThat(all)
              .extracting(e -> ((Sequence) e.offset()).value())
              .containsExactlyElementsOf(orderingsOfA);
          assertThat(all.get(1).persistenceId()).isEqualTo("thing|even");
          assertThat(all.get(1).sequenceNr()).isEqualTo(1);

          List<EventEnvelope> later =
              currentEventsByTag(system, journal, "a", Offset.sequence(orderingsOfA.get(2)));
          assertThat(later)
              .extracting(e -> (String) e.event())
              .containsExactly("event-4", "event-6");

          assertThat(currentEventsByTag(system, journal, "b", Offset.noOffset())).isEmpty();
        });
  }

  private static List<EventEnvelope> currentEventsByTag(
      ActorSystem<?> system, JdbcReadJournal journal, String tag, Offset from) throws Exception {
    return journal
        .currentEventsByTag(tag, from)
        .runWith(Sink.seq(), system)
        .toCompletableFuture()
        .get(Duration.ofSeconds(20).toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
        .stream()
        .collect(Collectors.toList());
  }

  private static long insertEvent(
      Connection c, Serializer serializer, String pid, long seqNr, String event, boolean deleted)
      throws Exception {
    try (PreparedStatement insert =
        c.prepareStatement(
            """
            INSERT INTO "event_journal" ("deleted", "persistence_id", "sequence_number", "writer", "write_timestamp",
              "adapter_manifest", "event_payload", "event_ser_id", "event_ser_manifest")
            VALUES (?, ?, ?, 'test', 0, '', ?, ?, '')\
            """,
            new String[] {"ordering"})) {
      insert.setBoolean(1, deleted);
      insert.setString(2, pid);
      insert.setLong(3, seqNr);
      insert.setBytes(4, serializer.toBinary(event));
      insert.setInt(5, serializer.identifier());
      insert.executeUpdate();
      try (ResultSet keys = insert.getGeneratedKeys()) {
        keys.next();
        return keys.getLong(1);
      }
    }
  }

  private static void insertTag(Connection c, long ordering, String tag) throws Exception {
    try (PreparedStatement insert =
        c.prepareStatement("INSERT INTO \"event_tag\" (\"event_id\", \"tag\") VALUES (?, ?)")) {
      insert.setLong(1, ordering);
      insert.setString(2, tag);
      insert.executeUpdate();
    }
  }
}
