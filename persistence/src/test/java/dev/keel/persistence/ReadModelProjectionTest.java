package dev.keel.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.typesafe.config.ConfigFactory;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import javax.sql.DataSource;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.projection.ProjectionBehavior;
import org.apache.pekko.projection.eventsourced.EventEnvelope;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.LoggerFactory;

/**
 * A real JDBC projection (its offset store, its transactions, its restarts) over a fixed list of
 * events, on the embedded H2 and on PostgreSQL: an event the read model's table cannot hold is a
 * dead letter and the projection goes on; a lost connection is retried and dead-letters nothing; a
 * node whose cluster no longer owns the journal writes no row and no offset (PostgreSQL).
 */
class ReadModelProjectionTest {

  /** The read model of this test: one row per thing, its name at most 16 characters. */
  record Named(String name) {}

  private static final String PROJECTION = "things";
  private static final String TAG = "thing-0";
  private static final Instant T0 = Instant.parse("2026-05-04T10:00:00Z");
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir Path dir;

  private TestDatabases.Migrated database;
  private ActorSystem<Void> system;
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private final ListAppender<ILoggingEvent> logLines = new ListAppender<>();
  private final Logger deadLetterLog =
      (Logger) LoggerFactory.getLogger(ProjectionDeadLetters.class);

