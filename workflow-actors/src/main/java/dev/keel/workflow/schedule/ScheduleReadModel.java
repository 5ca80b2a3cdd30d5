package dev.keel.workflow.schedule;

import dev.keel.persistence.BadCursorException;
import dev.keel.persistence.IdCursor;
import dev.keel.persistence.ReadModelSql;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import javax.sql.DataSource;

/**
 * Lists schedules from the projected table, by id ascending, paged by a keyset cursor (the last id
 * of a page). Eventually consistent with the journal (the projection's lag); a single schedule is
 * read from its entity.
 */
public final class ScheduleReadModel {

  /** A schedule as the list shows it: its view without the input. */
  public record ScheduleSummary(
      String id,
      String workflow,
      String cron,
      String timezone,
      boolean paused,
      String tenantId,
      Instant nextRunAt,
      String lastRunWorkflowId,
      Instant lastRunAt,
      Instant createdAt,
      Instant updatedAt) {}

  public record Page(List<ScheduleSummary> items, String nextCursor) {}

  private final DataSource dataSource;
  private final Executor blocking;

  public ScheduleReadModel(DataSource dataSource, Executor blocking) {
    this.dataSource = dataSource;
    this.blocking = blocking;
  }

  /**
   * One page of schedules after {@code cursor} (null for the first page); {@code workflow}, {@code
   * paused} and {@code tenantId} filter when not null.
   *
   * @throws BadCursorException at once, when the cursor is not one a page handed out
   */
  public CompletionStage<Page> list(
      String workflow, Boolean paused, String tenantId, int limit, String cursor) {
    String afterId = cursor == null || cursor.isBlank() ? null : decodeCursor(cursor);
    return ReadModelSql.read(blocking, () -> query(workflow, paused, tenantId, limit, afterId));
  }

  private Page query(String workflow, Boolean paused, String tenantId, int limit, String afterId)
      throws SQLException {
    StringBuilder sql =
        new StringBuilder(
            "SELECT id, workflow, cron, timezone, paused, tenant_id, next_run_at,"
                + " last_run_workflow_id, last_run_at, created_at, updated_at FROM keel_schedules"
                + " WHERE 1 = 1");
    List<Object> args = new ArrayList<>();
    if (workflow != null) {
      sql.append(" AND workflow = ?");
      args.add(workflow);
    }
    if (paused != null) {
      sql.append(" AND paused = ?");
      args.add(paused);
    }
    if (tenantId != null) {
      sql.append(" AND tenant_id = ?");
      args.add(tenantId);
    }
    if (afterId != null) {
      sql.append(" AND id > ?");
      args.add(afterId);
    }
    sql.append(" ORDER BY id LIMIT ?");
    args.add(limit + 1);
    List<ScheduleSummary> items = new ArrayList<>();
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql.toString())) {
      for (int i = 0; i < args.size(); i++) ps.setObject(i + 1, args.get(i));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          items.add(
              new ScheduleSummary(
                  rs.getString(1),
                  rs.getString(2),
                  rs.getString(3),
                  rs.getString(4),
                  rs.getBoolean(5),
                  rs.getString(6),
                  ReadModelSql.instant(rs, 7),
                  rs.getString(8),
                  ReadModelSql.instant(rs, 9),
                  ReadModelSql.instant(rs, 10),
                  ReadModelSql.instant(rs, 11)));
        }
      }
    }
    String next = null;
    if (items.size() > limit) {
      items = items.subList(0, limit);
      next = IdCursor.encode(items.get(limit - 1).id());
    }
    return new Page(List.copyOf(items), next);
  }

  /**
   * The last id of the page a cursor continues from; routes call it to list a bad cursor with the
   * other bad parameters.
   *
   * @throws BadCursorException when {@code cursor} is not one a page handed out
   */
  public static String decodeCursor(String cursor) {
    return IdCursor.decode(cursor).orElseThrow(BadCursorException::new);
  }
}
