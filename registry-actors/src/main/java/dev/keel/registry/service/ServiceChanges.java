package dev.keel.registry.service;

import static dev.keel.persistence.ReadModelSql.instant;
import static dev.keel.persistence.ReadModelSql.ts;
import static dev.keel.persistence.ReadModelSql.update;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.persistence.ReadModelSql;
import dev.keel.registry.service.ServiceReadModel.MetadataFilter;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import javax.sql.DataSource;

/**
 * The registry's changes as watchers read them ({@code keel_service_changes}, migration V18):
 * written by {@link ServiceProjectionHandler} in the projection's transaction, so each journaled
 * registration, update, status transition and deregistration becomes exactly one change with a
 * durable, ordered {@code seq}; read after a {@code seq} with a watcher's filters.
 */
public final class ServiceChanges {

  /** What a change is. */
  public static final Set<String> KINDS = Set.of("registered", "updated", "status", "deregistered");

  /** One change, as the event stream sends it. */
  public record Change(
      long seq,
      String kind,
      String serviceId,
      String tenantId,
      String serviceType,
      String status,
      String previousStatus,
      String reason,
      Map<String, String> metadata,
      Instant at) {}

  /**
   * The changes after a seq that pass a filter, and the last seq read (so that a reader moves past
   * changes its filter left out).
   */
  public record Batch(List<Change> changes, long lastSeq) {}

  /**
   * What a watcher wants: {@code tenantId} (null: every tenant's, for the admin), {@code type} null
   * for every service type, {@code kinds} empty for every kind, and every metadata filter.
   */
  public record Filter(
      String tenantId, String type, Set<String> kinds, List<MetadataFilter> metadata) {
    public Filter {
      kinds = kinds == null ? Set.of() : Set.copyOf(kinds);
      metadata = metadata == null ? List.of() : List.copyOf(metadata);
    }

    boolean accepts(Change c) {
      for (MetadataFilter m : metadata)
        if (!m.value().equals(c.metadata().get(m.key()))) return false;
      return true;
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final TypeReference<Map<String, String>> STRING_MAP = new TypeReference<>() {};

  private final DataSource dataSource;
  private final Executor blocking;

  public ServiceChanges(DataSource dataSource, Executor blocking) {
    this.dataSource = dataSource;
    this.blocking = blocking;
  }

  // ---------------------------------------------------------------- writing (the projection)

  /**
   * Records one change in the projection's transaction. The counter row's lock, held until commit,
   * orders the seqs as the commits.
   */
  static void record(
      Connection c,
      String kind,
      String serviceId,
      String tenantId,
      String serviceType,
      String status,
      String previousStatus,
      String reason,
      String metadataJson,
      Instant at)
      throws SQLException {
    update(c, "UPDATE keel_service_change_counter SET last_seq = last_seq + 1 WHERE id = 1");
    long seq;
    try (PreparedStatement ps =
            c.prepareStatement("SELECT last_seq FROM keel_service_change_counter WHERE id = 1");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      seq = rs.getLong(1);
    }
    update(
        c,
        "INSERT INTO keel_service_changes (seq, kind, service_id, tenant_id, service_type, status,"
            + " previous_status, reason, metadata, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?,"
            + " ?)",
        seq,
        kind,
        serviceId,
        tenantId,
        serviceType,
        status,
        previousStatus,
        reason == null || reason.length() <= 512 ? reason : reason.substring(0, 512),
        metadataJson,
        ts(at));
  }

  // ---------------------------------------------------------------- reading (watchers)

  /** The newest seq: where a watcher that names none starts. */
  public CompletionStage<Long> lastSeq() {
    return ReadModelSql.read(
        blocking,
        () -> {
          try (Connection c = dataSource.getConnection();
              PreparedStatement ps =
                  c.prepareStatement(
                      "SELECT last_seq FROM keel_service_change_counter WHERE id = 1");
              ResultSet rs = ps.executeQuery()) {
            return rs.next() ? rs.getLong(1) : 0L;
          }
        });
  }

  /** Up to {@code limit} changes after {@code afterSeq} (scanned), those the filter accepts. */
  public CompletionStage<Batch> after(long afterSeq, Filter filter, int limit) {
    return ReadModelSql.read(
        blocking,
        () -> {
          StringBuilder sql =
              new StringBuilder(
                  "SELECT seq, kind, service_id, tenant_id, service_type, status, previous_status,"
                      + " reason, metadata, changed_at FROM keel_service_changes WHERE seq > ?");
          List<Object> args = new ArrayList<>(List.of(afterSeq));
          if (filter.tenantId() != null) {
            sql.append(" AND tenant_id = ?");
            args.add(filter.tenantId());
          }
          if (filter.type() != null) {
            sql.append(" AND service_type = ?");
            args.add(filter.type());
          }
          if (!filter.kinds().isEmpty()) {
            sql.append(" AND kind IN (")
                .append(String.join(",", filter.kinds().stream().map(k -> "?").toList()))
                .append(")");
            args.addAll(filter.kinds());
          }
          sql.append(" ORDER BY seq LIMIT ").append(limit);
          List<Change> changes = new ArrayList<>();
          long last = afterSeq;
          try (Connection c = dataSource.getConnection();
              PreparedStatement ps = c.prepareStatement(sql.toString())) {
            for (int i = 0; i < args.size(); i++) ps.setObject(i + 1, args.get(i));
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                Change change =
                    new Change(
                        rs.getLong(1),
                        rs.getString(2),
                        rs.getString(3),
                        rs.getString(4),
                        rs.getString(5),
                        rs.getString(6),
                        rs.getString(7),
                        rs.getString(8),
                        metadata(rs.getString(9)),
                        instant(rs, 10));
                last = change.seq();
                if (filter.accepts(change)) changes.add(change);
              }
            }
          }
          return new Batch(List.copyOf(changes), last);
        });
  }

  /** Deletes changes older than {@code retention}; how many. */
  public int deleteOlderThan(Duration retention, Clock clock) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      return update(
          c,
          "DELETE FROM keel_service_changes WHERE changed_at < ?",
          ts(clock.instant().minus(retention)));
    }
  }

  private static Map<String, String> metadata(String json) {
    try {
      return json == null ? Map.of() : JSON.readValue(json, STRING_MAP);
    } catch (IOException e) {
      return Map.of();
    }
  }
}
