package dev.keel.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.client.KeelClient;
import dev.keel.client.ServiceStatus;
import dev.keel.client.ServiceView;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code keel run} as a child process with real pipelines: components are DemoComponent (the Java
 * client: register, heartbeat) from the node jar, or small shell scripts for the ones that crash or
 * never register. Process ids are checked in /proc after every stop: nothing may be left.
 */
class PipelineRunIT {

  private static final Duration DEADLINE = Duration.ofSeconds(90);

  private ChildNodes children;
  private Path dir;

  @BeforeEach
  void setUp() throws IOException {
    children = new ChildNodes("keel-pipeline-it-");
    dir = children.tempDir();
  }

  @AfterEach
  void tearDown() {
    children.close();
  }

  @Test
  void componentsStartInDependencyOrderEachAfterTheOneBeforeRegisteredAndCtrlCStopsEverything()
      throws Exception {
    int port = KeelChildProcess.freePort();
    // The processor takes two seconds before it even starts its JVM: the sink must wait for it to
    // register.
    KeelChildProcess run =
        startRun(
            "ordered",
            port,
            """
              sinks:
                - {id: sink, command: %s, dependsOn: [processor]}
              processors:
                - {id: processor, command: ["sh", "-c", "sleep 2; exec \\"$0\\" \\"$@\\"", %s]}
              sources:
                - {id: source, command: %s, env: {NETWORK: testnet}}
            """
                .formatted(
                    demo("sink"),
                    demo("processor").substring(1, demo("processor").length() - 1),
                    demo("source")));

    awaitOutput(run, "keel run: sink registered");
    assertThat(
            run.stdoutText()
                .lines()
                .filter(l -> l.startsWith("keel run: started ") || l.contains(" registered (pid "))
                .map(l -> l.replace("keel run: ", "").replaceAll(" \\(pid.*", ""))
                .toList())
        .as(run.describe("start and registration order"))
        .containsExactly(
            "started source",
            "source registered",
            "started processor",
            "processor registered",
            "started sink",
            "sink registered");
    assertThat(Files.readString(dir.resolve("logs/source.log")))
        .contains("source source: registered with http://127.0.0.1:" + port);

    // The registry has the components, healthy, under the pipeline's tenant; and the pipeline
    // itself.
    String adminToken = Files.readString(dir.resolve(".keel/admin-token")).trim();
    try (KeelClient admin =
        KeelClient.builder()
            .endpoint("http://127.0.0.1:" + port)
            .token(adminToken)
            .serviceId(null)
            .build()) {
      ServiceView pipeline = awaitService(admin, "ordered", ServiceStatus.HEALTHY);
      assertThat(pipeline.type()).isEqualTo("pipeline");
      assertThat(pipeline.details())
          .containsEntry("source", "healthy")
          .containsEntry("sink", "healthy");
      ServiceView source = admin.getService("source");
      assertThat(source.type()).isEqualTo("source");
      assertThat(source.tenantId()).isEqualTo(pipeline.tenantId()).isNotNull();
    }
    // keel status from another terminal, in the run's folder and with no flags, finds the run
    // through its .keel-run file (owner-only) and shows the same components.
    Path runFile = dir.resolve(".keel-run");
    assertThat(Files.getPosixFilePermissions(runFile))
        .containsExactlyInAnyOrder(
            java.nio.file.attribute.PosixFilePermission.OWNER_READ,
            java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
    assertThat(run.stdoutText()).contains("from another terminal: cd " + dir.toAbsolutePath());
    KeelChildProcess status =
        children.track(
            KeelChildProcess.start(
                dir.resolve("out"),
                "status",
                List.of(),
                "status",
                List.of(),
                Map.of(),
                "127.0.0.1",
                port,
                dir));
    assertThat(status.awaitExit(DEADLINE)).as(status.describe("keel status")).isZero();
    assertThat(status.stdoutText()).contains("source", "processor", "sink", "ordered", "pipeline");

    List<Long> pids = descendants(run);
    assertThat(pids).as("3 wrappers, 3 JVMs, 3 watchdogs at least").hasSizeGreaterThanOrEqualTo(9);
    signal(run, sigintIgnored(run) ? "TERM" : "INT");

    assertThat(run.awaitExit(DEADLINE)).as(run.describe("exit code after Ctrl+C")).isZero();
    assertThat(alive(pids)).as("processes left after the stop").isEmpty();
    List<String> stops =
        run.stdoutText().lines().filter(l -> l.matches("keel run: \\S+ stopped")).toList();
    assertThat(stops)
        .containsExactly(
            "keel run: sink stopped", "keel run: processor stopped", "keel run: source stopped");
    assertThat(run.stdoutText()).contains("keel run: stopped cleanly").doesNotContain("# stop");
    assertThat(runFile).as("keel run removes its file when it ends").doesNotExist();
  }

  @Test
  void aCrashingComponentWithOnFailureIsRestartedAndSigtermStillStopsCleanly() throws Exception {
    KeelChildProcess run =
        startRun(
            "restarts",
            KeelChildProcess.freePort(),
            """
              sources: [{id: flaky, command: ["sh", "-c", "echo attempt; exit 5"], restart: on-failure}]
            """);

    awaitOutput(run, "keel run: flaky exited with code 5; restart 2 in 2s");
    awaitOutput(run, "status flaky restarting restarts=2");
    List<Long> pids = descendants(run);
    signal(run, "TERM");

    assertThat(run.awaitExit(DEADLINE)).as(run.describe("exit code")).isZero();
    assertThat(alive(pids)).isEmpty();
    assertThat(
            Files.readString(dir.resolve("logs/flaky.log"))
                .lines()
                .filter(l -> l.equals("attempt"))
                .count())
        .as("one line per attempt, two attempts at least")
        .isGreaterThanOrEqualTo(2);
  }

  @Test
  void aCrashingComponentWithRestartNeverStopsTheRunNamingItWithItsLastLines() throws Exception {
    KeelChildProcess run =
        startRun(
            "never",
            KeelChildProcess.freePort(),
            """
              sources: [{id: source, command: %s}]
              sinks: [{id: fragile, command: ["sh", "-c", "echo connecting to the warehouse; echo connection refused >&2; exit 4"]}]
            """
                .formatted(demo("source")));

    assertThat(run.awaitExit(DEADLINE)).as(run.describe("exit code")).isEqualTo(1);
    assertThat(run.stdoutText())
        .as(run.describe("the message"))
        .contains(
            "keel run: component fragile exited with code 4 (restart: never); stopping the"
                + " pipeline. Last lines of logs/fragile.log:\n"
                + "  connecting to the warehouse\n"
                + "  connection refused",
            "keel run: source stopped");
    assertThat(
            processesWithArgument(
                KeelChildProcess.jar() + " dev.keel.pipeline.example.DemoComponent"))
        .isEmpty();
  }

  @Test
  void aComponentThatNeverRegistersStopsTheRunAfterItsTimeout() throws Exception {
    KeelChildProcess run =
        startRun(
            "silent",
            KeelChildProcess.freePort(),
            """
              sources: [{id: mute, command: ["sh", "-c", "echo up but not registering; sleep 300"], registerTimeoutSeconds: 2}]
              sinks: [{id: after, command: ["touch", "after-started"], dependsOn: [mute]}]
            """);

    assertThat(run.awaitExit(DEADLINE)).as(run.describe("exit code")).isEqualTo(1);
    assertThat(run.stdoutText())
        .contains(
            "keel run: component mute did not register within 2s (registerTimeoutSeconds); stopping"
                + " the pipeline. Last lines of logs/mute.log:\n"
                + "  up but not registering");
    assertThat(dir.resolve("after-started")).as("the dependent never started").doesNotExist();
    assertThat(processesWithArgument("up but not registering")).isEmpty();
  }

  @Test
  void killingKeelRunWithSigkillLeavesNoComponentProcessBehind() throws Exception {
    KeelChildProcess run =
        startRun(
            "killed",
            KeelChildProcess.freePort(),
            """
              sources: [{id: source, command: %s}]
              sinks: [{id: stubborn, command: ["sh", "-c", "trap '' TERM; sleep 300 & sleep 300"], dependsOn: [source]}]
            """
                .formatted(demo("source")));
    awaitOutput(run, "keel run: started stubborn");
    // "started" is said once the component's shell runs; its two sleeps follow a moment later.
    List<Long> pids = descendants(run);
    Instant treeDeadline = Instant.now().plusSeconds(15);
    while (pids.size() < 6 && Instant.now().isBefore(treeDeadline)) {
      Thread.sleep(100);
      pids = descendants(run);
    }
    assertThat(pids).hasSizeGreaterThanOrEqualTo(6);

    run.process.toHandle().destroyForcibly(); // SIGKILL: no hook, no handler runs in keel run
    run.process.waitFor(30, TimeUnit.SECONDS);

    Instant deadline = Instant.now().plusSeconds(15);
    while (!alive(pids).isEmpty() && Instant.now().isBefore(deadline)) Thread.sleep(100);
    assertThat(alive(pids)).as("component processes left after keel run was killed").isEmpty();
  }

  @Test
  void aTakenPortIsOneLineAndNothingStarts() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      int port = taken.getLocalPort();
      KeelChildProcess run =
          startRun(
              "port",
              port,
              """
                sources: [{id: a, command: ["touch", "a-started"]}]
              """);

      assertThat(run.awaitExit(DEADLINE)).isEqualTo(2);
      assertThat(run.stderrLines())
          .as(run.describe("one line"))
          .singleElement()
          .asString()
          .startsWith("keel: --control-plane-port: port " + port + " on 127.0.0.1 is not available")
          .endsWith("pass another port, or 0 for any free one");
      assertThat(dir.resolve("a-started")).doesNotExist();
    }
  }

  // ---------------------------------------------------------------- helpers

  /**
   * Writes a pipeline named {@code name} with {@code spec} (the lines under {@code spec:}) and runs
   * it.
   */
  private KeelChildProcess startRun(String name, int port, String spec) throws IOException {
    Path file = dir.resolve("pipeline.yaml");
    Files.writeString(
        file,
        "apiVersion: keel/v1\nkind: Pipeline\nmetadata: {name: " + name + "}\nspec:\n" + spec);
    return children.track(
        KeelChildProcess.start(
            dir.resolve("out"),
            name,
            "run",
            List.of(
                file.toString(),
                "--control-plane-port",
                String.valueOf(port),
                "--heartbeat-interval",
                "1",
                "--stop-grace",
                "3"),
            Map.of(),
            port));
  }

  /** The command of a DemoComponent in the given role, as a YAML flow list. */
  private static String demo(String role) throws IOException {
    return List.of(
            KeelChildProcess.java(),
            "-Xmx64m",
            "-XX:TieredStopAtLevel=1",
            "-Xshare:auto",
            "-cp",
            KeelChildProcess.jar().toString(),
            "dev.keel.pipeline.example.DemoComponent",
            role,
            "--records-per-second",
            "5")
        .stream()
        .map(s -> "\"" + s + "\"")
        .collect(Collectors.joining(", ", "[", "]"));
  }

  private static void awaitOutput(KeelChildProcess run, String text) throws InterruptedException {
    Instant deadline = Instant.now().plus(DEADLINE);
    while (!run.stdoutText().contains(text)) {
      if (!run.process.isAlive())
        throw new AssertionError(run.describe("keel run ended before printing: " + text));
      if (Instant.now().isAfter(deadline))
        throw new AssertionError(run.describe("no '" + text + "' within " + DEADLINE));
      Thread.sleep(100);
    }
  }

  private static ServiceView awaitService(KeelClient keel, String id, ServiceStatus status)
      throws InterruptedException {
    Instant deadline = Instant.now().plusSeconds(30);
    ServiceView view = null;
    while (Instant.now().isBefore(deadline)) {
      try {
        view = keel.getService(id);
        if (view.status() == status) return view;
      } catch (dev.keel.client.KeelException notYet) {
        // registering
      }
      Thread.sleep(200);
    }
    throw new AssertionError(id + " not " + status + " within 30s: " + view);
  }

  private static List<Long> descendants(KeelChildProcess run) {
    return run.process.toHandle().descendants().map(ProcessHandle::pid).toList();
  }

  /** Those of {@code pids} that still run (zombies, which only wait to be reaped, do not count). */
  private static List<Long> alive(List<Long> pids) {
    return pids.stream()
        .filter(
            pid -> {
              try {
                String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
                char state = stat.charAt(stat.lastIndexOf(')') + 2);
                return state != 'Z' && state != 'X';
              } catch (IOException gone) {
                return false;
              }
            })
        .toList();
  }

  /** Live processes whose command line contains {@code text}. */
  private static List<Long> processesWithArgument(String text) {
    return ProcessHandle.allProcesses()
        .filter(
            p -> p.info().arguments().map(a -> String.join(" ", a).contains(text)).orElse(false))
        .map(ProcessHandle::pid)
        .filter(pid -> !alive(List.of(pid)).isEmpty())
        .toList();
  }

  private static boolean sigintIgnored(KeelChildProcess run) throws IOException {
    // A JVM started with SIGINT ignored (a background job of a non-interactive shell) keeps it
    // ignored.
    String status = Files.readString(Path.of("/proc", String.valueOf(run.process.pid()), "status"));
    String mask =
        status
            .lines()
            .filter(l -> l.startsWith("SigIgn:"))
            .findFirst()
            .orElse("SigIgn: 0")
            .substring(7)
            .trim();
    return (Long.parseUnsignedLong(mask, 16) & 2L) != 0;
  }

  private static void signal(KeelChildProcess run, String signal) throws Exception {
    new ProcessBuilder("kill", "-" + signal, String.valueOf(run.process.pid()))
        .inheritIO()
        .start()
        .waitFor();
  }
}
