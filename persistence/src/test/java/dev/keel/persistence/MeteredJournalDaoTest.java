package dev.keel.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.persistence.jdbc.journal.dao.JournalTables.JournalPekkoSerializationRow;
import org.apache.pekko.persistence.jdbc.query.javadsl.JdbcReadJournal;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import scala.Option;
import scala.Tuple2;
import scala.collection.immutable.Set;
import scala.jdk.javaapi.CollectionConverters;

/**
 * On PostgreSQL the journal writes each batch in three round trips: same rows, orderings and tags
 * as the plugin's write.
 */
class MeteredJournalDaoTest {

  @TempDir Path dir;

  @Test
  void aBatchLandsInBatchOrderWithItsMetadataAndEachTagOnItsOwnRow() throws Exception {
    try (TestDatabases.Migrated db =
            TestDatabases.migrated(DatabaseSettings.Kind.POSTGRES, dir, "writes");
        Connection c = db.dataSource().getConnection()) {
      List<Tuple2<JournalPekkoSerializationRow, Set<String>>> batch =
          List.of(
              row("thing|a", 1, "a1", null, "even"),
              row("thing|b", 1, "b1", "meta-b1"),
              row("thing|a", 2, "a2", null, "even", "odd"),
              row("thing|c", 7, "c7", null, "odd"));
      MeteredJournalDao.write(c, batch, 10);

      List<Stored> stored = stored(c);
      assertThat(stored)
          .extracting(Stored::pidAndSeqNr)
          .containsExactly("thing|a#1", "thing|b#1", "thing|a#2", "thing|c#7");
      assertThat(stored).extracting(Stored::payload).containsExactly("a1", "b1", "a2", "c7");
      assertThat(stored).extracting(Stored::orderingOf).isSorted();
      assertThat(stored).extracting(Stored::meta).containsExactly(null, "meta-b1", null, null);
      assertThat(stored)
          .extracting(Stored::tags)
          .containsExactly(List.of("even"), List.of(), List.of("even", "odd"), List.of("odd"));
    }
  }

  @Test
  void aBatchThatFailsLeavesNoneOfItsRowsOrTagsBehind() throws Exception {
    try (TestDatabases.Migrated db =
            TestDatabases.migrated(DatabaseSettings.Kind.POSTGRES, dir, "writes");
        Connection c = db.dataSource().getConnection()) {
      MeteredJournalDao.write(c, List.of(row("thing|a", 1, "a1", null)), 10);
      // The second row takes a sequence number already written: the whole batch is refused.
      List<Tuple2<JournalPekkoSerializationRow, Set<String>>> clashing =
          List.of(row("thing|b", 1, "b1", null, "even"), row("thing|a", 1, "a1 again", null));
      assertThatThrownBy(() -> MeteredJournalDao.write(c, clashing, 10))
          .isInstanceOf(SQLException.class);

      assertThat(stored(c)).extracting(Stored::pidAndSeqNr).containsExactly("thing|a#1");
      assertThat(count(c, "SELECT COUNT(*) FROM \"event_tag\"")).isZero();
      // The connection is usable afterwards: the next batch lands.
      MeteredJournalDao.write(c, List.of(row("thing|b", 1, "b1", null, "even")), 10);
      assertThat(stored(c))
          .extracting(Stored::pidAndSeqNr)
          .containsExactly("thing|a#1", "thing|b#1");
    }
  }

