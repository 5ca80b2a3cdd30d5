package dev.keel.registry.service;

import com.typesafe.config.Config;
import dev.keel.persistence.ProjectionLag;
import dev.keel.persistence.ReadModelProjection;
import javax.sql.DataSource;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * The service list ({@code keel_services}, {@code keel_service_metadata}), fed from tagged service
 * events.
 */
public final class ServiceProjection {

  private ServiceProjection() {}

  public static void init(ActorSystem<?> system, DataSource dataSource, ProjectionLag lag) {
    Config config = system.settings().config();
    ReadModelProjection.init(
        system,
        dataSource,
        lag,
        new ReadModelProjection.Spec<RegisteredService.Event>(
            RegisteredService.ENTITY_TYPE,
            "services",
            ServiceProjectionHandler::apply,
            config.getInt("keel.services.projection-batch-size"),
            config.getDuration("keel.services.projection-batch-window")));
  }
}
