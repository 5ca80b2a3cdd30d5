package dev.keel.bench.host;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A PostgreSQL server of the caller's own ({@code initdb} and {@code pg_ctl} from {@code
 * /usr/lib/postgresql/<version>/bin}), so that a test may stop and restart it without disturbing
 * the shared server on 5432: its own temporary directory (data, socket, log), its own port,
 * listening on one address, trust authentication for the given networks, and fsync off unless asked
 * for (a test server never meets a machine crash; a benchmark wants the commits a real one pays
 * for). PostgreSQL refuses to run as root, so every command runs as the {@code postgres} OS user,
 * which owns the directory. Fault tests and {@code ScaleBench} share it.
 *
 * <p>{@link #close()} stops it ({@code -m immediate}) and deletes the directory; a shutdown hook
 * does the same should the JVM be stopped first.
 */
public final class PrivatePostgres implements AutoCloseable {

  private static final Path VERSIONS = Path.of("/usr/lib/postgresql");
  private static final String OS_USER = "postgres";
  private static final Duration COMMAND_DEADLINE = Duration.ofSeconds(90);

  public final String listenAddress;
  public final int port;

  /** Runs the server's processes, such as {@code ip netns exec <namespace>}; empty for none. */
  private final List<String> launcher;

  private final Path bin;
  private final Path dir;
  private final Path data;
  private final Path log;
  private final Thread stopOnExit = new Thread(this::stopAndDelete, "stop-private-postgres");

  private PrivatePostgres(
      List<String> launcher, String listenAddress, int port, Path bin, Path dir) {
    this.launcher = launcher;
    this.listenAddress = listenAddress;
    this.port = port;
    this.bin = bin;
    this.dir = dir;
    this.data = dir.resolve("data");
    this.log = dir.resolve("postgres.log");
  }

  /**
   * Whether this machine can run one: root (to act as {@code postgres}), {@code runuser}, and the
   * server binaries. Empty when it can; else why not.
   */
  public static java.util.Optional<String> unavailable() {
    if (!"root".equals(System.getProperty("user.name")))
      return java.util.Optional.of("not running as root");
    if (!Files.isExecutable(Path.of("/usr/sbin/runuser"))
        && !Files.isExecutable(Path.of("/sbin/runuser"))) {
      return java.util.Optional.of("runuser is missing");
    }
    if (binaries().isEmpty())
      return java.util.Optional.of("no initdb and pg_ctl under " + VERSIONS + "/*/bin");
    return java.util.Optional.empty();
  }

  /**
   * Creates and starts a server listening on {@code listenAddress}:{@code port}, trusting clients
   * from {@code trustedCidrs} (and the loopback address).
   */
  public static PrivatePostgres start(String listenAddress, int port, List<String> trustedCidrs)
      throws IOException, InterruptedException {
    return start(List.of(), listenAddress, port, trustedCidrs, false);
  }

  /**
   * As {@link #start(String, int, List)}, the server started through {@code launcher} (a network
   * namespace, a CPU group); {@code durable}: fsync and full-page writes on, as in production.
   */
  public static PrivatePostgres start(
      List<String> launcher,
      String listenAddress,
      int port,
      List<String> trustedCidrs,
      boolean durable)
      throws IOException, InterruptedException {
    Path bin =
        binaries()
            .orElseThrow(
                () -> new IllegalStateException("no PostgreSQL binaries under " + VERSIONS));
    Path dir = Files.createTempDirectory("keel-it-pg-");
    PrivatePostgres pg = new PrivatePostgres(launcher, listenAddress, port, bin, dir);
    Runtime.getRuntime().addShutdownHook(pg.stopOnExit);
    try {
      run(List.of("chown", OS_USER + ":", dir.toString()));
      pg.asPostgres(
          List.of(
              bin.resolve("initdb").toString(),
              "-D",
              pg.data.toString(),
              "-U",
              "postgres",
              "--auth=trust",
              "-E",
              "UTF8",
              "--locale=C.UTF-8",
              "--no-sync"));
      List<String> conf =
          new ArrayList<>(
              List.of(
                  "listen_addresses = '" + listenAddress + "'",
                  "port = " + port,
                  "unix_socket_directories = '" + dir + "'",
                  "max_connections = 150",
                  "fsync = " + (durable ? "on" : "off"),
                  "full_page_writes = " + (durable ? "on" : "off"),
                  "logging_collector = off"));
      Files.write(
          pg.data.resolve("postgresql.conf"),
          conf,
          StandardCharsets.UTF_8,
          java.nio.file.StandardOpenOption.APPEND);
      List<String> hba =
          new ArrayList<>(
              List.of(
                  "local all all trust",
                  "host all all 127.0.0.1/32 trust",
                  // A standby of this server (startStandby) streams its WAL from here.
                  "host replication all 127.0.0.1/32 trust"));
      for (String cidr : trustedCidrs) hba.add("host all all " + cidr + " trust");
      // As a file the postgres user can read: written by root, then handed over.
      Files.write(pg.data.resolve("pg_hba.conf"), hba, StandardCharsets.UTF_8);
      run(List.of("chown", "-R", OS_USER + ":", pg.data.toString()));
      pg.startServer();
      return pg;
    } catch (IOException | InterruptedException | RuntimeException e) {
      pg.close();
      throw e;
    }
  }

  /**
   * A streaming-replication standby of this server (a read replica) on 127.0.0.1:{@code port}:
   * {@code pg_basebackup -R} from this one, then started; it follows this server's WAL.
   */
  public PrivatePostgres startStandby(int port) throws IOException, InterruptedException {
    Path dir = Files.createTempDirectory("keel-it-pg-standby-");
    PrivatePostgres standby = new PrivatePostgres(List.of(), "127.0.0.1", port, bin, dir);
    Runtime.getRuntime().addShutdownHook(standby.stopOnExit);
    try {
      run(List.of("chown", OS_USER + ":", dir.toString()));
      standby.asPostgres(
          List.of(
              bin.resolve("pg_basebackup").toString(),
              "-h",
              "127.0.0.1",
              "-p",
              Integer.toString(this.port),
              "-U",
              "postgres",
              "-D",
              standby.data.toString(),
              "-X",
              "stream",
              "-R",
              // A fast checkpoint: a spread one waits up to checkpoint_timeout (5 min).
              "--checkpoint=fast",
              "--no-sync"));
      Files.write(
          standby.data.resolve("postgresql.conf"),
          List.of(
              "port = " + port,
              "listen_addresses = '127.0.0.1'",
              "unix_socket_directories = '" + dir + "'",
              "hot_standby = on"),
          StandardCharsets.UTF_8,
          java.nio.file.StandardOpenOption.APPEND);
      run(List.of("chown", "-R", OS_USER + ":", standby.data.toString()));
      standby.startServer();
      return standby;
    } catch (IOException | InterruptedException | RuntimeException e) {
      standby.close();
      throw e;
    }
  }

  /** {@code pg_ctl start}, returning once the server accepts connections. */
  public void startServer() throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(launcher);
    command.addAll(List.of("runuser", "-u", OS_USER, "--"));
    command.addAll(
        List.of(
            bin.resolve("pg_ctl").toString(),
            "-D",
            data.toString(),
            "-l",
            log.toString(),
            "-w",
            "-t",
            "60",
            "start"));
    run(command);
  }

  /** {@code pg_ctl stop -m mode} ({@code fast}: connections are ended, as in a real restart). */
  public void stopServer(String mode) throws IOException, InterruptedException {
    asPostgres(
        List.of(
            bin.resolve("pg_ctl").toString(),
            "-D",
            data.toString(),
            "-w",
            "-t",
            "60",
            "-m",
            mode,
            "stop"));
  }

  public String jdbcUrl(String database) {
    return "jdbc:postgresql://" + listenAddress + ":" + port + "/" + database;
  }

  public void createDatabase(String name) {
    try (Connection c = DriverManager.getConnection(jdbcUrl("postgres"), "postgres", "");
        Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + name);
    } catch (Exception e) {
      throw new IllegalStateException(
          "CREATE DATABASE "
              + name
              + " on the private PostgreSQL: "
              + e.getMessage()
              + "\n"
              + logTail(),
          e);
    }
  }

  /** The server's own log (last lines), for assertion messages. */
  public String logTail() {
    try {
      List<String> lines =
          Files.exists(log) ? Files.readAllLines(log, StandardCharsets.UTF_8) : List.of();
      return "----- private PostgreSQL log ("
          + log
          + "):\n"
          + String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    } catch (IOException e) {
      return "(cannot read " + log + ": " + e + ")";
    }
  }

  @Override
  public void close() {
    stopAndDelete();
    try {
      Runtime.getRuntime().removeShutdownHook(stopOnExit);
    } catch (IllegalStateException shuttingDown) {
      // The hook runs anyway.
    }
  }

  private synchronized void stopAndDelete() {
    if (!Files.exists(dir)) return;
    try {
      if (Files.exists(data.resolve("postmaster.pid"))) stopServer("immediate");
    } catch (IOException | InterruptedException | RuntimeException e) {
      System.out.println("[PrivatePostgres] stop failed: " + e.getMessage());
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      System.out.println("[PrivatePostgres] " + dir + " not deleted: " + e.getMessage());
    }
  }

  private void asPostgres(List<String> command) throws IOException, InterruptedException {
    List<String> full = new ArrayList<>(List.of("runuser", "-u", OS_USER, "--"));
    full.addAll(command);
    run(full);
  }

  /**
   * Runs {@code command} (in {@link #dir}'s parent, readable by anyone), failing with its output
   * unless it exits 0.
   */
  private static void run(List<String> command) throws IOException, InterruptedException {
    Path out = Files.createTempFile("keel-it-pg-cmd-", ".log");
    try {
      Process p =
          new ProcessBuilder(command)
              .directory(new java.io.File("/"))
              .redirectErrorStream(true)
              .redirectOutput(out.toFile())
              .start();
      Instant started = Instant.now();
      if (!p.waitFor(COMMAND_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(
            String.join(" ", command) + " did not end within " + COMMAND_DEADLINE);
      }
      if (p.exitValue() != 0) {
        throw new IllegalStateException(
            String.join(" ", command)
                + " exited "
                + p.exitValue()
                + " after "
                + Duration.between(started, Instant.now()).toMillis()
                + " ms:\n"
                + Files.readString(out));
      }
    } finally {
      Files.deleteIfExists(out);
    }
  }

  /** The bin folder of the newest installed version that has initdb and pg_ctl. */
  private static java.util.Optional<Path> binaries() {
    if (!Files.isDirectory(VERSIONS)) return java.util.Optional.empty();
    try (Stream<Path> versions = Files.list(VERSIONS)) {
      return versions
          .map(v -> v.resolve("bin"))
          .filter(
              b ->
                  Files.isExecutable(b.resolve("initdb"))
                      && Files.isExecutable(b.resolve("pg_ctl")))
          .max(Comparator.comparingInt(b -> versionNumber(b.getParent().getFileName().toString())));
    } catch (IOException e) {
      return java.util.Optional.empty();
    }
  }

  private static int versionNumber(String name) {
    try {
      return Integer.parseInt(name.replaceAll("\\D.*$", ""));
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}
