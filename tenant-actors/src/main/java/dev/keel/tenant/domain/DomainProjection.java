package dev.keel.tenant.domain;

import dev.keel.persistence.ProjectionLag;
import dev.keel.persistence.ReadModelProjection;
import javax.sql.DataSource;
import org.apache.pekko.actor.typed.ActorSystem;

/** The domain list ({@code keel_domains}), fed from tagged hostname events. */
public final class DomainProjection {

  private DomainProjection() {}

  public static void init(
      ActorSystem<?> system, DataSource dataSource, ProjectionLag lag, DomainSettings settings) {
    ReadModelProjection.init(
        system,
        dataSource,
        lag,
        new ReadModelProjection.Spec<CustomDomain.Event>(
            CustomDomain.ENTITY_TYPE,
            "domains",
            DomainProjectionHandler::apply,
            settings.projectionBatchSize(),
            settings.projectionBatchWindow()));
  }
}
