package dev.keel.bench;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * The command line of {@link HeartbeatLoad}, read once. {@code --name value} and {@code
 * --name=value} are both accepted.
 *
 * <p>{@code dataDir} is present only when {@code --data-dir} was given: then, without {@code
 * --database-url}, the growth of the node's embedded H2 file is measured.
 */
public record HeartbeatOptions(
    URI endpoint,
    String token,
    int services,
    Duration interval,
    Duration duration,
    Duration warmup,
    int ttlSeconds,
    int connections,
    int staleProbe,
    OptionalLong nodePid,
    Optional<String> databaseUrl,
    String databaseUser,
    String databasePassword,
    Optional<Path> dataDir) {

  static final String USAGE =
      """
      usage: java -cp bench/target/keel-bench.jar dev.keel.bench.HeartbeatLoad [options]
        --endpoint URL          node to drive (default http://127.0.0.1:8080)
        --token TOKEN           bearer token (default: env KEEL_TOKEN, then KEEL_ADMIN_TOKEN,
                                then the file <data-dir>/admin-token)
        --services N            services registered and heartbeating (default 1000)
        --interval DURATION     heartbeat interval of each service (default PT10S)
        --duration DURATION     measured phase (default PT60S)
        --warmup DURATION       heartbeating first, not counted (default PT10S)
        --ttl SECONDS           ttlSeconds of each service, above the interval (default 30)
        --connections C         requests in flight at most (default 48)
        --stale-probe K         services silenced at the end to time stale detection,
                                0 for none (default 20)
        --node-pid PID          the node's process id, for its CPU use (Linux /proc)
        --database-url URL      the node's PostgreSQL (jdbc:postgresql://...), to count
                                journal rows
        --database-user USER    (default postgres)
        --database-password PW  (default none; env PGPASSWORD)
        --data-dir DIR          the node's data directory: admin-token and, without
                                --database-url, the H2 file whose growth is measured
      """;

  static final int MAX_CONNECTIONS = 1024;

  private static final Set<String> NAMES =
      Set.of(
          "endpoint",
          "token",
          "data-dir",
          "services",
          "interval",
          "duration",
          "warmup",
          "ttl",
          "connections",
          "stale-probe",
          "node-pid",
          "database-url",
          "database-user",
          "database-password");

  /**
   * Parses {@code args}; {@code env} supplies the token and the database password when they are not
   * given.
   *
   * @throws IllegalArgumentException with a one-line reason for anything wrong
   */
  public static HeartbeatOptions parse(String[] args, Map<String, String> env) {
    CommandLine line = CommandLine.parse(args, NAMES);
    URI endpoint = line.endpoint();
    int services = line.integer("services", 1000, 1);
    if (services > HeartbeatSchedule.MAX_SERVICES) {
      throw new IllegalArgumentException(
          "--services must be at most " + HeartbeatSchedule.MAX_SERVICES + ", was " + services);
    }
    Duration interval = line.duration("interval", Duration.ofSeconds(10));
    if (interval.isZero() || interval.compareTo(HeartbeatSchedule.MAX_INTERVAL) > 0) {
      throw new IllegalArgumentException(
          "--interval must be above zero and at most PT1H, was " + interval);
    }
    Duration duration = line.duration("duration", Duration.ofSeconds(60));
    if (duration.compareTo(Duration.ofSeconds(1)) < 0) {
      throw new IllegalArgumentException("--duration must be at least PT1S, was " + duration);
    }
    Duration warmup = line.duration("warmup", Duration.ofSeconds(10));
    int ttl = line.integer("ttl", 30, 1);
    // A service heartbeating no faster than its TTL goes stale between two heartbeats.
    if (interval.compareTo(Duration.ofSeconds(ttl)) >= 0) {
      throw new IllegalArgumentException(
          "--interval ("
              + interval
              + ") must be shorter than --ttl ("
              + ttl
              + " s), or services go stale while heartbeating");
    }
    int connections = line.integer("connections", 48, 1);
    if (connections > MAX_CONNECTIONS) {
      throw new IllegalArgumentException(
          "--connections must be at most " + MAX_CONNECTIONS + ", was " + connections);
    }
    int staleProbe = line.integer("stale-probe", 20, 0);
    if (staleProbe > services) {
      throw new IllegalArgumentException(
          "--stale-probe (" + staleProbe + ") must not exceed --services (" + services + ")");
    }
    OptionalLong nodePid =
        line.has("node-pid")
            ? OptionalLong.of(line.longInteger("node-pid", 0, 1, Long.MAX_VALUE))
            : OptionalLong.empty();
    Optional<String> databaseUrl =
        Optional.ofNullable(line.text("database-url", null)).map(String::trim);
    if (databaseUrl.isPresent() && !databaseUrl.get().startsWith("jdbc:postgresql:")) {
      throw new IllegalArgumentException(
          "--database-url must be a PostgreSQL JDBC URL like jdbc:postgresql://127.0.0.1:5432/keel,"
              + " was "
              + databaseUrl.get());
    }
    String databaseUser = line.text("database-user", "postgres");
    String databasePassword = line.text("database-password", env.getOrDefault("PGPASSWORD", ""));
    Optional<Path> dataDir = line.has("data-dir") ? Optional.of(line.dataDir()) : Optional.empty();
    String token = line.token(env);
    return new HeartbeatOptions(
        endpoint,
        token,
        services,
        interval,
        duration,
        warmup,
        ttl,
        connections,
        staleProbe,
        nodePid,
        databaseUrl,
        databaseUser,
        databasePassword,
        dataDir);
  }

  HeartbeatSchedule schedule() {
    return new HeartbeatSchedule(services, interval);
  }

  /** The parameters as printed; the token and the password are never shown. */
  @Override
  public String toString() {
    return "endpoint="
        + endpoint
        + " services="
        + services
        + " interval="
        + interval
        + " duration="
        + duration
        + " warmup="
        + warmup
        + " ttl="
        + ttlSeconds
        + "s"
        + " connections="
        + connections
        + " staleProbe="
        + staleProbe
        + " nodePid="
        + (nodePid.isPresent() ? Long.toString(nodePid.getAsLong()) : "-")
        + " journal="
        + journalSource();
  }

  /** Where journal growth is read, in words. */
  String journalSource() {
    if (databaseUrl.isPresent()) {
      return "rows of event_journal in " + databaseUrl.get();
    }
    return dataDir
        .map(dir -> "bytes of " + dir.resolve(NodeJournal.H2_FILE))
        .orElse("not measured");
  }
}
