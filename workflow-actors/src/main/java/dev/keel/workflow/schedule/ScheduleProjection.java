package dev.keel.workflow.schedule;

import com.typesafe.config.Config;
import dev.keel.persistence.EventTags;
import dev.keel.persistence.KeelJdbcSession;
import dev.keel.workflow.readmodel.ProjectionLag;
import java.time.Duration;
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
import org.apache.pekko.projection.jdbc.javadsl.JdbcProjection;

/**
 * Runs one projection instance per schedule tag, spread over the cluster by sharded daemon
 * processes, each writing {@code keel_schedules} and its offset in one transaction (exactly once).
 */
public final class ScheduleProjection {

  private ScheduleProjection() {}

  public static void init(ActorSystem<?> system, DataSource dataSource, ProjectionLag lag) {
    Config config = system.settings().config();
    int tagCount = config.getInt("keel.persistence.tags-per-entity-type");
    int batchSize = config.getInt("keel.schedules.projection-batch-size");
    Duration window = config.getDuration("keel.schedules.projection-batch-window");
    List<String> tags = EventTags.allTags(Schedule.ENTITY_TYPE, tagCount);
    ShardedDaemonProcess.get(system).init(
        ProjectionBehavior.Command.class,
        "schedule-projection",
        tags.size(),
        i -> ProjectionBehavior.create(projection(system, dataSource, tags.get(i), lag, batchSize, window)),
        ShardedDaemonProcessSettings.create(system),
        Optional.of(ProjectionBehavior.stopMessage()));
  }

  static GroupedProjection<Offset, EventEnvelope<Schedule.Event>> projection(
      ActorSystem<?> system, DataSource dataSource, String tag, ProjectionLag lag, int batchSize, Duration window) {
    SourceProvider<Offset, EventEnvelope<Schedule.Event>> source =
        EventSourcedProvider.eventsByTag(system, JdbcReadJournal.Identifier(), tag);
    return JdbcProjection.groupedWithin(
            ProjectionId.of("schedules", tag),
            source,
            () -> new KeelJdbcSession(dataSource),
            () -> new ScheduleProjectionHandler(tag, lag),
            system)
        .withGroup(batchSize, window);
  }
}
