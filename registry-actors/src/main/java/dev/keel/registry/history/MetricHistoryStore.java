package dev.keel.registry.history;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import javax.sql.DataSource;

/**
 * {@code keel_metric_points} (migration V17): merges aggregates into their buckets with one
 * multi-row upsert per batch, reads a service's buckets of one tier, deletes expired ones. Writes
 * run on the caller's thread (the flusher's), reads on the blocking executor.
 */
public final class MetricHistoryStore {

  /** Rows per statement: 11 parameters each, well under both databases' parameter limits. */
  static final int ROWS_PER_STATEMENT = 500;

  private static final String COLUMNS =
      "service_id, metric, resolution_s, bucket, tenant_id, samples, total, min_value, max_value,"
          + " last_value, last_at";

  private final DataSource dataSource;
  private final Executor blocking;
  private volatile Boolean postgres;

  public MetricHistoryStore(DataSource dataSource, Executor blocking) {
    this.dataSource = dataSource;
    this.blocking = blocking;
  }

  /** Merges each aggregate into its bucket (at most one aggregate per bucket in a call). */
  public void merge(List<BucketAggregate> aggregates) throws SQLException {
    if (aggregates.isEmpty()) return;
    try (Connection c = dataSource.getConnection()) {
      boolean pg = isPostgres(c);
      c.setAutoCommit(false);
      try {
        for (int from = 0; from < aggregates.size(); from += ROWS_PER_STATEMENT) {
          List<BucketAggregate> chunk =
              aggregates.subList(from, Math.min(aggregates.size(), from + ROWS_PER_STATEMENT));
          try (PreparedStatement ps =
              c.prepareStatement(pg ? postgresUpsert(chunk.size()) : h2Merge(chunk.size()))) {
            int i = 1;
            for (BucketAggregate a : chunk) {
              ps.setString(i++, a.serviceId());
              ps.setString(i++, a.metric());
              ps.setInt(i++, (int) a.resolutionSeconds());
              ps.setLong(i++, a.bucket());
              ps.setString(i++, a.tenantId());
              ps.setInt(i++, a.samples());
              ps.setDouble(i++, a.total());
              ps.setDouble(i++, a.min());
              ps.setDouble(i++, a.max());
              ps.setDouble(i++, a.last());
              ps.setLong(i++, a.lastAtMillis());
            }
            ps.executeUpdate();
          }
        }
        c.commit();
      } catch (SQLException e) {
        c.rollback();
        throw e;
      }
    }
  }

  /** A service's buckets of one tier from {@code fromBucket} on, by metric then time. */
  public CompletionStage<List<BucketAggregate>> read(
      String serviceId, long resolutionSeconds, long fromBucket, String metric) {
    return CompletableFuture.supplyAsync(
        () -> {
          String sql =
              "SELECT "
                  + COLUMNS
                  + " FROM keel_metric_points WHERE service_id = ? AND resolution_s = ?"
                  + " AND bucket >= ?"
                  + (metric == null ? "" : " AND metric = ?")
                  + " ORDER BY metric, bucket";
          try (Connection c = dataSource.getConnection();
              PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, serviceId);
            ps.setInt(2, (int) resolutionSeconds);
            ps.setLong(3, fromBucket);
            if (metric != null) ps.setString(4, metric);
            List<BucketAggregate> rows = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                rows.add(
                    new BucketAggregate(
                        rs.getString(1),
                        rs.getString(5),
                        rs.getString(2),
                        rs.getInt(3),
                        rs.getLong(4),
                        rs.getInt(6),
                        rs.getDouble(7),
                        rs.getDouble(8),
                        rs.getDouble(9),
                        rs.getDouble(10),
                        rs.getLong(11)));
              }
            }
            return rows;
          } catch (SQLException e) {
            throw new CompletionException(e);
          }
        },
        blocking);
  }

  /** Deletes a tier's buckets that start before {@code beforeBucket}; how many. */
  public int deleteBefore(long resolutionSeconds, long beforeBucket) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "DELETE FROM keel_metric_points WHERE resolution_s = ? AND bucket < ?")) {
      ps.setInt(1, (int) resolutionSeconds);
      ps.setLong(2, beforeBucket);
      return ps.executeUpdate();
    }
  }

  private boolean isPostgres(Connection c) throws SQLException {
    Boolean pg = postgres;
    if (pg == null) {
      pg = c.getMetaData().getDatabaseProductName().toLowerCase(Locale.ROOT).contains("postgres");
      postgres = pg;
    }
    return pg;
  }

  static String postgresUpsert(int rows) {
    StringBuilder sql =
        new StringBuilder("INSERT INTO keel_metric_points AS p (" + COLUMNS + ") VALUES ");
    for (int r = 0; r < rows; r++) sql.append(r == 0 ? "" : ",").append("(?,?,?,?,?,?,?,?,?,?,?)");
    return sql.append(
            " ON CONFLICT (service_id, metric, resolution_s, bucket) DO UPDATE SET"
                + " samples = p.samples + EXCLUDED.samples,"
                + " total = p.total + EXCLUDED.total,"
                + " min_value = LEAST(p.min_value, EXCLUDED.min_value),"
                + " max_value = GREATEST(p.max_value, EXCLUDED.max_value),"
                + " last_value = CASE WHEN EXCLUDED.last_at >= p.last_at"
                + " THEN EXCLUDED.last_value ELSE p.last_value END,"
                + " tenant_id = CASE WHEN EXCLUDED.last_at >= p.last_at"
                + " THEN EXCLUDED.tenant_id ELSE p.tenant_id END,"
                + " last_at = GREATEST(p.last_at, EXCLUDED.last_at)")
        .toString();
  }

  static String h2Merge(int rows) {
    // H2 cannot type bare parameters in a VALUES list: each one is cast.
    String row =
        "(CAST(? AS VARCHAR(128)), CAST(? AS VARCHAR(128)), CAST(? AS INTEGER),"
            + " CAST(? AS BIGINT), CAST(? AS VARCHAR(128)), CAST(? AS INTEGER),"
            + " CAST(? AS DOUBLE PRECISION), CAST(? AS DOUBLE PRECISION),"
            + " CAST(? AS DOUBLE PRECISION), CAST(? AS DOUBLE PRECISION), CAST(? AS BIGINT))";
    StringBuilder sql = new StringBuilder("MERGE INTO keel_metric_points p USING (VALUES ");
    for (int r = 0; r < rows; r++) sql.append(r == 0 ? "" : ",").append(row);
    return sql.append(
            ") AS s("
                + COLUMNS
                + ") ON p.service_id = s.service_id AND p.metric = s.metric"
                + " AND p.resolution_s = s.resolution_s AND p.bucket = s.bucket"
                + " WHEN MATCHED THEN UPDATE SET"
                + " samples = p.samples + s.samples,"
                + " total = p.total + s.total,"
                + " min_value = LEAST(p.min_value, s.min_value),"
                + " max_value = GREATEST(p.max_value, s.max_value),"
                + " last_value = CASE WHEN s.last_at >= p.last_at"
                + " THEN s.last_value ELSE p.last_value END,"
                + " tenant_id = CASE WHEN s.last_at >= p.last_at"
                + " THEN s.tenant_id ELSE p.tenant_id END,"
                + " last_at = GREATEST(p.last_at, s.last_at)"
                + " WHEN NOT MATCHED THEN INSERT ("
                + COLUMNS
                + ") VALUES (s.service_id, s.metric, s.resolution_s, s.bucket, s.tenant_id,"
                + " s.samples, s.total, s.min_value, s.max_value, s.last_value, s.last_at)")
        .toString();
  }
}