  @AfterEach
  void close() throws Exception {
    deadLetterLog.detachAppender(logLines);
    if (system != null) {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
    if (database != null) database.close();
  }

  @ParameterizedTest
  @EnumSource(DatabaseSettings.Kind.class)
  void anEventTheTableCannotHoldIsADeadLetterAndTheProjectionGoesOn(DatabaseSettings.Kind kind)
      throws Exception {
    open(kind);
    String tooLong = "secret-value-" + "x".repeat(40);
    List<EventEnvelope<Named>> events =
        List.of(
            envelope(1, "thing|a", 1, "alpha"),
            envelope(2, "thing|b", 1, tooLong),
            envelope(3, "thing|c", 1, "nul\u0000inside"),
            envelope(4, "thing|d", 1, "delta"));
    ProjectionDeadLetters deadLetters = run(events, (c, id, e) -> insertThing(c, id, e.name()));

    // PostgreSQL stores no NUL in text; H2 does.
    boolean postgres = kind == DatabaseSettings.Kind.POSTGRES;
    int expected = postgres ? 2 : 1;
    awaitUntil(
        () -> offset().equals(Optional.of(4L)) && deadLetters.count() == expected,
        "the offset reaches the last event, the dead letters counted");
    assertThat(things().keySet())
        .as("the events before and after the unstorable ones are stored")
        .containsExactlyElementsOf(postgres ? List.of("a", "d") : List.of("a", "c", "d"));

    List<Map<String, Object>> rows = deadLetterRows();
    assertThat(rows).hasSize(expected);
    Map<String, Object> first = rows.get(0);
    assertThat(first)
        .containsEntry("projection_name", PROJECTION)
        .containsEntry("projection_key", TAG)
        .containsEntry("persistence_id", "thing|b")
        .containsEntry("sequence_number", 1L)
        .containsEntry("event_type", "Named")
        .containsEntry("event_at", T0.plusSeconds(2));
    assertThat((String) first.get("error_message"))
        .startsWith("SQLState 22001: value too long for its column");
    if (postgres) {
      assertThat(rows.get(1)).containsEntry("persistence_id", "thing|c");
      assertThat((String) rows.get(1).get("error_message"))
          .startsWith("SQLState 22021: invalid byte sequence");
    }
    assertThat(deadLetters.count()).isEqualTo(rows.size());
    assertThat(
            meters
                .get("keel.projection.dead.letters")
                .tag("projection", PROJECTION)
                .counter()
                .count())
        .isEqualTo(rows.size());

    // One line per dead letter, naming the event but none of its values.
    List<String> lines = logLines.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    assertThat(lines).hasSize(rows.size());
    assertThat(lines.get(0))
        .contains("projection=things", "persistenceId=thing|b", "sequenceNr=1", "eventType=Named");
    assertThat(String.join("\n", lines)).doesNotContain("secret-value").doesNotContain("nul");
    assertThat(rows.toString()).doesNotContain("secret-value");
  }

  @ParameterizedTest
  @EnumSource(DatabaseSettings.Kind.class)
  void aLostConnectionIsRetriedNotDeadLettered(DatabaseSettings.Kind kind) throws Exception {
    open(kind);
    Map<String, Integer> attempts = new ConcurrentHashMap<>();
    List<EventEnvelope<Named>> events =
        List.of(
            envelope(1, "thing|a", 1, "alpha"),
            envelope(2, "thing|b", 1, "bravo"),
            envelope(3, "thing|c", 1, "charlie"));
    ProjectionDeadLetters deadLetters =
        run(
            events,
            (c, id, e) -> {
              if (attempts.merge(id, 1, Integer::sum) == 1 && id.equals("b"))
                loseConnection(c, kind);
              insertThing(c, id, e.name());
            });

    awaitUntil(() -> offset().equals(Optional.of(3L)), "the offset reaches the last event");
    assertThat(things().keySet()).containsExactly("a", "b", "c");
    assertThat(attempts.get("b"))
        .as("the batch was retried after the connection was lost")
        .isGreaterThan(1);
    assertThat(deadLetterRows()).isEmpty();
    assertThat(deadLetters.count()).isZero();
    assertThat(logLines.list).isEmpty();
  }

  @Test
  void aNodeWhoseClusterNoLongerOwnsTheJournalWritesNoRowAndNoOffset_theCurrentClustersNodeDoes()
      throws Exception {
    open(DatabaseSettings.Kind.POSTGRES);
    ClusterLease lease = new ClusterLease(database.dataSource(), Duration.ofSeconds(5));
    ClusterFence stale = new ClusterFence(Duration.ofSeconds(1));
    stale.hold(lease.form("old#1", l -> true).getAsLong());
    // The old cluster stalls; a newer one forms on the same database before the old one notices.
    ClusterFence current = new ClusterFence(Duration.ofSeconds(1));
    current.hold(lease.form("young#2", l -> true).getAsLong());
    List<EventEnvelope<Named>> events =
        List.of(
            envelope(1, "thing|a", 1, "alpha"),
            envelope(2, "thing|b", 1, "bravo"),
            envelope(3, "thing|c", 1, "charlie"));
    ProjectionDeadLetters deadLetters =
        new ProjectionDeadLetters(PROJECTION, meters, Clock.systemUTC());

    AtomicInteger staleConnections = new AtomicInteger();
    ActorRef<ProjectionBehavior.Command> old =
        start(
            events,
            (c, id, e) -> insertThing(c, id, e.name()),
            counting(database.dataSource(), staleConnections),
            deadLetters,
            Optional.of(stale),
            "stale-projection");
    // One offset read and one batch would be all of a run that succeeds; more means refused
    // batches, retried.
    awaitUntil(
        () -> staleConnections.get() >= 6 || offset().isPresent(),
        "the stale node's projection tried its batch several times");
    assertThat(things()).as("read-model rows of the stale node").isEmpty();
    assertThat(offset()).as("offset of the stale node").isEmpty();
    assertThat(deadLetterRows()).as("a refused batch is no dead letter").isEmpty();
    old.tell(ProjectionBehavior.stopMessage());

    start(
        events,
        (c, id, e) -> insertThing(c, id, e.name()),
        database.dataSource(),
        deadLetters,
        Optional.of(current),
        "current-projection");
    awaitUntil(
        () -> offset().equals(Optional.of(3L)), "the current node's projection stores its offset");
    assertThat(things()).containsOnlyKeys("a", "b", "c");
    assertThat(deadLetterRows()).isEmpty();
  }

  @Test
  void onlyErrorsOfTheDataAreDeadLetters() {
    for (String state : List.of("22001", "22021", "22P02", "23505", "23502")) {
      assertThat(ProjectionDeadLetters.unstorable(new SQLException("x", state))).as(state).isTrue();
    }
    // Connection lost, admin shutdown (a restart), statement timeout, too many connections,
    // serialization failure, read-only standby, H2's closed connection: the database is away,
    // retry.
    for (String state :
        List.of("08006", "08003", "57P01", "57014", "53300", "40001", "25006", "90007")) {
      assertThat(ProjectionDeadLetters.unstorable(new SQLException("x", state)))
          .as(state)
          .isFalse();
    }
    assertThat(ProjectionDeadLetters.unstorable(new SQLException("no state"))).isFalse();
    assertThat(
            ProjectionDeadLetters.unstorable(
                new IllegalStateException("wrapped", new SQLException("x", "08006"))))
        .isFalse();
    assertThat(ProjectionDeadLetters.unstorable(new IllegalArgumentException("a handler's bug")))
        .isTrue();
    assertThat(ProjectionDeadLetters.unstorable(new OutOfMemoryError())).isFalse();

    assertThat(ProjectionDeadLetters.printable("tenant|a\u0000b\n\uD800", 255))
        .isEqualTo("tenant|a?b??");
    assertThat(ProjectionDeadLetters.printable("ab\uD83D\uDE00", 3))
        .as("never half a character")
        .isEqualTo("ab");
  }

  // ---------------------------------------------------------------- helpers

  private void open(DatabaseSettings.Kind kind) throws SQLException {
    database = TestDatabases.migrated(kind, dir, "dead-letters-test");
    try (Connection c = database.dataSource().getConnection();
        PreparedStatement s =
            c.prepareStatement(
                "CREATE TABLE test_things (id VARCHAR(16) PRIMARY KEY, name VARCHAR(16) NOT"
                    + " NULL)")) {
      s.executeUpdate();
    }
    DatabaseSettings settings =
        kind == DatabaseSettings.Kind.H2 ? TestDatabases.h2(dir) : database.postgres().settings();
    system =
        ActorSystem.create(
            Behaviors.empty(),
            "dead-letters",
            ConfigFactory.parseString(
                    // Retry soon: the connection test waits for the projection's restart.
                    "pekko.projection.restart-backoff { min-backoff = 200ms, max-backoff = 1s }")
                .withFallback(PersistenceConfig.forDatabase(settings, 2))
                .withFallback(ConfigFactory.load()));
    logLines.start();
    deadLetterLog.addAppender(logLines);
  }

  /**
   * Runs the projection over {@code events} (then no more), as the node runs it; answers its dead
   * letters.
   */
  private ProjectionDeadLetters run(
      List<EventEnvelope<Named>> events, ReadModelProjection.RowUpdater<Named> updater) {
    ProjectionDeadLetters deadLetters =
        new ProjectionDeadLetters(PROJECTION, meters, Clock.systemUTC());
    start(events, updater, database.dataSource(), deadLetters, Optional.empty(), "projection");
    return deadLetters;
  }

  private ActorRef<ProjectionBehavior.Command> start(
      List<EventEnvelope<Named>> events,
      ReadModelProjection.RowUpdater<Named> updater,
      DataSource dataSource,
      ProjectionDeadLetters deadLetters,
      Optional<ClusterFence> fence,
      String actorName) {
    ReadModelProjection.Spec<Named> spec =
        new ReadModelProjection.Spec<>("thing", PROJECTION, updater, 10, Duration.ofMillis(50));
    return system.systemActorOf(
        ProjectionBehavior.create(
            ReadModelProjection.projection(
                system,
                dataSource,
                new FixedEvents<>(events),
                TAG,
                new ProjectionLag(Clock.systemUTC()),
                deadLetters,
                fence,
                spec)),
        actorName,
        Props.empty());
  }

  /**
   * {@code dataSource}, counting the connections taken from it: a projection takes one per offset
   * read and per batch.
   */
  private static DataSource counting(DataSource dataSource, AtomicInteger connections) {
    return (DataSource)
        Proxy.newProxyInstance(
            DataSource.class.getClassLoader(),
            new Class<?>[] {DataSource.class},
            (proxy, method, args) -> {
              if (method.getName().equals("getConnection")) connections.incrementAndGet();
              try {
                return method.invoke(dataSource, args);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
            });
  }

  private static EventEnvelope<Named> envelope(
      long offset, String persistenceId, long seqNr, String name) {
    return EventEnvelope.create(
        Offset.sequence(offset),
        persistenceId,
        seqNr,
        new Named(name),
        T0.plusSeconds(offset).toEpochMilli());
  }

  private static void insertThing(Connection c, String id, String name) throws SQLException {
    ReadModelSql.update(c, "INSERT INTO test_things (id, name) VALUES (?, ?)", id, name);
  }

  /**
   * Breaks the projection's connection the way an outage does: PostgreSQL ends the session, or the
   * H2 connection closes.
   */
  private static void loseConnection(Connection c, DatabaseSettings.Kind kind) throws SQLException {
    if (kind == DatabaseSettings.Kind.POSTGRES) {
      try (PreparedStatement s =
          c.prepareStatement("SELECT pg_terminate_backend(pg_backend_pid())")) {
        s.execute();
      }
    } else {
      c.unwrap(org.h2.jdbc.JdbcConnection.class).close();
    }
  }

  private Optional<Long> offset() {
    try (Connection c = database.dataSource().getConnection();
        PreparedStatement s =
            c.prepareStatement(
                "SELECT \"current_offset\" FROM \"pekko_projection_offset_store\" WHERE"
                    + " \"projection_name\" = ? AND \"projection_key\" = ?")) {
      s.setString(1, PROJECTION);
      s.setString(2, TAG);
      try (ResultSet rs = s.executeQuery()) {
        return rs.next() ? Optional.of(Long.parseLong(rs.getString(1))) : Optional.empty();
      }
    } catch (SQLException e) {
      return Optional.empty();
    }
  }

  private Map<String, String> things() throws SQLException {
    Map<String, String> rows = new TreeMap<>();
    try (Connection c = database.dataSource().getConnection();
        PreparedStatement s = c.prepareStatement("SELECT id, name FROM test_things");
        ResultSet rs = s.executeQuery()) {
      while (rs.next()) rows.put(rs.getString(1), rs.getString(2));
    }
    return rows;
  }

  private List<Map<String, Object>> deadLetterRows() throws SQLException {
    List<Map<String, Object>> rows = new ArrayList<>();
    try (Connection c = database.dataSource().getConnection();
        PreparedStatement s =
            c.prepareStatement(
                "SELECT projection_name, projection_key, persistence_id, sequence_number,"
                    + " event_type, error_message, event_at, recorded_at FROM"
                    + " keel_projection_dead_letters ORDER BY id");
        ResultSet rs = s.executeQuery()) {
      while (rs.next()) {
        Map<String, Object> row = new TreeMap<>();
        row.put("projection_name", rs.getString(1));
        row.put("projection_key", rs.getString(2));
        row.put("persistence_id", rs.getString(3));
        row.put("sequence_number", rs.getLong(4));
        row.put("event_type", rs.getString(5));
        row.put("error_message", rs.getString(6));
        row.put("event_at", ReadModelSql.instant(rs, 7));
        row.put("recorded_at", ReadModelSql.instant(rs, 8));
        rows.add(row);
      }
    }
    return rows;
  }

  private static void awaitUntil(BooleanSupplier condition, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline)
        throw new AssertionError("not within " + WAIT + ": " + what);
      Thread.sleep(50);
    }
  }
}
