package dev.keel.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import dev.keel.persistence.DatabaseSettings;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The node's own settings, read once from {@code keel.*}; each problem names its KEEL_* variable.
 */
public record NodeSettings(
    String host,
    int httpPort,
    int clusterPort,
    List<String> seedNodes,
    Path dataDir,
    DatabaseSettings database,
    int databaseMaxConnections,
    Optional<String> adminToken,
    Optional<Path> pluginsDir,
    long maxBodyBytes,
    ClusterSettings cluster,
    Optional<TlsListener.TlsFiles> tls,
    int metricsPort,
    String instanceId,
    String region,
    Optional<DatabaseSettings> replica) {

  public static NodeSettings fromConfig(Config config) {
    Config k = config.getConfig("keel");
    String host = string(k, "node.host", "KEEL_HOST");
    if (host.isBlank()) throw new ConfigProblem("KEEL_HOST", "must not be empty");
    int httpPort = port(k, "http.port", "KEEL_HTTP_PORT");
    int clusterPort = port(k, "cluster.port", "KEEL_CLUSTER_PORT");
    List<String> seeds =
        Arrays.stream(string(k, "cluster.seed-nodes", "KEEL_SEED_NODES").split(","))
            .map(String::trim)
            .filter(s -> !s.isEmpty())
            .toList();
    for (String seed : seeds) {
      if (!seed.matches("^[A-Za-z0-9.\\-\\[\\]:]+:\\d{1,5}$")) {
        throw new ConfigProblem("KEEL_SEED_NODES", "'" + seed + "' is not host:port");
      }
    }
    Path dataDir =
        Path.of(
            string(k, "node.data-dir", "KEEL_DATA_DIR").isBlank()
                ? "./data"
                : k.getString("node.data-dir"));
    String url = string(k, "database.url", "KEEL_DATABASE_URL");
    DatabaseSettings db;
    if (url.isBlank()) {
      db = DatabaseSettings.embedded(dataDir);
    } else {
      try {
        db =
            DatabaseSettings.of(
                url,
                string(k, "database.user", "KEEL_DATABASE_USER"),
                string(k, "database.password", "KEEL_DATABASE_PASSWORD"));
      } catch (IllegalArgumentException e) {
        throw new ConfigProblem("KEEL_DATABASE_URL", e.getMessage());
      }
    }
    int maxConnections;
    try {
      maxConnections = k.getInt("database.max-connections");
    } catch (ConfigException e) {
      throw new ConfigProblem("KEEL_DATABASE_MAX_CONNECTIONS", "must be a whole number");
    }
    if (maxConnections < 2 || maxConnections > 200) {
      throw new ConfigProblem(
          "KEEL_DATABASE_MAX_CONNECTIONS", "must be between 2 and 200, got " + maxConnections);
    }
    String token = string(k, "node.admin-token", "KEEL_ADMIN_TOKEN");
    if (!token.isEmpty() && token.length() < 16) {
      throw new ConfigProblem("KEEL_ADMIN_TOKEN", "must be at least 16 characters");
    }
    String plugins = string(k, "node.plugins-dir", "KEEL_PLUGINS_DIR");
    long maxBody;
    try {
      maxBody = k.getBytes("http.max-body-size");
    } catch (ConfigException e) {
      throw new ConfigProblem("keel.http.max-body-size", "must be a size such as 1m");
    }
    Optional<DatabaseSettings> replica = replica(k, db);
    ClusterSettings cluster = ClusterSettings.fromConfig(k, seeds, db.kind());
    Optional<TlsListener.TlsFiles> tls = tls(k);
    return new NodeSettings(
        host,
        httpPort,
        clusterPort,
        seeds,
        dataDir,
        db,
        maxConnections,
        token.isEmpty() ? Optional.empty() : Optional.of(token),
        plugins.isBlank() ? Optional.empty() : Optional.of(Path.of(plugins)),
        maxBody,
        cluster,
        tls,
        metricsPort(k),
        label(k, "node.instance-id", "KEEL_INSTANCE_ID"),
        label(k, "node.region", "KEEL_REGION"),
        replica);
  }

  /**
   * A PostgreSQL read replica of the journal's database, for list, history and audit reads; the
   * journal and every write stay on the primary. Only beside a PostgreSQL primary.
   */
  private static Optional<DatabaseSettings> replica(Config k, DatabaseSettings primary) {
    String url = string(k, "database.replica.url", "KEEL_DATABASE_REPLICA_URL").trim();
    if (url.isEmpty()) return Optional.empty();
    if (primary.kind() != DatabaseSettings.Kind.POSTGRES)
      throw new ConfigProblem(
          "KEEL_DATABASE_REPLICA_URL", "needs a PostgreSQL primary (KEEL_DATABASE_URL)");
    String user = string(k, "database.replica.user", "KEEL_DATABASE_REPLICA_USER");
    String password = string(k, "database.replica.password", "KEEL_DATABASE_REPLICA_PASSWORD");
    DatabaseSettings replica;
    try {
      replica =
          DatabaseSettings.of(
              url,
              user.isEmpty() ? primary.user() : user,
              password.isEmpty() && user.isEmpty() ? primary.password() : password);
    } catch (IllegalArgumentException e) {
      throw new ConfigProblem("KEEL_DATABASE_REPLICA_URL", e.getMessage());
    }
    if (replica.kind() != DatabaseSettings.Kind.POSTGRES)
      throw new ConfigProblem("KEEL_DATABASE_REPLICA_URL", "must be a PostgreSQL JDBC URL");
    return Optional.of(replica);
  }

  /** Both a certificate and a key, or neither; a client CA only with them. */
  private static Optional<TlsListener.TlsFiles> tls(Config k) {
    String cert = string(k, "http.tls.cert", "KEEL_TLS_CERT").trim();
    String key = string(k, "http.tls.key", "KEEL_TLS_KEY").trim();
    String clientCa = string(k, "http.tls.client-ca", "KEEL_TLS_CLIENT_CA").trim();
    if (cert.isEmpty() && key.isEmpty()) {
      if (!clientCa.isEmpty()) {
        throw new ConfigProblem(
            "KEEL_TLS_CLIENT_CA", "needs KEEL_TLS_CERT and KEEL_TLS_KEY (TLS for the listener)");
      }
      return Optional.empty();
    }
    if (cert.isEmpty()) throw new ConfigProblem("KEEL_TLS_CERT", "KEEL_TLS_KEY needs it too");
    if (key.isEmpty()) throw new ConfigProblem("KEEL_TLS_KEY", "KEEL_TLS_CERT needs it too");
    return Optional.of(
        new TlsListener.TlsFiles(
            Path.of(cert),
            Path.of(key),
            clientCa.isEmpty() ? Optional.empty() : Optional.of(Path.of(clientCa))));
  }

  /** {@code keel.http.metrics-port}: 0 serves /metrics on the API port. */
  private static int metricsPort(Config k) {
    return k.hasPath("http.metrics-port") ? port(k, "http.metrics-port", "KEEL_METRICS_PORT") : 0;
  }

  /** A metric tag and log field: short, printable, no spaces or quotes. */
  private static String label(Config k, String path, String variable) {
    String value = string(k, path, variable).trim();
    if (!value.isEmpty() && !value.matches("^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"))
      throw new ConfigProblem(
          variable, "must be up to 64 letters, digits, '.', '_', ':' or '-', got '" + value + "'");
    return value;
  }

  private static String string(Config k, String path, String variable) {
    try {
      return k.hasPath(path) ? k.getString(path) : "";
    } catch (ConfigException e) {
      throw new ConfigProblem(variable, "must be a string");
    }
  }

  private static int port(Config k, String path, String variable) {
    int port;
    try {
      port = k.getInt(path);
    } catch (ConfigException e) {
      throw new ConfigProblem(
          variable, "'" + k.getValue(path).unwrapped() + "' is not a port number");
    }
    if (port < 0 || port > 65535)
      throw new ConfigProblem(variable, port + " is not a port number (0-65535)");
    return port;
  }
}