  @Test
  void aWriteBlockedInTheDatabaseGivesUpAfterItsTimeoutAndLeavesNothing() throws Exception {
    try (TestDatabases.Migrated db =
            TestDatabases.migrated(DatabaseSettings.Kind.POSTGRES, dir, "writes");
        Connection holder = db.dataSource().getConnection();
        Connection c = db.dataSource().getConnection()) {
      MeteredJournalDao.write(holder, List.of(row("thing|a", 1, "held", null)), 10);
      // Another transaction inserts the same key and stays undecided: the write waits on it until
      // cancelled.
      try (PreparedStatement again =
          holder.prepareStatement(
              """
              INSERT INTO "event_journal" ("deleted", "persistence_id", "sequence_number", "writer", "write_timestamp",
                "adapter_manifest", "event_payload", "event_ser_id", "event_ser_manifest")
              VALUES (FALSE, 'thing|z', 1, 'w', 0, '', ?, 1, '')\
              """)) {
        again.setBytes(1, new byte[] {1});
        holder.setAutoCommit(false);
        again.executeUpdate();
      }
      assertTimeoutPreemptively(
          Duration.ofSeconds(20),
          () ->
              assertThatThrownBy(
                      () ->
                          MeteredJournalDao.write(
                              c, List.of(row("thing|z", 1, "waits", null, "even")), 1))
                  .isInstanceOf(SQLException.class));
      holder.rollback();
      assertThat(stored(c)).extracting(Stored::pidAndSeqNr).containsExactly("thing|a#1");
      assertThat(count(c, "SELECT COUNT(*) FROM \"event_tag\"")).isZero();
    }
  }

  @Test
  void theStatementTimeoutIsTheJournalsCallTimeout() {
    // Keel sets none: Pekko's default for journal plugins.
    assertThat(MeteredJournalDao.callTimeoutSeconds(ConfigFactory.load())).isEqualTo(10);
    assertThat(
            MeteredJournalDao.callTimeoutSeconds(
                ConfigFactory.parseString("jdbc-journal.circuit-breaker.call-timeout = 5s")
                    .withFallback(ConfigFactory.load())))
        .isEqualTo(5);
  }

  @Test
  void entitiesWritingAtOnceReadBackInOrderByIdAndByTag() throws Exception {
    try (TestDatabases.Migrated db =
        TestDatabases.migrated(DatabaseSettings.Kind.POSTGRES, dir, "writes")) {
      ActorSystem<Void> system =
          ActorSystem.create(
              Behaviors.empty(),
              "writes",
              PersistenceConfig.forDatabase(db.postgres().settings(), 4)
                  .withFallback(ConfigFactory.load()));
      try {
        assertThat(system.settings().config().getString("jdbc-journal.dao"))
            .isEqualTo(MeteredJournalDao.class.getName());
        // Six entities, three commands each of three events, all sent at once: the journal's
        // batches mix them.
        List<CompletionStage<Done>> written = new ArrayList<>();
        Map<String, List<String>> sent = new LinkedHashMap<>();
        for (int e = 0; e < 6; e++) {
          String id = "t" + e;
          ActorRef<Persist> entity =
              system.systemActorOf(
                  Tagging.create(id), "thing-" + id, org.apache.pekko.actor.typed.Props.empty());
          for (int cmd = 0; cmd < 3; cmd++) {
            List<String> events = new ArrayList<>();
            for (int n = 0; n < 3; n++) events.add(id + "-" + (cmd * 3 + n));
            sent.computeIfAbsent(id, k -> new ArrayList<>()).addAll(events);
            written.add(
                AskPattern.ask(
                    entity,
                    replyTo -> new Persist(events, replyTo),
                    Duration.ofSeconds(20),
                    system.scheduler()));
          }
        }
        CompletableFuture.allOf(
                written.stream()
                    .map(CompletionStage::toCompletableFuture)
                    .toArray(CompletableFuture[]::new))
            .get(30, TimeUnit.SECONDS);

        JdbcReadJournal journal =
            PersistenceQuery.get(system)
                .getReadJournalFor(JdbcReadJournal.class, JdbcReadJournal.Identifier());
        for (Map.Entry<String, List<String>> e : sent.entrySet()) {
          List<EventEnvelope> replayed =
              journal
                  .currentEventsByPersistenceId("thing|" + e.getKey(), 0L, Long.MAX_VALUE)
                  .runWith(Sink.seq(), system)
                  .toCompletableFuture()
                  .get(20, TimeUnit.SECONDS);
          assertThat(replayed)
              .extracting(env -> (String) env.event())
              .containsExactlyElementsOf(e.getValue());
        }
        List<String> allSent =
            sent.values().stream().flatMap(List::stream).collect(Collectors.toList());
        for (String tag : List.of("even", "odd")) {
          List<EventEnvelope> tagged =
              journal
                  .currentEventsByTag(tag, Offset.noOffset())
                  .runWith(Sink.seq(), system)
                  .toCompletableFuture()
                  .get(20, TimeUnit.SECONDS);
          assertThat(tagged)
              .extracting(env -> (String) env.event())
              .containsExactlyInAnyOrderElementsOf(
                  allSent.stream().filter(ev -> Tagging.tagsOf(ev).contains(tag)).toList());
          // Each entity's events come in the order it wrote them.
          for (String id : sent.keySet()) {
            assertThat(tagged)
                .filteredOn(env -> env.persistenceId().equals("thing|" + id))
                .extracting(EventEnvelope::sequenceNr)
                .isSorted();
          }
        }
      } finally {
        system.terminate();
        system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
      }
    }
  }

