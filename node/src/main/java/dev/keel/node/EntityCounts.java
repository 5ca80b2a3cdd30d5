package dev.keel.node;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import javax.sql.DataSource;

/**
 * Cluster-wide figures read from the shared database: entities by type and status (the read
 * models), how far each projection trails the journal (its stored offset against the tagged events
 * after it) and the events it recorded as dead letters. Blocking JDBC: call it on the blocking
 * dispatcher.
 */
final class EntityCounts {

  /**
   * One projection instance: events in the journal it has not handled yet, the age of the oldest of
   * them, and the events it could not store ({@code keel_projection_dead_letters}).
   */
  record Lag(long eventsBehind, long lagMillis, long deadLetters) {}

  private static final Map<String, String> BY_STATUS = new LinkedHashMap<>();

  static {
    BY_STATUS.put("workflow", "SELECT status, COUNT(*) FROM keel_workflows GROUP BY status");
    BY_STATUS.put("service", "SELECT status, COUNT(*) FROM keel_services GROUP BY status");
    BY_STATUS.put("tenant", "SELECT status, COUNT(*) FROM keel_tenants GROUP BY status");
    BY_STATUS.put("domain", "SELECT status, COUNT(*) FROM keel_domains GROUP BY status");
    BY_STATUS.put(
        "schedule",
        "SELECT CASE WHEN paused THEN 'paused' ELSE 'active' END AS s, COUNT(*) FROM keel_schedules"
            + " GROUP BY CASE WHEN paused THEN 'paused' ELSE 'active' END");
    BY_STATUS.put("alert", "SELECT 'defined', COUNT(*) FROM keel_alerts");
  }

  private final DataSource dataSource;

  EntityCounts(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /** Entity type → status → count; every type present, with an empty map when it has none. */
  Map<String, Map<String, Long>> byTypeAndStatus() throws SQLException {
    Map<String, Map<String, Long>> counts = new LinkedHashMap<>();
    try (Connection c = dataSource.getConnection()) {
      for (Map.Entry<String, String> query : BY_STATUS.entrySet()) {
        Map<String, Long> byStatus = new TreeMap<>();
        try (PreparedStatement s = c.prepareStatement(query.getValue());
            ResultSet rs = s.executeQuery()) {
          while (rs.next()) {
            if (rs.getLong(2) > 0) byStatus.put(rs.getString(1), rs.getLong(2));
          }
        }
        counts.put(query.getKey(), byStatus);
      }
    }
    return counts;
  }

  /** Every projection instance that has stored an offset, by {@code <projection>/<tag>}. */
  Map<String, Lag> projectionLag(Instant now) throws SQLException {
    Map<String, Lag> lags = new TreeMap<>();
    try (Connection c = dataSource.getConnection();
        PreparedStatement offsets =
            c.prepareStatement(
                // Quoted: the H2 migrations create the journal's tables with quoted lower-case
                // names.
                "SELECT \"projection_name\", \"projection_key\", \"current_offset\" FROM"
                    + " \"pekko_projection_offset_store\" WHERE \"manifest\" = 'SEQ'");
        PreparedStatement behind =
            c.prepareStatement(
                "SELECT COUNT(*), MIN(j.\"write_timestamp\") FROM \"event_tag\" t JOIN"
                    + " \"event_journal\" j ON j.\"ordering\" = t.\"event_id\" WHERE t.\"tag\" = ?"
                    + " AND t.\"event_id\" > ?")) {
      Map<String, Long> deadLetters = deadLetters(c);
      try (ResultSet rs = offsets.executeQuery()) {
        while (rs.next()) {
          String name = rs.getString(1) + "/" + rs.getString(2);
          long offset;
          try {
            offset = Long.parseLong(rs.getString(3));
          } catch (NumberFormatException e) {
            continue;
          }
          behind.setString(1, rs.getString(2));
          behind.setLong(2, offset);
          try (ResultSet b = behind.executeQuery()) {
            b.next();
            long events = b.getLong(1);
            long oldest = b.getLong(2);
            long lagMillis =
                events == 0 || b.wasNull() ? 0 : Math.max(0, now.toEpochMilli() - oldest);
            lags.put(name, new Lag(events, lagMillis, deadLetters.getOrDefault(name, 0L)));
          }
        }
      }
    }
    return lags;
  }

  /**
   * Dead letters by {@code <projection>/<tag>}; a dead letter is written with its offset, so every
   * one has a lag entry.
   */
  private static Map<String, Long> deadLetters(Connection c) throws SQLException {
    Map<String, Long> counts = new TreeMap<>();
    try (PreparedStatement s =
            c.prepareStatement(
                "SELECT projection_name, projection_key, COUNT(*) FROM keel_projection_dead_letters"
                    + " GROUP BY projection_name, projection_key");
        ResultSet rs = s.executeQuery()) {
      while (rs.next()) counts.put(rs.getString(1) + "/" + rs.getString(2), rs.getLong(3));
    }
    return counts;
  }
}
