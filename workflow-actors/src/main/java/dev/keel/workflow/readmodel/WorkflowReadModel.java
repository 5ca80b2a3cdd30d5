package dev.keel.workflow.readmodel;

import dev.keel.persistence.BadCursorException;
import dev.keel.persistence.ReadModelSql;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import javax.sql.DataSource;

/**
 * Lists executions from the projected table, newest first, paged by a keyset cursor. Eventually
 * consistent with the journal (the projection's lag); a single execution is read from its entity.
 */
public final class WorkflowReadModel {

  public static final Set<String> STATUSES =
      Set.of("running", "sleeping", "waiting", "paused", "completed", "failed", "cancelled");

  public record WorkflowSummary(
      String id,
      String workflow,
      String tenantId,
      String status,
      int version,
      Instant createdAt,
      Instant updatedAt,
      Instant completedAt) {}

  public record Page(List<WorkflowSummary> items, String nextCursor) {}

  private final DataSource dataSource;
  private final Executor blocking;

  public WorkflowReadModel(DataSource dataSource, Executor blocking) {
    this.dataSource = dataSource;
    this.blocking = blocking;
  }

  /**
   * Which executions a list or a count covers; a null field does not filter. {@code createdFrom} is
   * inclusive and {@code createdTo} exclusive; {@code idPrefix} matches ids that start with it.
   */
  public record Filter(
      String status,
      String workflow,
      String tenantId,
      Instant createdFrom,
      Instant createdTo,
      String idPrefix) {}

  /**
   * Executions by status under a filter (its status ignored); every status is present, 0 when none.
   */
  public record StatusCounts(Map<String, Long> counts, long total) {}

  public CompletionStage<Page> list(Filter filter, int limit, String cursor) {
    Cursor after = cursor == null || cursor.isBlank() ? null : Cursor.decode(cursor);
    return ReadModelSql.read(blocking, () -> query(filter, limit, after));
  }

  public CompletionStage<StatusCounts> countByStatus(Filter filter) {
    return ReadModelSql.read(blocking, () -> count(filter));
  }

  private StatusCounts count(Filter filter) throws SQLException {
    StringBuilder sql =
        new StringBuilder("SELECT status, COUNT(*) FROM keel_workflows WHERE 1 = 1");
    List<Object> args = new ArrayList<>();
    where(
        new Filter(
            null,
            filter.workflow(),
            filter.tenantId(),
            filter.createdFrom(),
            filter.createdTo(),
            filter.idPrefix()),
        sql,
        args);
    sql.append(" GROUP BY status");
    Map<String, Long> counts = ReadModelSql.countsBy(dataSource, sql.toString(), args, STATUSES);
    return new StatusCounts(counts, counts.values().stream().mapToLong(Long::longValue).sum());
  }

  private static void where(Filter filter, StringBuilder sql, List<Object> args) {
    if (filter.status() != null) {
      sql.append(" AND status = ?");
      args.add(filter.status());
    }
    if (filter.workflow() != null) {
      sql.append(" AND workflow = ?");
      args.add(filter.workflow());
    }
    if (filter.tenantId() != null) {
      sql.append(" AND tenant_id = ?");
      args.add(filter.tenantId());
    }
    if (filter.createdFrom() != null) {
      sql.append(" AND created_at >= ?");
      args.add(ReadModelSql.ts(filter.createdFrom()));
    }
    if (filter.createdTo() != null) {
      sql.append(" AND created_at < ?");
      args.add(ReadModelSql.ts(filter.createdTo()));
    }
    if (filter.idPrefix() != null) {
      sql.append(" AND id LIKE ?").append(ReadModelSql.LIKE_ESCAPE);
      args.add(ReadModelSql.startingWith(filter.idPrefix()));
    }
  }

  private Page query(Filter filter, int limit, Cursor after) throws SQLException {
    StringBuilder sql =
        new StringBuilder(
            "SELECT id, workflow, tenant_id, status, version, created_at, updated_at, completed_at"
                + " FROM keel_workflows WHERE 1 = 1");
    List<Object> args = new ArrayList<>();
    where(filter, sql, args);
    if (after != null) {
      sql.append(" AND (created_at < ? OR (created_at = ? AND id < ?))");
      OffsetDateTime at = ReadModelSql.ts(after.createdAt());
      args.add(at);
      args.add(at);
      args.add(after.id());
    }
    sql.append(" ORDER BY created_at DESC, id DESC LIMIT ?");
    args.add(limit + 1);
    List<WorkflowSummary> items = new ArrayList<>();
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql.toString())) {
      for (int i = 0; i < args.size(); i++) ps.setObject(i + 1, args.get(i));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          items.add(
              new WorkflowSummary(
                  rs.getString(1),
                  rs.getString(2),
                  rs.getString(3),
                  rs.getString(4),
                  rs.getInt(5),
                  ReadModelSql.instant(rs, 6),
                  ReadModelSql.instant(rs, 7),
                  ReadModelSql.instant(rs, 8)));
        }
      }
    }
    String next = null;
    if (items.size() > limit) {
      items = items.subList(0, limit);
      WorkflowSummary last = items.get(limit - 1);
      next = new Cursor(last.createdAt(), last.id()).encode();
    }
    return new Page(List.copyOf(items), next);
  }

  record Cursor(Instant createdAt, String id) {
    private static final Instant LATEST = Instant.parse("9999-12-31T23:59:59Z");

    String encode() {
      String raw = createdAt.truncatedTo(ChronoUnit.MICROS) + "|" + id;
      return Base64.getUrlEncoder()
          .withoutPadding()
          .encodeToString(raw.getBytes(StandardCharsets.UTF_8));
    }

    static Cursor decode(String cursor) {
      try {
        String raw =
            StandardCharsets.UTF_8
                .newDecoder()
                .decode(java.nio.ByteBuffer.wrap(Base64.getUrlDecoder().decode(cursor)))
                .toString();
        int bar = raw.indexOf('|');
        if (bar < 0) throw new BadCursorException();
        String id = raw.substring(bar + 1);
        // An id never holds a control character; a NUL would reach the query (PostgreSQL refuses
        // it).
        if (id.isEmpty() || id.length() > 256 || id.chars().anyMatch(Character::isISOControl))
          throw new BadCursorException();
        Instant createdAt = Instant.parse(raw.substring(0, bar));
        // Only instants a page handed out: one beyond year 9999 is out of the databases' timestamp
        // range.
        if (createdAt.isBefore(Instant.EPOCH) || createdAt.isAfter(LATEST))
          throw new BadCursorException();
        return new Cursor(createdAt, id);
      } catch (IllegalArgumentException
          | java.time.format.DateTimeParseException
          | java.nio.charset.CharacterCodingException e) {
        throw new BadCursorException();
      }
    }
  }
}
