package dev.keel.registry.service;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.persistence.BadCursorException;
import dev.keel.persistence.IdCursor;
import dev.keel.persistence.ReadModelSql;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import javax.sql.DataSource;

/**
 * Lists services from the projected tables, by id ascending, paged by a keyset cursor (the last id
 * of a page). Eventually consistent with the journal (the projection's lag); the status here is the
 * journaled one, which is what {@code stale} is (it is recorded when it happens, not computed).
 */
public final class ServiceReadModel {

  /** A service as the list shows it, before the façade adds its last heartbeat. */
  public record ServiceSummary(
      String id,
      String name,
      String type,
      String endpoint,
      Map<String, String> metadata,
      String status,
      String tenantId,
      int ttlSeconds,
      Integer deregisterAfterSeconds,
      Instant registeredAt,
      Instant statusSince,
      Instant updatedAt) {}

  public record Page(List<ServiceSummary> items, String nextCursor) {}

  /** One {@code key=value} metadata filter. */
  public record MetadataFilter(String key, String value) {}

  /**
   * Which services a list or a count covers: {@code type}, {@code status} and {@code tenantId} when
   * not null, every metadata filter, and {@code search} (case-insensitive) within the id or the
   * name when not null.
   */
  public record Filter(
      String type, String status, List<MetadataFilter> metadata, String tenantId, String search) {
    public Filter {
      metadata = metadata == null ? List.of() : List.copyOf(metadata);
    }
  }

  /**
   * Services by status under a filter (its status ignored); every status is present, 0 when none.
   */
  public record StatusCounts(Map<String, Long> counts, long total) {}

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final TypeReference<Map<String, String>> STRING_MAP = new TypeReference<>() {};

  private final DataSource dataSource;
  private final Executor blocking;

  public ServiceReadModel(DataSource dataSource, Executor blocking) {
    this.dataSource = dataSource;
    this.blocking = blocking;
  }

  /**
   * One page of services after {@code cursor} (null for the first page); {@code type}, {@code
   * status} and {@code tenantId} filter when not null, every metadata filter must match.
   *
   * @throws BadCursorException at once, when the cursor is not one a page handed out
   */
  public CompletionStage<Page> list(Filter filter, int limit, String cursor) {
    String afterId = cursor == null || cursor.isBlank() ? null : decodeCursor(cursor);
    return ReadModelSql.read(blocking, () -> query(filter, limit, afterId));
  }

  public CompletionStage<StatusCounts> countByStatus(Filter filter) {
    return ReadModelSql.read(blocking, () -> count(filter));
  }

  /**
   * @throws BadCursorException when {@code cursor} is not one a page handed out
   */
  public static String decodeCursor(String cursor) {
    return IdCursor.decode(cursor).orElseThrow(BadCursorException::new);
  }

  private StatusCounts count(Filter filter) throws SQLException {
    StringBuilder sql =
        new StringBuilder("SELECT s.status, COUNT(*) FROM keel_services s WHERE 1 = 1");
    List<Object> args = new ArrayList<>();
    where(
        new Filter(filter.type(), null, filter.metadata(), filter.tenantId(), filter.search()),
        sql,
        args);
    sql.append(" GROUP BY s.status");
    Map<String, Long> counts =
        ReadModelSql.countsBy(dataSource, sql.toString(), args, ServiceRules.STATUSES);
    return new StatusCounts(counts, counts.values().stream().mapToLong(Long::longValue).sum());
  }

  private static void where(Filter filter, StringBuilder sql, List<Object> args) {
    if (filter.type() != null) {
      sql.append(" AND s.type = ?");
      args.add(filter.type());
    }
    if (filter.status() != null) {
      sql.append(" AND s.status = ?");
      args.add(filter.status());
    }
    if (filter.tenantId() != null) {
      sql.append(" AND s.tenant_id = ?");
      args.add(filter.tenantId());
    }
    for (MetadataFilter f : filter.metadata()) {
      sql.append(
          " AND EXISTS (SELECT 1 FROM keel_service_metadata m WHERE m.service_id = s.id AND"
              + " m.meta_key = ? AND m.meta_value = ?)");
      args.add(f.key());
      args.add(f.value());
    }
    if (filter.search() != null) {
      String pattern = ReadModelSql.containing(filter.search().toLowerCase(Locale.ROOT));
      sql.append(" AND (LOWER(s.id) LIKE ?")
          .append(ReadModelSql.LIKE_ESCAPE)
          .append(" OR LOWER(s.name) LIKE ?")
          .append(ReadModelSql.LIKE_ESCAPE)
          .append(")");
      args.add(pattern);
      args.add(pattern);
    }
  }

  private Page query(Filter filter, int limit, String afterId) throws SQLException {
    StringBuilder sql =
        new StringBuilder(
            "SELECT s.id, s.name, s.type, s.endpoint, s.metadata, s.status, s.tenant_id,"
                + " s.ttl_seconds, s.deregister_after_seconds, s.registered_at, s.status_since,"
                + " s.updated_at FROM keel_services s WHERE 1 = 1");
    List<Object> args = new ArrayList<>();
    where(filter, sql, args);
    if (afterId != null) {
      sql.append(" AND s.id > ?");
      args.add(afterId);
    }
    sql.append(" ORDER BY s.id LIMIT ?");
    args.add(limit + 1);
    List<ServiceSummary> items = new ArrayList<>();
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql.toString())) {
      for (int i = 0; i < args.size(); i++) ps.setObject(i + 1, args.get(i));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          int afterSeconds = rs.getInt(9);
          Integer deregisterAfter = rs.wasNull() ? null : afterSeconds;
          items.add(
              new ServiceSummary(
                  rs.getString(1),
                  rs.getString(2),
                  rs.getString(3),
                  rs.getString(4),
                  metadata(rs.getString(5)),
                  rs.getString(6),
                  rs.getString(7),
                  rs.getInt(8),
                  deregisterAfter,
                  ReadModelSql.instant(rs, 10),
                  ReadModelSql.instant(rs, 11),
                  ReadModelSql.instant(rs, 12)));
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

  private static Map<String, String> metadata(String json) throws SQLException {
    try {
      return JSON.readValue(json, STRING_MAP);
    } catch (IOException e) {
      throw new SQLException("keel_services.metadata is not a JSON object of strings", e);
    }
  }
}
