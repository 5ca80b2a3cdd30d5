package dev.keel.persistence;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.ShardedDaemonProcessSettings;
import org.apache.pekko.cluster.sharding.typed.javadsl.ShardedDaemonProcess;
import org.apache.pekko.persistence.jdbc.query.javadsl.JdbcReadJournal;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.projection.ProjectionBehavior;
import org.apache.pekko.projection.ProjectionId;
import org.apache.pekko.projection.eventsourced.EventEnvelope;
import org.apache.pekko.projection.eventsourced.javadsl.EventSourcedProvider;
import org.apache.pekko.projection.javadsl.GroupedProjection;
import org.apache.pekko.projection.javadsl.SourceProvider;
import org.apache.pekko.projection.jdbc.javadsl.JdbcHandler;
import org.apache.pekko.projection.jdbc.javadsl.JdbcProjection;

/**
 * A SQL read model fed by one entity type's tagged events: one projection instance per tag, spread
 * over the cluster as sharded daemon processes, each applying a batch of events and storing its
 * offset in one transaction (exactly once). An event the tables cannot hold becomes a dead letter
 * in that same transaction ({@link ProjectionDeadLetters}) instead of stopping the projection.
 *
 * <p>On PostgreSQL every batch is fenced as the journal's are ({@link ClusterFence}): a cluster
 * that no longer owns the journal (a newer one formed while it was stalled or cut off) writes no
 * read-model row and no offset in the moments before it notices and stops.
 */
public final class ReadModelProjection {

  /** The row changes for one event, inside the projection's transaction. */
  @FunctionalInterface
  public interface RowUpdater<E> {
    void apply(Connection connection, String entityId, E event) throws SQLException;
  }

  /** One event of a batch, with the id of its entity. */
  public record Change<E>(String entityId, E event) {}

  /**
   * The row changes for a whole batch, inside the projection's transaction: what a read model
   * offers when it can fold a batch into fewer statements than one per event. It must leave the
   * tables as its {@link RowUpdater} applied event by event would; that one still runs when a batch
   * holds an event the tables cannot hold, to find it and record it as a dead letter.
   */
  @FunctionalInterface
  public interface BatchUpdater<E> {
    void apply(Connection connection, List<Change<E>> changes) throws SQLException;
  }

  /** Where a read model lives and how it batches; {@code batchUpdater} may be null. */
  public record Spec<E>(
      String entityType,
      String name,
      RowUpdater<E> updater,
      BatchUpdater<E> batchUpdater,
      int batchSize,
      Duration batchWindow) {

    /** A read model that applies its events one by one. */
    public Spec(
        String entityType,
        String name,
        RowUpdater<E> updater,
        int batchSize,
        Duration batchWindow) {
      this(entityType, name, updater, null, batchSize, batchWindow);
    }
  }

  private ReadModelProjection() {}

  public static <E> void init(
      ActorSystem<?> system, DataSource dataSource, ProjectionLag lag, Spec<E> spec) {
    int tagCount = EventTags.tagCount(system);
    List<String> tags = EventTags.allTags(spec.entityType(), tagCount);
    ProjectionDeadLetters deadLetters = ProjectionDeadLetters.of(system, spec.name());
    Optional<ClusterFence> fence = ClusterFence.of(system.classicSystem());
    ShardedDaemonProcess.get(system)
        .init(
            ProjectionBehavior.Command.class,
            spec.name() + "-projection",
            tags.size(),
            i ->
                ProjectionBehavior.create(
                    projection(
                        system,
                        dataSource,
                        EventSourcedProvider.<E>eventsByTag(
                            system, JdbcReadJournal.Identifier(), tags.get(i)),
                        tags.get(i),
                        lag,
                        deadLetters,
                        fence,
                        spec)),
            ShardedDaemonProcessSettings.create(system),
            Optional.of(ProjectionBehavior.stopMessage()));
  }

  static <E> GroupedProjection<Offset, EventEnvelope<E>> projection(
      ActorSystem<?> system,
      DataSource dataSource,
      SourceProvider<Offset, EventEnvelope<E>> events,
      String tag,
      ProjectionLag lag,
      ProjectionDeadLetters deadLetters,
      Optional<ClusterFence> fence,
      Spec<E> spec) {
    int timeoutSeconds = MeteredJournalDao.callTimeoutSeconds(system.settings().config());
    return JdbcProjection.groupedWithin(
            ProjectionId.of(spec.name(), tag),
            events,
            () -> new KeelJdbcSession(dataSource),
            () ->
                new Handler<>(
                    tag,
                    lag,
                    spec.updater(),
                    spec.batchUpdater(),
                    deadLetters,
                    fence,
                    timeoutSeconds),
            system)
        .withGroup(spec.batchSize(), spec.batchWindow());
  }