  record Persist(List<String> events, ActorRef<Done> replyTo) {}

  /**
   * Persists what it is told; events ending in an even digit are tagged "even", in an odd one
   * "odd", in 0 both.
   */
  static final class Tagging extends EventSourcedBehavior<Persist, String, List<String>> {
    static org.apache.pekko.actor.typed.Behavior<Persist> create(String id) {
      return new Tagging(id);
    }

    private Tagging(String id) {
      super(PersistenceId.of("thing", id));
    }

    static java.util.Set<String> tagsOf(String event) {
      int digit = event.charAt(event.length() - 1) - '0';
      if (digit == 0) return java.util.Set.of("even", "odd");
      return java.util.Set.of(digit % 2 == 0 ? "even" : "odd");
    }

    @Override
    public List<String> emptyState() {
      return List.of();
    }

    @Override
    public CommandHandler<Persist, String, List<String>> commandHandler() {
      return newCommandHandlerBuilder()
          .forAnyState()
          .onCommand(
              Persist.class,
              (state, c) ->
                  Effect().persist(c.events()).thenRun(after -> c.replyTo().tell(Done.done())))
          .build();
    }

    @Override
    public EventHandler<List<String>, String> eventHandler() {
      return newEventHandlerBuilder()
          .forAnyState()
          .onAnyEvent(
              (state, event) -> {
                List<String> next = new ArrayList<>(state);
                next.add(event);
                return next;
              });
    }

    @Override
    public java.util.Set<String> tagsFor(String event) {
      return tagsOf(event);
    }
  }

  private record Stored(
      long orderingOf, String pidAndSeqNr, String payload, String meta, List<String> tags) {}

  private static List<Stored> stored(Connection c) throws SQLException {
    List<Stored> rows = new ArrayList<>();
    try (PreparedStatement q =
            c.prepareStatement(
                """
                SELECT j."ordering", j."persistence_id", j."sequence_number", j."event_payload", j."meta_payload",
                  (SELECT string_agg(t."tag", ',' ORDER BY t."tag") FROM "event_tag" t WHERE t."event_id" = j."ordering")
                FROM "event_journal" j ORDER BY j."ordering\"\
                """);
        ResultSet r = q.executeQuery()) {
      while (r.next()) {
        byte[] meta = r.getBytes(5);
        String tags = r.getString(6);
        rows.add(
            new Stored(
                r.getLong(1),
                r.getString(2) + "#" + r.getLong(3),
                new String(r.getBytes(4)),
                meta == null ? null : new String(meta),
                tags == null ? List.of() : List.of(tags.split(","))));
      }
    }
    return rows;
  }

  private static long count(Connection c, String sql) throws SQLException {
    try (PreparedStatement q = c.prepareStatement(sql);
        ResultSet r = q.executeQuery()) {
      r.next();
      return r.getLong(1);
    }
  }

  private static Tuple2<JournalPekkoSerializationRow, Set<String>> row(
      String pid, long seqNr, String payload, String meta, String... tags) {
    JournalPekkoSerializationRow row =
        new JournalPekkoSerializationRow(
            Long.MIN_VALUE,
            false,
            pid,
            seqNr,
            "writer-1",
            1_700_000_000_000L + seqNr,
            "",
            payload.getBytes(),
            1,
            "",
            Option.apply(meta == null ? null : meta.getBytes()),
            Option.apply(meta == null ? null : (Object) 1),
            Option.apply(meta == null ? null : "m"));
    return new Tuple2<>(row, CollectionConverters.asScala(new HashSet<>(List.of(tags))).toSet());
  }
}
