package dev.keel.persistence;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import javax.sql.DataSource;

/**
 * How read models talk to their tables: instants go in and out of {@code TIMESTAMP WITH TIME ZONE}
 * as UTC at microsecond precision (what both H2 and PostgreSQL keep), and statements take their
 * arguments positionally.
 */
public final class ReadModelSql {

  private ReadModelSql() {}

  /** A read of a read model's tables. */
  @FunctionalInterface
  public interface Query<T> {
    T run() throws SQLException;
  }

  /**
   * Runs {@code query} on {@code blocking} (JDBC blocks). A database failure fails the stage with
   * "read model unavailable" and the {@link SQLException} as its cause, which the API answers 503.
   */
  public static <T> CompletableFuture<T> read(Executor blocking, Query<T> query) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return query.run();
          } catch (SQLException e) {
            throw new IllegalStateException("read model unavailable: " + e.getMessage(), e);
          }
        },
        blocking);
  }

  /**
   * The escape character of {@link #startingWith} and {@link #containing}: use with {@code LIKE ?
   * ESCAPE '!'}.
   */
  public static final String LIKE_ESCAPE = " ESCAPE '!'";

  /**
   * A LIKE pattern matching text that starts with {@code literal}; '_' and '%' in it match
   * themselves.
   */
  public static String startingWith(String literal) {
    return likeLiteral(literal) + "%";
  }

  /**
   * A LIKE pattern matching text that contains {@code literal}; '_' and '%' in it match themselves.
   */
  public static String containing(String literal) {
    return "%" + likeLiteral(literal) + "%";
  }

  private static String likeLiteral(String literal) {
    return literal.replace("!", "!!").replace("_", "!_").replace("%", "!%");
  }

  /** An instant as a column value; {@code null} stays {@code null}. */
  public static OffsetDateTime ts(Instant at) {
    return at == null ? null : at.truncatedTo(ChronoUnit.MICROS).atOffset(ZoneOffset.UTC);
  }

  /** A {@code TIMESTAMP WITH TIME ZONE} column as an instant; SQL {@code NULL} is {@code null}. */
  public static Instant instant(ResultSet rs, int column) throws SQLException {
    OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
    return t == null ? null : t.toInstant();
  }

  /**
   * Runs {@code sql}, a {@code SELECT key, COUNT(*) ... GROUP BY key}, with {@code args} bound in
   * order: each of {@code keys} with its count, 0 when no row has it, in key order.
   */
  public static Map<String, Long> countsBy(
      DataSource dataSource, String sql, List<Object> args, Collection<String> keys)
      throws SQLException {
    Map<String, Long> counts = new TreeMap<>();
    for (String key : keys) counts.put(key, 0L);
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < args.size(); i++) ps.setObject(i + 1, args.get(i));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) counts.put(rs.getString(1), rs.getLong(2));
      }
    }
    return Collections.unmodifiableMap(counts);
  }

  /** Runs an INSERT, UPDATE or DELETE with {@code args} bound in order; answers the row count. */
  public static int update(Connection c, String sql, Object... args) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) ps.setObject(i + 1, args[i]);
      return ps.executeUpdate();
    }
  }
}
