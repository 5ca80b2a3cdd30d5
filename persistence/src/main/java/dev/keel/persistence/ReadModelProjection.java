package dev.keel.persistence;

import java.sql.Connection;
import java.sql.SQLException;
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
import org.apache.pekko.projection.jdbc.javadsl.JdbcHandler;
import org.apache.pekko.projection.jdbc.javadsl.JdbcProjection;

/**
 * A SQL read model fed by one entity type's tagged events: one projection instance per tag, spread
 * over the cluster as sharded daemon processes, each applying a batch of events and storing its
 * offset in one transaction (exactly once).
 */
public final class ReadModelProjection {

  /** The row changes for one event, inside the projection's transaction. */
  @FunctionalInterface
  public interface RowUpdater<E> {
    void apply(Connection connection, String entityId, E event) throws SQLException;
  }

  /** Where a read model lives and how it batches. */
  public record Spec<E>(String entityType, String name, RowUpdater<E> updater, int batchSize, Duration batchWindow) {}

  private ReadModelProjection() {}

  public static <E> void init(ActorSystem<?> system, DataSource dataSource, ProjectionLag lag, Spec<E> spec) {
    int tagCount = EventTags.tagCount(system);
    List<String> tags = EventTags.allTags(spec.entityType(), tagCount);
    ShardedDaemonProcess.get(system).init(
        ProjectionBehavior.Command.class,
        spec.name() + "-projection",
        tags.size(),
        i -> ProjectionBehavior.create(projection(system, dataSource, tags.get(i), lag, spec)),
        ShardedDaemonProcessSettings.create(system),
        Optional.of(ProjectionBehavior.stopMessage()));
  }

  static <E> GroupedProjection<Offset, EventEnvelope<E>> projection(
      ActorSystem<?> system, DataSource dataSource, String tag, ProjectionLag lag, Spec<E> spec) {
    return JdbcProjection.groupedWithin(
            ProjectionId.of(spec.name(), tag),
            EventSourcedProvider.<E>eventsByTag(system, JdbcReadJournal.Identifier(), tag),
            () -> new KeelJdbcSession(dataSource),
            () -> new Handler<>(tag, lag, spec.updater()),
            system)
        .withGroup(spec.batchSize(), spec.batchWindow());
  }

  /** Applies a batch in one transaction and records how far behind the journal it is. */
  public static final class Handler<E> extends JdbcHandler<List<EventEnvelope<E>>, KeelJdbcSession> {
    private final String tag;
    private final ProjectionLag lag;
    private final RowUpdater<E> updater;

    public Handler(String tag, ProjectionLag lag, RowUpdater<E> updater) {
      this.tag = tag;
      this.lag = lag;
      this.updater = updater;
    }

    @Override
    public void process(KeelJdbcSession session, List<EventEnvelope<E>> envelopes) throws Exception {
      session.withConnection(connection -> {
        for (EventEnvelope<E> envelope : envelopes) {
          updater.apply(connection, entityId(envelope.persistenceId()), envelope.event());
        }
        return null;
      });
      if (!envelopes.isEmpty()) {
        lag.record(tag, Instant.ofEpochMilli(envelopes.get(envelopes.size() - 1).timestamp()));
      }
    }
  }

  /** {@code <type>|<id>} → {@code <id>}. */
  static String entityId(String persistenceId) {
    return persistenceId.substring(persistenceId.indexOf('|') + 1);
  }
}
