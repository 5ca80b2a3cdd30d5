package dev.keel.workflow.schedule;

import com.typesafe.config.Config;
import dev.keel.persistence.ProjectionLag;
import dev.keel.persistence.ReadModelProjection;
import javax.sql.DataSource;
import org.apache.pekko.actor.typed.ActorSystem;

/** The schedule list ({@code keel_schedules}), fed from tagged schedule events. */
public final class ScheduleProjection {

  private ScheduleProjection() {}

  public static void init(ActorSystem<?> system, DataSource dataSource, ProjectionLag lag) {
    Config config = system.settings().config();
    ReadModelProjection.init(
        system,
        dataSource,
        lag,
        new ReadModelProjection.Spec<Schedule.Event>(
            Schedule.ENTITY_TYPE,
            "schedules",
            ScheduleProjectionHandler::apply,
            config.getInt("keel.schedules.projection-batch-size"),
            config.getDuration("keel.schedules.projection-batch-window")));
  }
}
