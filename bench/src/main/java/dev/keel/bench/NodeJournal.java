package dev.keel.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.TreeMap;

/**
 * The node's event journal as the load programs see it from outside: on PostgreSQL the rows of
 * {@code event_journal} (the table of {@code persistence}'s {@code
 * db/keel/postgres/V1__journal.sql}), counted over JDBC; on the embedded H2 only the size of its
 * file, which the node holds open.
 */
interface NodeJournal extends AutoCloseable {

  /** The embedded database's file in the node's data directory. */
  String H2_FILE = "keel.mv.db";

  /**
   * The journal's size at one moment; {@code lastOrdering} is the newest event's position, 0 where
   * unknown.
   */
  record Reading(long size, long lastOrdering) {}

  /** What {@link Reading#size} counts: {@code events} or {@code bytes}. */
  String unit();

  Reading read() throws IOException, SQLException;

  /**
   * The events written after {@code from} up to {@code to}, counted by type; empty where types
   * cannot be read.
   */
  Map<String, Long> eventTypesBetween(Reading from, Reading to) throws SQLException;

  @Override
  void close();

  /** Connects now, so that a wrong URL or password stops the run before it starts. */
  static NodeJournal postgres(String url, String user, String password) throws SQLException {
    return new Rows(DriverManager.getConnection(url, user, password));
  }

  /** Checks now that the H2 file exists. */
  static NodeJournal h2(Path dataDir) throws IOException {
    Path file = dataDir.resolve(H2_FILE);
    if (!Files.isRegularFile(file)) {
      throw new IOException("no H2 database at " + file + " (is --data-dir the node's?)");
    }
    return new FileBytes(file);
  }

  /** {@code event_journal} rows over one JDBC connection. */
  final class Rows implements NodeJournal {
    private final Connection connection;

    private Rows(Connection connection) {
      this.connection = connection;
    }

    @Override
    public String unit() {
      return "events";
    }

    @Override
    public Reading read() throws SQLException {
      try (Statement statement = connection.createStatement();
          ResultSet rows =
              statement.executeQuery(
                  "SELECT count(*), coalesce(max(ordering), 0) FROM event_journal")) {
        rows.next();
        return new Reading(rows.getLong(1), rows.getLong(2));
      }
    }

    @Override
    public Map<String, Long> eventTypesBetween(Reading from, Reading to) throws SQLException {
      Map<String, Long> types = new TreeMap<>();
      try (PreparedStatement statement =
          connection.prepareStatement(
              "SELECT event_ser_manifest, count(*) FROM event_journal WHERE ordering > ? AND"
                  + " ordering <= ? GROUP BY event_ser_manifest")) {
        statement.setLong(1, from.lastOrdering());
        statement.setLong(2, to.lastOrdering());
        try (ResultSet rows = statement.executeQuery()) {
          while (rows.next()) {
            types.put(rows.getString(1), rows.getLong(2));
          }
        }
      }
      return types;
    }

    @Override
    public void close() {
      try {
        connection.close();
      } catch (SQLException e) {
        // closing after the figures are read; nothing is lost
      }
    }
  }

  /**
   * The size of the H2 file: it grows with the journal, and also with the read models and page
   * churn.
   */
  final class FileBytes implements NodeJournal {
    private final Path file;

    private FileBytes(Path file) {
      this.file = file;
    }

    @Override
    public String unit() {
      return "bytes";
    }

    @Override
    public Reading read() throws IOException {
      return new Reading(Files.size(file), 0);
    }

    @Override
    public Map<String, Long> eventTypesBetween(Reading from, Reading to) {
      return Map.of();
    }

    @Override
    public void close() {}
  }
}
