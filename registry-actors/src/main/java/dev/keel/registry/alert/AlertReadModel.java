package dev.keel.registry.alert;

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
 * Lists alert rules from the projected table, by id ascending, paged by a keyset cursor (the last
 * id of a page). Eventually consistent with the journal (the projection's lag); a single rule, with
 * its triggered services and firings, is read from its entity.
 */
public final class AlertReadModel {

  /**
   * A rule as the list shows it: its view without the live parts (triggered, deferred, firings).
   */
  public record AlertSummary(
      String id,
      String service,
      String condition,
      String webhook,
      int cooldownSeconds,
      String tenantId,
      Instant createdAt,
      Instant updatedAt,
      long firingCount,
      Instant lastFiredAt) {}

  public record Page(List<AlertSummary> items, String nextCursor) {}

  /** A rule as every node's {@link AlertCatalog} needs it. */
  public record CatalogRow(
      String id, String service, String condition, String tenantId, Instant updatedAt) {}

  private final DataSource dataSource;
  private final Executor blocking;

  public AlertReadModel(DataSource dataSource, Executor blocking) {
    this.dataSource = dataSource;
    this.blocking = blocking;
  }

  /**
   * One page of rules after {@code cursor} (null for the first page). {@code service} keeps the
   * rules whose {@code service} is exactly that ({@code *} for the rules that watch every service);
   * {@code tenantId} keeps one tenant's rules.
   *
   * @throws BadCursorException at once, when the cursor is not one a page handed out
   */
  public CompletionStage<Page> list(String service, String tenantId, int limit, String cursor) {
    String afterId = cursor == null || cursor.isBlank() ? null : decodeCursor(cursor);
    return ReadModelSql.read(blocking, () -> query(service, tenantId, limit, afterId));
  }

  /**
   * @throws BadCursorException when {@code cursor} is not one a page handed out
   */
  public static String decodeCursor(String cursor) {
    return IdCursor.decode(cursor).orElseThrow(BadCursorException::new);
  }

  /** Every rule, for the catalog. Blocks: call it on the blocking dispatcher. */
  public List<CatalogRow> allRules() throws SQLException {
    List<CatalogRow> rows = new ArrayList<>();
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT id, service, condition, tenant_id, updated_at FROM keel_alerts");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        rows.add(
            new CatalogRow(
                rs.getString(1),
                rs.getString(2),
                rs.getString(3),
                rs.getString(4),
                ReadModelSql.instant(rs, 5)));
      }
    }
    return rows;
  }

  private Page query(String service, String tenantId, int limit, String afterId)
      throws SQLException {
    StringBuilder sql =
        new StringBuilder(
            "SELECT id, service, condition, webhook, cooldown_seconds, tenant_id, created_at, "
                + "updated_at, firing_count, last_fired_at FROM keel_alerts WHERE 1 = 1");
    List<Object> args = new ArrayList<>();
    if (service != null) {
      sql.append(" AND service = ?");
      args.add(service);
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
    List<AlertSummary> items = new ArrayList<>();
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql.toString())) {
      for (int i = 0; i < args.size(); i++) ps.setObject(i + 1, args.get(i));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          items.add(
              new AlertSummary(
                  rs.getString(1),
                  rs.getString(2),
                  rs.getString(3),
                  rs.getString(4),
                  rs.getInt(5),
                  rs.getString(6),
                  ReadModelSql.instant(rs, 7),
                  ReadModelSql.instant(rs, 8),
                  rs.getLong(9),
                  ReadModelSql.instant(rs, 10)));
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
}
