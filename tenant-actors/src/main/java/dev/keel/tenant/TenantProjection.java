package dev.keel.tenant;

import static dev.keel.persistence.ReadModelSql.ts;
import static dev.keel.persistence.ReadModelSql.update;

import com.typesafe.config.Config;
import dev.keel.persistence.ProjectionLag;
import dev.keel.persistence.ReadModelProjection;
import dev.keel.tenant.Tenant.Event;
import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * The tenant list ({@code keel_tenants}), fed from tagged tenant events, exactly once per batch.
 */
public final class TenantProjection {

  private TenantProjection() {}

  public static void init(ActorSystem<?> system, DataSource dataSource, ProjectionLag lag) {
    Config config = system.settings().config();
    ReadModelProjection.init(
        system,
        dataSource,
        lag,
        new ReadModelProjection.Spec<Event>(
            Tenant.ENTITY_TYPE,
            "tenants",
            TenantProjection::apply,
            config.getInt("keel.tenants.projection-batch-size"),
            config.getDuration("keel.tenants.projection-batch-window")));
  }

  /** The row change for one event; the status is what {@link Tenant#apply} makes it. */
  public static void apply(Connection c, String id, Event event) throws SQLException {
    if (event instanceof Tenant.TenantCreated e) {
      Tenant.TenantProfile p = e.profile();
      update(
          c,
          "INSERT INTO keel_tenants (id, slug, name, plan, status, default_domain, created_at,"
              + " updated_at) VALUES (?, ?, ?, ?, 'provisioning', ?, ?, ?)",
          id,
          p.slug(),
          p.name(),
          p.plan(),
          p.defaultDomain(),
          ts(e.at()),
          ts(e.at()));
    } else if (event instanceof Tenant.TenantDeleted) {
      update(c, "DELETE FROM keel_tenants WHERE id = ?", id);
    } else if (event instanceof Tenant.ApiKeyRotated e) {
      update(c, "UPDATE keel_tenants SET updated_at = ? WHERE id = ?", ts(e.at()), id);
    } else {
      update(
          c,
          "UPDATE keel_tenants SET status = ?, updated_at = ? WHERE id = ?",
          statusAfter(event),
          ts(at(event)),
          id);
    }
  }

  private static String statusAfter(Event event) {
    if (event instanceof Tenant.TenantActivated || event instanceof Tenant.TenantReactivated)
      return "active";
    if (event instanceof Tenant.TenantSuspended) return "suspended";
    if (event instanceof Tenant.TenantDeletionStarted) return "deleting";
    throw new IllegalArgumentException("no status change in " + event.getClass().getSimpleName());
  }

  private static java.time.Instant at(Event event) {
    if (event instanceof Tenant.TenantActivated e) return e.at();
    if (event instanceof Tenant.TenantReactivated e) return e.at();
    if (event instanceof Tenant.TenantSuspended e) return e.at();
    if (event instanceof Tenant.TenantDeletionStarted e) return e.at();
    throw new IllegalArgumentException("no instant in " + event.getClass().getSimpleName());
  }
}
