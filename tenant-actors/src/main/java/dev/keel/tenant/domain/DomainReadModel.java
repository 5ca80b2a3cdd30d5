package dev.keel.tenant.domain;

import dev.keel.persistence.BadCursorException;
import dev.keel.persistence.IdCursor;
import dev.keel.persistence.ReadModelSql;
import dev.keel.persistence.grammar.Hostnames;
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
 * A tenant's hostnames from the projected table, by hostname ascending, paged by a keyset cursor
 * (the last hostname of a page). Eventually consistent with the journal (the projection's lag).
 * JDBC runs on {@code blocking}, never on the caller's thread.
 */
public final class DomainReadModel {

  /** A hostname as the list shows it. */
  public record DomainSummary(
      String hostname,
      String tenantId,
      String status,
      String certificateStatus,
      Instant createdAt,
      Instant updatedAt,
      Instant verifiedAt) {}

  public record Page(List<DomainSummary> items, String nextCursor) {}

  private final DataSource dataSource;
  private final Executor blocking;

  public DomainReadModel(DataSource dataSource, Executor blocking) {
    this.dataSource = dataSource;
    this.blocking = blocking;
  }

  /**
   * @throws BadCursorException when {@code cursor} is not one a page handed out
   */
  public static String decodeCursor(String cursor) {
    return IdCursor.decode(cursor, Hostnames.MAX_LENGTH).orElseThrow(BadCursorException::new);
  }

  /**
   * One page of {@code tenantId}'s hostnames after {@code cursor} (null for the first page).
   *
   * @throws BadCursorException at once, when the cursor is not one a page handed out
   */
  public CompletionStage<Page> list(String tenantId, int limit, String cursor) {
    String after = cursor == null || cursor.isBlank() ? null : decodeCursor(cursor);
    return ReadModelSql.read(blocking, () -> query(tenantId, limit, after));
  }

  /** How many hostnames {@code tenantId} holds (for its plan's quota). */
  public CompletionStage<Integer> count(String tenantId) {
    return ReadModelSql.read(
        blocking,
        () -> {
          try (Connection c = dataSource.getConnection();
              PreparedStatement ps =
                  c.prepareStatement("SELECT COUNT(*) FROM keel_domains WHERE tenant_id = ?")) {
            ps.setString(1, tenantId);
            try (ResultSet rs = ps.executeQuery()) {
              rs.next();
              return rs.getInt(1);
            }
          }
        });
  }

  private Page query(String tenantId, int limit, String after) throws SQLException {
    String sql =
        "SELECT hostname, tenant_id, status, certificate_status, created_at, updated_at,"
            + " verified_at FROM keel_domains WHERE tenant_id = ?"
            + (after == null ? "" : " AND hostname > ?")
            + " ORDER BY hostname LIMIT ?";
    List<DomainSummary> items = new ArrayList<>();
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      int i = 1;
      ps.setString(i++, tenantId);
      if (after != null) ps.setString(i++, after);
      ps.setInt(i, limit + 1);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          items.add(
              new DomainSummary(
                  rs.getString(1),
                  rs.getString(2),
                  rs.getString(3),
                  rs.getString(4),
                  ReadModelSql.instant(rs, 5),
                  ReadModelSql.instant(rs, 6),
                  ReadModelSql.instant(rs, 7)));
        }
      }
    }
    String next = null;
    if (items.size() > limit) {
      items = items.subList(0, limit);
      next = IdCursor.encode(items.get(limit - 1).hostname());
    }
    return new Page(List.copyOf(items), next);
  }
}
