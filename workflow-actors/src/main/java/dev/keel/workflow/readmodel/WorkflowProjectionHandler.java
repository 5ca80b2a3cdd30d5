package dev.keel.workflow.readmodel;

import static dev.keel.persistence.ReadModelSql.ts;
import static dev.keel.persistence.ReadModelSql.update;

import dev.keel.workflow.execution.WorkflowExecution;
import dev.keel.workflow.execution.WorkflowExecution.Event;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;

/**
 * Keeps {@code keel_workflows} (the list) and {@code keel_workflow_wakeups} (the due index) in step
 * with tagged execution events. Runs in the projection's transaction, with its offset, so each
 * batch lands exactly once.
 */
public final class WorkflowProjectionHandler {

  private WorkflowProjectionHandler() {}

  public static void apply(Connection c, String id, Event event) throws SQLException {
    if (event instanceof WorkflowExecution.WorkflowStarted e) {
      update(
          c,
          "INSERT INTO keel_workflows (id, workflow, tenant_id, status, phase, paused, version,"
              + " created_at, updated_at) VALUES (?, ?, ?, 'running', 'running', FALSE, ?, ?, ?)",
          id,
          e.workflow(),
          e.tenantId(),
          e.version(),
          ts(e.at()),
          ts(e.at()));
    } else if (event instanceof WorkflowExecution.TimerStarted e) {
      phase(c, id, "sleeping", e.at());
      wakeAt(c, id, e.wakeAt());
    } else if (event instanceof WorkflowExecution.SignalAwaited e) {
      phase(c, id, "waiting", e.at());
      wakeAt(c, id, e.timeoutAt());
    } else if (event instanceof WorkflowExecution.StepFailed e) {
      if (e.retryAt() != null) wakeAt(c, id, e.retryAt());
    } else if (event instanceof WorkflowExecution.TimerFired
        || event instanceof WorkflowExecution.SignalTimedOut
        || event instanceof WorkflowExecution.SignalReceived
        || event instanceof WorkflowExecution.StepStarted) {
      phase(c, id, "running", event.at());
      update(c, "DELETE FROM keel_workflow_wakeups WHERE workflow_id = ?", id);
    } else if (event instanceof WorkflowExecution.WorkflowPaused e) {
      update(
          c,
          "UPDATE keel_workflows SET paused = TRUE, status = 'paused', updated_at = ? WHERE id = ?",
          ts(e.at()),
          id);
    } else if (event instanceof WorkflowExecution.WorkflowResumed e) {
      update(
          c,
          "UPDATE keel_workflows SET paused = FALSE, status = phase, updated_at = ? WHERE id = ?",
          ts(e.at()),
          id);
    } else if (event instanceof WorkflowExecution.WorkflowCompleted e) {
      finish(c, id, "completed", e.at());
    } else if (event instanceof WorkflowExecution.WorkflowFailed e) {
      finish(c, id, "failed", e.at());
    } else if (event instanceof WorkflowExecution.WorkflowCancelled e) {
      finish(c, id, "cancelled", e.at());
    } else if (event instanceof WorkflowExecution.WorkflowRetried e) {
      update(
          c,
          "UPDATE keel_workflows SET phase = 'running', status = 'running', paused = FALSE,"
              + " updated_at = ?, completed_at = NULL WHERE id = ?",
          ts(e.at()),
          id);
    }
  }

  private static void phase(Connection c, String id, String phase, Instant at) throws SQLException {
    update(
        c,
        "UPDATE keel_workflows SET phase = ?, status = CASE WHEN paused THEN 'paused' ELSE ? END,"
            + " updated_at = ? WHERE id = ?",
        phase,
        phase,
        ts(at),
        id);
  }

  private static void finish(Connection c, String id, String status, Instant at)
      throws SQLException {
    update(
        c,
        "UPDATE keel_workflows SET phase = ?, status = ?, paused = FALSE, updated_at = ?,"
            + " completed_at = ? WHERE id = ?",
        status,
        status,
        ts(at),
        ts(at),
        id);
    update(c, "DELETE FROM keel_workflow_wakeups WHERE workflow_id = ?", id);
  }

  private static void wakeAt(Connection c, String id, Instant at) throws SQLException {
    update(c, "DELETE FROM keel_workflow_wakeups WHERE workflow_id = ?", id);
    update(c, "INSERT INTO keel_workflow_wakeups (workflow_id, wake_at) VALUES (?, ?)", id, ts(at));
  }
}
