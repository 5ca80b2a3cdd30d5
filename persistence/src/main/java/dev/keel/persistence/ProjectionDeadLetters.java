package dev.keel.persistence;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.projection.eventsourced.EventEnvelope;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The events one read model could not store, so that it goes on instead of stopping for good: a
 * value its table cannot hold (too long, a NUL on PostgreSQL, a duplicate key) fails the same way
 * on every retry, and a projection that retried it would leave every list of its entity type stale
 * for every tenant. Such an event gets a row in {@code keel_projection_dead_letters} in the
 * projection's own transaction (with its offset), one WARN line and a count in {@code
 * keel_projection_dead_letters_total{projection}} once that transaction commits.
 *
 * <p>Only errors of the data itself are dead letters: SQLState classes 22 (data exception) and 23
 * (integrity constraint), and a handler's own runtime exception (a bug that hits one kind of
 * event). Everything else — a lost connection, a timeout, a database restarting — fails the batch,
 * and the projection retries it with backoff: nothing may be lost while the database is away.
 *
 * <p>The row and the log line name the event (persistence id, sequence number, type) and the kind
 * of error, never a value from the event: database messages quote the rejected values, so they are
 * not copied.
 */
public final class ProjectionDeadLetters {

  private static final Logger log = LoggerFactory.getLogger(ProjectionDeadLetters.class);

  /**
   * Column widths of the migration (V12): values are cut to fit, so that the dead letter itself
   * always stores.
   */
  static final int MAX_ID = 255;

  static final int MAX_ERROR = 500;

  private static final Map<String, String> DATA_ERRORS =
      Map.ofEntries(
          Map.entry("22001", "value too long for its column"),
          Map.entry("22003", "numeric value out of range"),
          Map.entry("22004", "null value not allowed"),
          Map.entry("22007", "invalid datetime format"),
          Map.entry("22008", "datetime field overflow"),
          Map.entry("22018", "invalid character value for cast"),
          Map.entry(
              "22021",
              "invalid byte sequence for the database encoding (a NUL character on PostgreSQL)"),
          Map.entry("22P02", "invalid text representation"),
          Map.entry("22P05", "untranslatable character"),
          Map.entry("23502", "null value in a NOT NULL column"),
          Map.entry("23503", "foreign key violation"),
          Map.entry("23505", "duplicate key"),
          Map.entry("23514", "check constraint violated"));

  private final String projection;
  private final Clock clock;
  private final Counter counter;

  public ProjectionDeadLetters(String projection, MeterRegistry registry, Clock clock) {
    this.projection = projection;
    this.clock = clock;
    this.counter =
        Counter.builder("keel.projection.dead.letters")
            .tag("projection", projection)
            .description(
                "events this node's instances of the projection could not store and recorded as"
                    + " dead letters")
            .register(registry);
  }

  /**
   * For {@code projection} on {@code system}: counted in the node's registry when its setup carries
   * one.
   */
  public static ProjectionDeadLetters of(ActorSystem<?> system, String projection) {
    MeterRegistry registry =
        system
            .classicSystem()
            .settings()
            .setup()
            .get(JournalMeters.RegistrySetup.class)
            .map(JournalMeters.RegistrySetup::registry)
            .orElseGet(SimpleMeterRegistry::new);
    return new ProjectionDeadLetters(projection, registry, Clock.systemUTC());
  }

  /** Counted in a registry of its own: for tests that drive a handler directly. */
  public static ProjectionDeadLetters unmetered(String projection) {
    return new ProjectionDeadLetters(projection, new SimpleMeterRegistry(), Clock.systemUTC());
  }

  public String projection() {
    return projection;
  }

  /** Dead letters this node recorded (committed) since it started. */
  public double count() {
    return counter.count();
  }

  /**
   * Whether {@code failure} says that the event cannot be stored, however often it is retried (a
   * dead letter), rather than that the database is unavailable now (retry).
   */
  public static boolean unstorable(Throwable failure) {
    SQLException sql = sqlCause(failure);
    if (sql == null) return failure instanceof RuntimeException;
    String state = sql.getSQLState();
    return state != null && (state.startsWith("22") || state.startsWith("23"));
  }

  /**
   * Records {@code envelope} as a dead letter on {@code connection}, in the projection's
   * transaction; its log line and count follow when {@code session} commits.
   */
  void record(
      KeelJdbcSession session,
      Connection connection,
      String tag,
      EventEnvelope<?> envelope,
      Throwable failure)
      throws SQLException {
    String persistenceId = printable(envelope.persistenceId(), MAX_ID);
    String eventType = printable(envelope.event().getClass().getSimpleName(), MAX_ID);
    String error = printable(describe(failure), MAX_ERROR);
    ReadModelSql.update(
        connection,
        "INSERT INTO keel_projection_dead_letters (projection_name, projection_key,"
            + " persistence_id, sequence_number, event_type, error_message, event_at, recorded_at)"
            + " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        projection,
        tag,
        persistenceId,
        envelope.sequenceNr(),
        eventType,
        error,
        ReadModelSql.ts(Instant.ofEpochMilli(envelope.timestamp())),
        ReadModelSql.ts(clock.instant()));
    session.afterCommit(
        () -> {
          counter.increment();
          log.warn(
              "projection dead letter projection={} tag={} persistenceId={} sequenceNr={}"
                  + " eventType={} error=\"{}\"",
              projection,
              tag,
              persistenceId,
              envelope.sequenceNr(),
              eventType,
              error);
        });
  }

  /** The kind of error, without the values the database quotes in its messages. */
  static String describe(Throwable failure) {
    SQLException sql = sqlCause(failure);
    if (sql == null)
      return "the read model's handler failed: " + failure.getClass().getSimpleName();
    String state = sql.getSQLState() == null ? "" : sql.getSQLState();
    String what =
        DATA_ERRORS.getOrDefault(
            state,
            state.startsWith("23")
                ? "integrity constraint violation"
                : state.startsWith("22") ? "data exception" : "database error");
    StringBuilder text = new StringBuilder("SQLState ").append(state).append(": ").append(what);
    // PostgreSQL names the table, column and constraint apart from its message: identifiers, no
    // values.
    if (sql instanceof PSQLException pg && pg.getServerErrorMessage() != null) {
      ServerErrorMessage m = pg.getServerErrorMessage();
      if (m.getTable() != null) text.append("; table ").append(m.getTable());
      if (m.getColumn() != null) text.append("; column ").append(m.getColumn());
      if (m.getConstraint() != null) text.append("; constraint ").append(m.getConstraint());
    }
    return text.toString();
  }

  private static SQLException sqlCause(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof SQLException sql) return sql;
      if (t.getCause() == t) break;
    }
    return null;
  }

  /**
   * {@code text} without control characters (a NUL stores on no PostgreSQL column) or unpaired
   * surrogates, cut to at most {@code max} characters between code points.
   */
  static String printable(String text, int max) {
    StringBuilder out = new StringBuilder(Math.min(text.length(), max));
    for (int i = 0; i < text.length(); ) {
      int cp = text.codePointAt(i);
      if (out.length() + Character.charCount(cp) > max) break;
      boolean bad =
          Character.isISOControl(cp)
              || (cp >= Character.MIN_SURROGATE && cp <= Character.MAX_SURROGATE);
      out.appendCodePoint(bad ? '?' : cp);
      i += Character.charCount(cp);
    }
    return out.toString();
  }
}
