package dev.keel.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * One {@code java -jar keel.jar server ...} child process for integration tests. Its stdout and
 * stderr go to separate files under {@code target/<dir>/}, so a test can tell the one start-up line
 * on stderr from the log on stdout. {@link #close} kills the process and its descendants.
 */
final class KeelChildProcess implements AutoCloseable {

  static final Duration EXIT_DEADLINE = Duration.ofSeconds(90);
  static final Duration READY_DEADLINE = Duration.ofSeconds(90);

  final String name;
  final Process process;
  final Path stdout;
  final Path stderr;
  final int httpPort;

  /** The address {@link #uri} reaches the node's HTTP port at. */
  final String httpHost;

  private final List<String> command;

  private KeelChildProcess(
      String name,
      Process process,
      Path stdout,
      Path stderr,
      String httpHost,
      int httpPort,
      List<String> command) {
    this.name = name;
    this.process = process;
    this.stdout = stdout;
    this.stderr = stderr;
    this.httpHost = httpHost;
    this.httpPort = httpPort;
    this.command = command;
  }

  /**
   * Starts {@code keel server} with {@code args}. The child gets no {@code KEEL_*} variable from
   * whoever runs the build, only those in {@code env}. {@code httpPort} is only remembered for
   * {@link #uri}; pass it in {@code args} yourself.
   */
  static KeelChildProcess start(
      Path logDir, String name, List<String> args, Map<String, String> env, int httpPort)
      throws IOException {
    return start(logDir, name, "server", args, env, httpPort);
  }

  /**
   * As {@link #start(Path, String, List, Map, int)} for another subcommand, such as {@code run}.
   */
  static KeelChildProcess start(
      Path logDir,
      String name,
      String subcommand,
      List<String> args,
      Map<String, String> env,
      int httpPort)
      throws IOException {
    return start(logDir, name, List.of(), subcommand, args, env, "127.0.0.1", httpPort);
  }

  /**
   * As {@link #start(Path, String, String, List, Map, int)}, with {@code launcher} before the java
   * command (such as {@code ip netns exec <namespace>}, which runs java itself, under the same pid)
   * and the node's HTTP port reached at {@code httpHost}.
   */
  static KeelChildProcess start(
      Path logDir,
      String name,
      List<String> launcher,
      String subcommand,
      List<String> args,
      Map<String, String> env,
      String httpHost,
      int httpPort)
      throws IOException {
    return start(logDir, name, launcher, subcommand, args, env, httpHost, httpPort, null);
  }

  /** As above, in {@code workingDir} (null: the test JVM's), as a user in another terminal. */
  static KeelChildProcess start(
      Path logDir,
      String name,
      List<String> launcher,
      String subcommand,
      List<String> args,
      Map<String, String> env,
      String httpHost,
      int httpPort,
      Path workingDir)
      throws IOException {
    Files.createDirectories(logDir);
    List<String> command = new ArrayList<>(launcher);
    command.addAll(List.of(java(), "-jar", jar().toString(), subcommand));
    command.addAll(args);
    Path out = logDir.resolve(name + ".stdout.log");
    Path err = logDir.resolve(name + ".stderr.log");
    ProcessBuilder pb =
        new ProcessBuilder(command)
            .redirectOutput(ProcessBuilder.Redirect.to(out.toFile()))
            .redirectError(ProcessBuilder.Redirect.to(err.toFile()));
    if (workingDir != null) pb.directory(workingDir.toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("KEEL_"));
    pb.environment().putAll(env);
    return new KeelChildProcess(name, pb.start(), out, err, httpHost, httpPort, command);
  }

  private static Path jarCopy;

  /** The java launcher of the JVM running the tests. */
  static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /**
   * A private copy of the node jar, made once per test JVM: a build running beside the tests may
   * rewrite {@code target/keel.jar} while a child still reads classes from it.
   */
  static synchronized Path jar() throws IOException {
    if (jarCopy != null) return jarCopy;
    Path jar = Path.of(System.getProperty("keel.jar", "target/keel.jar")).toAbsolutePath();
    if (!Files.isRegularFile(jar)) {
      throw new AssertionError(
          "no node jar at "
              + jar
              + "; build it with mvn -DskipTests package (or pass -Dkeel.jar=...)");
    }
    Path copy = Files.createTempFile("keel-it-", ".jar");
    copy.toFile().deleteOnExit();
    Files.copy(jar, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    jarCopy = copy;
    return copy;
  }

  /**
   * Waits for the process to end by itself; fails (with the output) when it does not within the
   * deadline.
   */
  int awaitExit(Duration deadline) throws InterruptedException {
    if (!process.waitFor(deadline.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError(
          describe(
              "node "
                  + name
                  + " still runs after "
                  + deadline
                  + " (expected it to stop on its own)"));
    }
    return process.exitValue();
  }

  void awaitReady(HttpClient http) throws Exception {
    awaitReady(http, READY_DEADLINE);
  }

  /**
   * Until {@code /ready} answers 200, for at most {@code within} (several JVMs starting at once on
   * a busy machine).
   */
  void awaitReady(HttpClient http, Duration within) throws Exception {
    Instant deadline = Instant.now().plus(within);
    String last = "no answer";
    while (Instant.now().isBefore(deadline)) {
      if (!process.isAlive()) {
        throw new AssertionError(
            describe(
                "node " + name + " exited with " + process.exitValue() + " before it was ready"));
      }
      try {
        HttpResponse<String> r =
            http.send(
                HttpRequest.newBuilder(uri("/ready")).timeout(Duration.ofSeconds(5)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) return;
        last = r.statusCode() + " " + r.body();
      } catch (IOException notListeningYet) {
        last = notListeningYet.toString();
      }
      Thread.sleep(200);
    }
    throw new AssertionError(
        describe("node " + name + " not ready within " + within + "; last /ready: " + last));
  }

  URI uri(String path) {
    return URI.create("http://" + httpHost + ":" + httpPort + path);
  }

  String stdoutText() {
    return read(stdout);
  }

  String stderrText() {
    return read(stderr);
  }

  /** Non-blank lines of stderr. */
  List<String> stderrLines() {
    return stderrText().lines().filter(l -> !l.isBlank()).toList();
  }

  /**
   * The message, the command line, the exit state and both outputs (tails), for assertion messages.
   */
  String describe(String message) {
    return message
        + "\n----- command: "
        + String.join(" ", command)
        + "\n----- "
        + (process.isAlive() ? "alive" : "exit code " + process.exitValue())
        + "\n----- stderr ("
        + stderr
        + "):\n"
        + tail(stderrText(), 40)
        + "\n----- stdout ("
        + stdout
        + "):\n"
        + tail(stdoutText(), 80);
  }

  /** Kills the process and its descendants, waiting at most 30 s. */
  @Override
  public void close() {
    process.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
    try {
      process.waitFor(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  // ---------------------------------------------------------------- helpers for the tests

  static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  /** Lines that look like a stack trace or an exception. */
  static List<String> stackTraceLines(String output) {
    return output.lines().filter(l -> l.startsWith("\tat ") || l.contains("Exception")).toList();
  }

  static void deleteQuietly(Path dir) {
    if (dir == null || !Files.exists(dir)) return;
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | UncheckedIOException e) {
      // Temp files: the OS cleans up.
    }
  }

  static void assertOneLineNaming(KeelChildProcess node, int exitCode, String setting) {
    List<String> lines = node.stderrLines();
    assertThat(exitCode)
        .as(node.describe("exit code of a start-up with a bad " + setting))
        .isEqualTo(2);
    assertThat(lines).as(node.describe("exactly one line on stderr")).hasSize(1);
    assertThat(lines.get(0))
        .as(node.describe("the stderr line names " + setting))
        .startsWith("keel: " + setting + ": ")
        .hasSizeGreaterThan(("keel: " + setting + ": ").length());
    assertThat(stackTraceLines(node.stderrText() + "\n" + node.stdoutText()))
        .as(node.describe("no stack trace and no exception in stderr and stdout"))
        .isEmpty();
  }

  private static String read(Path file) {
    try {
      return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      return "(cannot read " + file + ": " + e + ")";
    }
  }

  private static String tail(String text, int lines) {
    List<String> all = text.lines().toList();
    return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
  }
}
