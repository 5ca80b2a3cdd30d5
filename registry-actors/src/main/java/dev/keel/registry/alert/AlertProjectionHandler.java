package dev.keel.registry.alert;

import static dev.keel.persistence.ReadModelSql.ts;
import static dev.keel.persistence.ReadModelSql.update;

import dev.keel.registry.alert.AlertRule.AlertDefinition;
import dev.keel.registry.alert.AlertRule.Event;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * Keeps {@code keel_alerts} (the list, and every node's {@link AlertCatalog}) in step with tagged
 * alert events: one row per defined rule, with its definition and firing figures. Runs in the
 * projection's transaction, with its offset, so each batch lands exactly once (which the firing
 * count relies on).
 */
public final class AlertProjectionHandler {

  private AlertProjectionHandler() {}

  /** The row change for one event; the same figures as {@link AlertRule#apply} gives the view. */
  public static void apply(Connection c, String id, Event event) throws SQLException {
    if (event instanceof AlertRule.AlertDefined e) {
      AlertDefinition d = e.def();
      // A rule defined again after a delete starts afresh, as the entity does.
      update(c, "DELETE FROM keel_alerts WHERE id = ?", id);
      update(
          c,
          "INSERT INTO keel_alerts (id, service, condition, webhook, cooldown_seconds, tenant_id,"
              + " created_at, updated_at, last_fired_at, firing_count) VALUES (?, ?, ?, ?, ?, ?, ?,"
              + " ?, NULL, 0)",
          id,
          d.service(),
          d.condition(),
          d.webhook(),
          d.cooldownSeconds(),
          d.tenantId(),
          ts(e.at()),
          ts(e.at()));
    } else if (event instanceof AlertRule.AlertUpdated e) {
      AlertDefinition d = e.def();
      update(
          c,
          "UPDATE keel_alerts SET service = ?, condition = ?, webhook = ?, cooldown_seconds = ?,"
              + " tenant_id = ?, updated_at = ? WHERE id = ?",
          d.service(),
          d.condition(),
          d.webhook(),
          d.cooldownSeconds(),
          d.tenantId(),
          ts(e.at()),
          id);
    } else if (event instanceof AlertRule.AlertFired e) {
      // A firing is not a change of definition: updated_at stays, as in the entity's view.
      update(
          c,
          "UPDATE keel_alerts SET last_fired_at = ?, firing_count = firing_count + 1 WHERE id = ?",
          ts(e.firedAt()),
          id);
    } else if (event instanceof AlertRule.AlertDeleted) {
      update(c, "DELETE FROM keel_alerts WHERE id = ?", id);
    }
    // Deferrals, clears and deliveries change nothing the list shows.
  }
}
