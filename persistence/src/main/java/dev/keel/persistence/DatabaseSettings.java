package dev.keel.persistence;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Where the journal lives. Without a URL the node uses an embedded H2 file under its data directory
 * (single node only); with one it must be PostgreSQL.
 */
public record DatabaseSettings(Kind kind, String url, String user, String password) {

  public enum Kind {
    H2,
    POSTGRES
  }

  public DatabaseSettings {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(url, "url");
    user = user == null ? "" : user;
    password = password == null ? "" : password;
  }

  /** The embedded default: {@code <dataDir>/keel.mv.db}. */
  public static DatabaseSettings embedded(Path dataDir) {
    String file = dataDir.toAbsolutePath().normalize().resolve("keel").toString();
    // DB_CLOSE_ON_EXIT=FALSE: H2 must outlive Pekko's own shutdown hooks (STACK.md pitfall 5).
    // WRITE_DELAY=0: an acknowledged event must survive kill -9 (H2 otherwise flushes commits up to
    // 500 ms later).
    return new DatabaseSettings(
        Kind.H2, "jdbc:h2:file:" + file + ";DB_CLOSE_ON_EXIT=FALSE;WRITE_DELAY=0", "sa", "");
  }

  /**
   * Parses a user-given JDBC URL. Throws {@link IllegalArgumentException} with a message fit for
   * one line of output when the URL is not one Keel supports.
   */
  public static DatabaseSettings of(String url, String user, String password) {
    if (url == null || url.isBlank()) {
      throw new IllegalArgumentException("is empty");
    }
    String trimmed = url.trim();
    if (trimmed.startsWith("jdbc:postgresql://")) {
      if (trimmed.length() == "jdbc:postgresql://".length()) {
        throw new IllegalArgumentException("'" + redact(trimmed) + "' names no host");
      }
      return new DatabaseSettings(Kind.POSTGRES, trimmed, user, password);
    }
    if (trimmed.startsWith("jdbc:h2:")) {
      return new DatabaseSettings(
          Kind.H2, trimmed, user == null || user.isEmpty() ? "sa" : user, password);
    }
    throw new IllegalArgumentException(
        "'"
            + redact(trimmed)
            + "' is not a PostgreSQL JDBC URL (expected jdbc:postgresql://host:port/database)");
  }

  /** The URL with any password parameter masked, for logs and error lines. */
  public String redactedUrl() {
    return redact(url);
  }

  static String redact(String url) {
    return url.replaceAll("(?i)(password=)[^&;]*", "$1***");
  }

  @Override
  public String toString() {
    return "DatabaseSettings[kind=" + kind + ", url=" + redactedUrl() + ", user=" + user + "]";
  }
}
