package dev.keel.tenant;

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

/** Lists tenants from {@code keel_tenants} by id ascending, paged by a keyset cursor. */
public final class TenantReadModel {

  public record TenantSummary(
      String id,
      String slug,
      String name,
      String plan,
      String status,
      String defaultDomain,
      Instant createdAt,
      Instant updatedAt) {}

  public record Page(List<TenantSummary> items, String nextCursor) {}

  private final DataSource dataSource;
  private final Executor blocking;

  public TenantReadModel(DataSource dataSource, Executor blocking) {
    this.dataSource = dataSource;
    this.blocking = blocking;
  }

  /**
   * @throws BadCursorException when {@code cursor} is not one a page handed out
   */
  public static String decodeCursor(String cursor) {
    return IdCursor.decode(cursor).orElseThrow(BadCursorException::new);
  }

  public CompletionStage<Page> list(String status, String plan, int limit, String cursor) {
    String afterId = cursor == null || cursor.isBlank() ? null : decodeCursor(cursor);
    return ReadModelSql.read(blocking, () -> query(status, plan, limit, afterId));
  }

  private Page query(String status, String plan, int limit, String afterId) throws SQLException {
    StringBuilder sql =
        new StringBuilder(
            "SELECT id, slug, name, plan, status, default_domain, created_at, updated_at FROM"
                + " keel_tenants WHERE 1 = 1");
    List<Object> args = new ArrayList<>();
    if (status != null) {
      sql.append(" AND status = ?");
      args.add(status);
    }
    if (plan != null) {
      sql.append(" AND plan = ?");
      args.add(plan);
    }
    if (afterId != null) {
      sql.append(" AND id > ?");
      args.add(afterId);
    }
    sql.append(" ORDER BY id LIMIT ?");
    args.add(limit + 1);
    List<TenantSummary> items = new ArrayList<>();
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql.toString())) {
      for (int i = 0; i < args.size(); i++) ps.setObject(i + 1, args.get(i));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          items.add(
              new TenantSummary(
                  rs.getString(1),
                  rs.getString(2),
                  rs.getString(3),
                  rs.getString(4),
                  rs.getString(5),
                  rs.getString(6),
                  ReadModelSql.instant(rs, 7),
                  ReadModelSql.instant(rs, 8)));
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