  /**
   * Applies a batch in one transaction and records how far behind the journal it is. An event the
   * tables cannot hold is rolled back alone and recorded as a dead letter; any other failure fails
   * the batch, which the projection retries. With a fence, a batch of a node whose cluster does not
   * own the journal, or that has not learnt its cluster's epoch yet (it just joined), fails before
   * it writes: the transaction, offset included, rolls back, and the projection retries later.
   */
  public static final class Handler<E>
      extends JdbcHandler<List<EventEnvelope<E>>, KeelJdbcSession> {
    private final String tag;
    private final ProjectionLag lag;
    private final RowUpdater<E> updater;
    private final BatchUpdater<E> batchUpdater;
    private final ProjectionDeadLetters deadLetters;
    private final Optional<ClusterFence> fence;
    private final int timeoutSeconds;

    /** Unfenced: the embedded H2 (one node in one JVM), and tests that drive a handler directly. */
    public Handler(
        String tag, ProjectionLag lag, RowUpdater<E> updater, ProjectionDeadLetters deadLetters) {
      this(tag, lag, updater, null, deadLetters, Optional.empty(), 0);
    }

    public Handler(
        String tag,
        ProjectionLag lag,
        RowUpdater<E> updater,
        BatchUpdater<E> batchUpdater,
        ProjectionDeadLetters deadLetters,
        Optional<ClusterFence> fence,
        int timeoutSeconds) {
      this.tag = tag;
      this.lag = lag;
      this.updater = updater;
      this.batchUpdater = batchUpdater;
      this.deadLetters = deadLetters;
      this.fence = fence;
      this.timeoutSeconds = timeoutSeconds;
    }

    @Override
    public void process(KeelJdbcSession session, List<EventEnvelope<E>> envelopes)
        throws Exception {
      session.withConnection(
          connection -> {
            // Outside the dead-letter handling below: a refused batch is retried, never a dead
            // letter.
            if (fence.isPresent()) fence.get().checkWithoutWaiting(connection, timeoutSeconds);
            // The offset is already written in this transaction: a failed event may roll back to
            // here, not further.
            Savepoint batch = connection.setSavepoint();
            try {
              if (batchUpdater != null) {
                List<Change<E>> changes = new java.util.ArrayList<>(envelopes.size());
                for (EventEnvelope<E> envelope : envelopes)
                  changes.add(new Change<>(entityId(envelope.persistenceId()), envelope.event()));
                batchUpdater.apply(connection, changes);
              } else {
                for (EventEnvelope<E> envelope : envelopes) apply(connection, envelope);
              }
            } catch (Exception e) {
              if (!ProjectionDeadLetters.unstorable(e)) throw e;
              // Rare: redo the batch one event at a time, each under a savepoint of its own.
              connection.rollback(batch);
              for (EventEnvelope<E> envelope : envelopes)
                applyOrDeadLetter(session, connection, envelope);
            }
            // Not released: the commit ends it, and a RELEASE would cost every batch a round trip.
            return null;
          });
      if (!envelopes.isEmpty()) {
        lag.record(tag, Instant.ofEpochMilli(envelopes.get(envelopes.size() - 1).timestamp()));
      }
    }

    private void applyOrDeadLetter(
        KeelJdbcSession session, Connection connection, EventEnvelope<E> envelope)
        throws Exception {
      Savepoint one = connection.setSavepoint();
      try {
        apply(connection, envelope);
      } catch (Exception e) {
        if (!ProjectionDeadLetters.unstorable(e)) throw e;
        // On PostgreSQL the failed statement aborted the transaction: only a rollback to a
        // savepoint resumes it.
        connection.rollback(one);
        deadLetters.record(session, connection, tag, envelope, e);
      }
      connection.releaseSavepoint(one);
    }

    private void apply(Connection connection, EventEnvelope<E> envelope) throws SQLException {
      updater.apply(connection, entityId(envelope.persistenceId()), envelope.event());
    }
  }

  /** {@code <type>|<id>} → {@code <id>}. */
  static String entityId(String persistenceId) {
    return persistenceId.substring(persistenceId.indexOf('|') + 1);
  }
}
