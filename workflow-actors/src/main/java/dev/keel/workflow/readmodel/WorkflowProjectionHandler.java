package dev.keel.workflow.readmodel;

import static dev.keel.persistence.ReadModelSql.ts;
import static dev.keel.persistence.ReadModelSql.update;

import dev.keel.persistence.ReadModelProjection.Change;
import dev.keel.workflow.execution.WorkflowExecution;
import dev.keel.workflow.execution.WorkflowExecution.Event;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Keeps {@code keel_workflows} (the list) and {@code keel_workflow_wakeups} (the due index) in step
 * with tagged execution events. Runs in the projection's transaction, with its offset, so each
 * batch lands exactly once.
 */
public final class WorkflowProjectionHandler {

  private WorkflowProjectionHandler() {}

  private static final String INSERT_ROW =
      "INSERT INTO keel_workflows (id, workflow, tenant_id, status, phase, paused, version,"
          + " created_at, updated_at, completed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
  private static final String INSERT_WAKEUP =
      "INSERT INTO keel_workflow_wakeups (workflow_id, wake_at) VALUES (?, ?)";
  private static final String FINISH =
      "UPDATE keel_workflows SET phase = ?, status = ?, paused = FALSE, updated_at = ?,"
          + " completed_at = ? WHERE id = ?";
  private static final String DELETE_WAKEUP =
      "DELETE FROM keel_workflow_wakeups WHERE workflow_id = ?";

  /**
   * A batch in as few statements as it allows, leaving the tables as {@link #apply} event by event
   * would. An execution whose start is in the batch is folded in memory into one row (and its
   * wake-up, if any), inserted with the others in one JDBC batch; an execution that only finished
   * in it joins one batched update; anything else goes event by event. Under load most executions
   * start and finish within one batch: three statements each (insert, update, delete) became a
   * share of one batch.
   */
  public static void applyBatch(Connection c, List<Change<Event>> changes) throws SQLException {
    Map<String, List<Event>> byId = new LinkedHashMap<>();
    for (Change<Event> change : changes)
      byId.computeIfAbsent(change.entityId(), k -> new ArrayList<>(4)).add(change.event());
    List<Row> started = new ArrayList<>();
    List<Row> finished = new ArrayList<>();
    List<Change<Event>> others = new ArrayList<>();
    byId.forEach(
        (id, events) -> {
          if (events.get(0) instanceof WorkflowExecution.WorkflowStarted s) {
            Row row = Row.started(id, s);
            for (int i = 1; i < events.size(); i++) row.fold(events.get(i));
            started.add(row);
          } else if (events.size() == 1 && finalStatus(events.get(0)) != null) {
            Row row = new Row(id);
            row.fold(events.get(0));
            finished.add(row);
          } else {
            for (Event e : events) others.add(new Change<>(id, e));
          }
        });
    if (!started.isEmpty()) {
      try (PreparedStatement rows = c.prepareStatement(INSERT_ROW);
          PreparedStatement wakeups = c.prepareStatement(INSERT_WAKEUP)) {
        boolean anyWakeup = false;
        for (Row r : started) {
          bind(rows, r.id, r.workflow, r.tenantId, r.status, r.phase, r.paused, r.version);
          bindFrom(rows, 8, ts(r.createdAt), ts(r.updatedAt), ts(r.completedAt));
          rows.addBatch();
          if (r.wakeAt != null) {
            bind(wakeups, r.id, ts(r.wakeAt));
            wakeups.addBatch();
            anyWakeup = true;
          }
        }
        rows.executeBatch();
        if (anyWakeup) wakeups.executeBatch();
      }
    }
    if (!finished.isEmpty()) {
      try (PreparedStatement rows = c.prepareStatement(FINISH);
          PreparedStatement wakeups = c.prepareStatement(DELETE_WAKEUP)) {
        for (Row r : finished) {
          bind(rows, r.phase, r.status, ts(r.updatedAt), ts(r.completedAt), r.id);
          rows.addBatch();
          bind(wakeups, r.id);
          wakeups.addBatch();
        }
        rows.executeBatch();
        wakeups.executeBatch();
      }
    }
    for (Change<Event> change : others) apply(c, change.entityId(), change.event());
  }

  private static void bind(PreparedStatement ps, Object... args) throws SQLException {
    bindFrom(ps, 1, args);
  }

  private static void bindFrom(PreparedStatement ps, int first, Object... args)
      throws SQLException {
    for (int i = 0; i < args.length; i++) ps.setObject(first + i, args[i]);
  }

  private static String finalStatus(Event event) {
    if (event instanceof WorkflowExecution.WorkflowCompleted) return "completed";
    if (event instanceof WorkflowExecution.WorkflowFailed) return "failed";
    if (event instanceof WorkflowExecution.WorkflowCancelled) return "cancelled";
    return null;
  }

  /** An execution's row and wake-up as {@link #apply}'s statements would leave them. */
  private static final class Row {
    final String id;
    String workflow;
    String tenantId;
    int version;
    String status;
    String phase;
    boolean paused;
    Instant createdAt;
    Instant updatedAt;
    Instant completedAt;
    Instant wakeAt;

    Row(String id) {
      this.id = id;
    }

    static Row started(String id, WorkflowExecution.WorkflowStarted e) {
      Row r = new Row(id);
      r.workflow = e.workflow();
      r.tenantId = e.tenantId();
      r.version = e.version();
      r.status = "running";
      r.phase = "running";
      r.createdAt = e.at();
      r.updatedAt = e.at();
      return r;
    }

    void fold(Event event) {
      if (event instanceof WorkflowExecution.TimerStarted e) {
        phase(e.at(), "sleeping");
        wakeAt = e.wakeAt();
      } else if (event instanceof WorkflowExecution.SignalAwaited e) {
        phase(e.at(), "waiting");
        wakeAt = e.timeoutAt();
      } else if (event instanceof WorkflowExecution.StepFailed e) {
        if (e.retryAt() != null) wakeAt = e.retryAt();
      } else if (event instanceof WorkflowExecution.TimerFired
          || event instanceof WorkflowExecution.SignalTimedOut
          || event instanceof WorkflowExecution.SignalReceived
          || event instanceof WorkflowExecution.StepStarted) {
        phase(event.at(), "running");
        wakeAt = null;
      } else if (event instanceof WorkflowExecution.WorkflowPaused e) {
        paused = true;
        status = "paused";
        updatedAt = e.at();
      } else if (event instanceof WorkflowExecution.WorkflowResumed e) {
        paused = false;
        status = phase;
        updatedAt = e.at();
      } else if (event instanceof WorkflowExecution.WorkflowRetried e) {
        phase = "running";
        status = "running";
        paused = false;
        updatedAt = e.at();
        completedAt = null;
      } else if (finalStatus(event) != null) {
        phase = finalStatus(event);
        status = phase;
        paused = false;
        updatedAt = event.at();
        completedAt = event.at();
        wakeAt = null;
      }
    }

    private void phase(Instant at, String newPhase) {
      phase = newPhase;
      status = paused ? "paused" : newPhase;
      updatedAt = at;
    }
  }

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
