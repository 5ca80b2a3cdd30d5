package dev.keel.registry.alert;

import com.typesafe.config.Config;
import dev.keel.persistence.ProjectionLag;
import dev.keel.persistence.ReadModelProjection;
import javax.sql.DataSource;
import org.apache.pekko.actor.typed.ActorSystem;

/** The alert rule list ({@code keel_alerts}), fed from tagged alert events. */
public final class AlertProjection {

  private AlertProjection() {}

  public static void init(ActorSystem<?> system, DataSource dataSource, ProjectionLag lag) {
    Config config = system.settings().config();
    ReadModelProjection.init(
        system,
        dataSource,
        lag,
        new ReadModelProjection.Spec<AlertRule.Event>(
            AlertRule.ENTITY_TYPE,
            "alerts",
            AlertProjectionHandler::apply,
            config.getInt("keel.alerts.projection-batch-size"),
            config.getDuration("keel.alerts.projection-batch-window")));
  }
}
