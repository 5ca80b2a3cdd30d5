package dev.keel.persistence;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.util.Map;

/**
 * The Pekko configuration overlay that points the journal, snapshots, read journal and projections
 * at one database.
 */
public final class PersistenceConfig {

  private PersistenceConfig() {}

  /** The read journal plugin that reads a PostgreSQL read replica ({@link #withReplica}). */
  public static final String REPLICA_READ_JOURNAL = "keel-replica-read-journal";

  /**
   * {@code config} (resolved, with the read journal's defaults in it) plus a second read journal
   * plugin, {@link #REPLICA_READ_JOURNAL}, like {@code jdbc-read-journal} but on {@code replica}:
   * history and audit read it; the journal, snapshots and projections stay on the primary.
   */
  public static Config withReplica(Config config, DatabaseSettings replica, int maxConnections) {
    String base = "pekko-persistence-jdbc.shared-databases.keel-replica";
    Config readJournal =
        config
            .getConfig("jdbc-read-journal")
            .withValue("use-shared-db", ConfigValueFactory.fromAnyRef("keel-replica"));
    Map<String, Object> values =
        Map.of(
            base + ".profile",
            "slick.jdbc.PostgresProfile$",
            base + ".db.url",
            replica.url(),
            base + ".db.user",
            replica.user(),
            base + ".db.password",
            replica.password(),
            base + ".db.driver",
            "org.postgresql.Driver",
            base + ".db.numThreads",
            maxConnections,
            base + ".db.maxConnections",
            maxConnections,
            base + ".db.minConnections",
            1,
            base + ".db.connectionTimeout",
            5000,
            base + ".db.validationTimeout",
            3000);
    Config out = config.withValue(REPLICA_READ_JOURNAL, readJournal.root());
    for (Map.Entry<String, Object> e : values.entrySet()) {
      out = out.withValue(e.getKey(), ConfigValueFactory.fromAnyRef(e.getValue()));
    }
    return out;
  }

  public static Config forDatabase(DatabaseSettings db, int maxConnections) {
    boolean h2 = db.kind() == DatabaseSettings.Kind.H2;
    String base = "pekko-persistence-jdbc.shared-databases.keel";
    Map<String, Object> values =
        Map.of(
            base + ".profile",
            h2 ? "slick.jdbc.H2Profile$" : "slick.jdbc.PostgresProfile$",
            base + ".db.url",
            db.url(),
            base + ".db.user",
            db.user(),
            base + ".db.password",
            db.password(),
            base + ".db.driver",
            h2 ? "org.h2.Driver" : "org.postgresql.Driver",
            base + ".db.numThreads",
            maxConnections,
            base + ".db.maxConnections",
            maxConnections,
            base + ".db.minConnections",
            Math.min(2, maxConnections),
            "pekko.projection.jdbc.dialect",
            h2 ? "h2-dialect" : "postgres-dialect",
            "pekko.projection.jdbc.blocking-jdbc-dispatcher.thread-pool-executor.fixed-pool-size",
            maxConnections);
    Config overlay = ConfigFactory.empty();
    for (Map.Entry<String, Object> e : values.entrySet()) {
      overlay = overlay.withValue(e.getKey(), ConfigValueFactory.fromAnyRef(e.getValue()));
    }
    return overlay
        .withFallback(
            ConfigFactory.parseString(
                base + ".db.connectionTimeout = 5000\n" + base + ".db.validationTimeout = 3000\n"))
        // -D settings (e.g. in KEEL_JAVA_OPTS) may still tune the journal over Keel's defaults.
        .withFallback(ConfigFactory.systemProperties())
        .withFallback(
            ConfigFactory.parseResources(
                PersistenceConfig.class.getClassLoader(), "keel-persistence.conf"));
  }
}
