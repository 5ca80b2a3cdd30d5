package dev.keel.workflow.schedule;

import static dev.keel.persistence.ReadModelSql.ts;
import static dev.keel.persistence.ReadModelSql.update;

import dev.keel.workflow.schedule.Schedule.Event;
import dev.keel.workflow.schedule.Schedule.ScheduleDefinition;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * Keeps {@code keel_schedules} (the list) in step with tagged schedule events: one row per live
 * schedule, with the fields of its view but the input. Runs in the projection's transaction, with
 * its offset, so each batch lands exactly once.
 */
public final class ScheduleProjectionHandler {

  private ScheduleProjectionHandler() {}

  /** The row change for one event; the same fields as {@link Schedule#apply} gives the view. */
  public static void apply(Connection c, String id, Event event) throws SQLException {
    if (event instanceof Schedule.ScheduleDefined e) {
      ScheduleDefinition d = e.def();
      // A schedule defined again after a delete starts afresh, as the entity does.
      update(c, "DELETE FROM keel_schedules WHERE id = ?", id);
      update(
          c,
          "INSERT INTO keel_schedules (id, workflow, cron, timezone, paused, tenant_id,"
              + " next_run_at, last_run_workflow_id, last_run_at, created_at, updated_at) VALUES"
              + " (?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?)",
          id,
          d.workflow(),
          d.cron(),
          d.timezone(),
          d.paused(),
          d.tenantId(),
          ts(e.nextRunAt()),
          ts(e.at()),
          ts(e.at()));
    } else if (event instanceof Schedule.ScheduleUpdated e) {
      ScheduleDefinition d = e.def();
      update(
          c,
          "UPDATE keel_schedules SET workflow = ?, cron = ?, timezone = ?, paused = ?, tenant_id ="
              + " ?, next_run_at = ?, updated_at = ? WHERE id = ?",
          d.workflow(),
          d.cron(),
          d.timezone(),
          d.paused(),
          d.tenantId(),
          ts(e.nextRunAt()),
          ts(e.at()),
          id);
    } else if (event instanceof Schedule.ScheduleTicked e) {
      // A tick is not a change of definition: updated_at stays, as in the entity's view.
      update(
          c,
          "UPDATE keel_schedules SET last_run_workflow_id = ?, last_run_at = ?, next_run_at = ?"
              + " WHERE id = ?",
          e.workflowId(),
          ts(e.tick()),
          ts(e.nextRunAt()),
          id);
    } else if (event instanceof Schedule.ScheduleDeleted) {
      update(c, "DELETE FROM keel_schedules WHERE id = ?", id);
    }
  }
}
