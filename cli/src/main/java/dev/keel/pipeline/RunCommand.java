package dev.keel.pipeline;

import com.typesafe.config.ConfigFactory;
import dev.keel.cli.RunFile;
import dev.keel.cli.UsageError;
import dev.keel.client.KeelClient;
import dev.keel.node.ConfigProblem;
import dev.keel.node.KeelNode;
import dev.keel.workflow.execution.NodeWorkflowRegistry;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import sun.misc.Signal;

/**
 * {@code keel run [FILE]}: a pipeline of processes with an embedded, single-node control plane.
 * Validates the whole file first (nothing starts from a file with mistakes), starts the node (H2
 * under the data dir), issues the pipeline's tenant key, runs the components ({@link
 * PipelineRunner}) until Ctrl+C or SIGTERM, then stops them in reverse order and the node last.
 */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description = {
      "Run a pipeline (sources, processors, sinks; each a process) with an embedded control plane.",
      "Each component gets KEEL_ENDPOINT, KEEL_TOKEN, KEEL_SERVICE_ID and KEEL_HEARTBEAT_INTERVAL,"
          + " and must register.",
      "Output goes to logs/<id>.log beside the file and to the console. Ctrl+C stops everything."
    },
    exitCodeListHeading = "Exit codes:%n",
    exitCodeList = {
      "0:stopped on request, every component ended within the grace period",
      "1:a component failed the run, or had to be killed",
      "2:bad pipeline file or option, the port is taken, the control plane did not start"
    })
public final class RunCommand implements Callable<Integer>, UsageError.Reported {

  static final int OK = 0;
  static final int FAILED = 1;
  static final int USAGE = 2;
  private static final Duration READY_WITHIN = Duration.ofSeconds(60);

  /**
   * The client's own lines (java.util.logging, two lines each on stderr) would cut through the
   * status; its warnings still show. A strong reference: JUL forgets the level of a collected
   * logger.
   */
  private static final java.util.logging.Logger CLIENT_LOG =
      java.util.logging.Logger.getLogger("dev.keel.client");

  @Parameters(
      arity = "0..1",
      paramLabel = "FILE",
      defaultValue = "pipeline.yaml",
      description = "The pipeline file (default: ${DEFAULT-VALUE})")
  Path file;

  @Option(
      names = "--control-plane-port",
      paramLabel = "PORT",
      defaultValue = "8080",
      description =
          "HTTP port of the embedded control plane; 0 picks a free one (default: ${DEFAULT-VALUE})")
  int port;

  @Option(
      names = "--data-dir",
      paramLabel = "DIR",
      description = "The embedded node's database and admin token (default: .keel beside the file)")
  Path dataDir;

  @Option(
      names = "--logs-dir",
      paramLabel = "DIR",
      description = "Component and node logs (default: logs beside the file)")
  Path logsDir;

  @Option(
      names = "--heartbeat-interval",
      paramLabel = "SECONDS",
      defaultValue = "5",
      description =
          "KEEL_HEARTBEAT_INTERVAL given to components; also the pipeline's own (default:"
              + " ${DEFAULT-VALUE})")
  int heartbeatSeconds;

  @Option(
      names = "--stop-grace",
      paramLabel = "SECONDS",
      defaultValue = "10",
      description =
          "How long a component may take to end after SIGTERM before SIGKILL (default:"
              + " ${DEFAULT-VALUE})")
  int stopGraceSeconds;

  /** Where the run's messages, output and status go; stderr gets the one-line errors. */
  PrintStream out = System.out;

  PrintStream err = System.err;

  @Override
  public Integer call() throws Exception {
    if (port < 0 || port > 65535)
      return usage("--control-plane-port: " + port + " is not a port number (0-65535)");
    if (heartbeatSeconds < 1 || heartbeatSeconds > 3600)
      return usage("--heartbeat-interval: must be 1 to 3600 seconds");
    if (stopGraceSeconds < 0 || stopGraceSeconds > 3600)
      return usage("--stop-grace: must be 0 to 3600 seconds");
    PipelineSpec spec;
    try {
      spec = PipelineFile.read(file);
    } catch (NoSuchFileException e) {
      return usage("no pipeline file " + file + " (keel run [FILE], default pipeline.yaml)");
    } catch (IOException e) {
      return usage("cannot read " + file + ": " + e.getMessage());
    } catch (PipelineFile.Invalid invalid) {
      invalid.problems().forEach(p -> err.println(p.format(file.toString())));
      err.println(
          "keel: "
              + invalid.problems().size()
              + " problem(s) in "
              + file
              + "; nothing was started");
      return USAGE;
    }
    Path folder = file.toAbsolutePath().getParent();
    Path data = (dataDir == null ? folder.resolve(".keel") : dataDir).toAbsolutePath();
    Path logs = (logsDir == null ? folder.resolve("logs") : logsDir).toAbsolutePath();
    Files.createDirectories(logs);
    NodeLog.toFile(logs.resolve("keel-node.log"));
    CLIENT_LOG.setLevel(java.util.logging.Level.WARNING);

    KeelNode node;
    try {
      node = KeelNode.start(ConfigFactory.parseMap(nodeFlags(data)), new NodeWorkflowRegistry());
    } catch (ConfigProblem p) {
      if (p.setting().equals("KEEL_HTTP_PORT")) {
        return usage(
            "--control-plane-port: "
                + p.getMessage()
                + "; pass another port, or 0 for any free one");
      }
      if (p.setting().equals("KEEL_DATA_DIR")) {
        return usage(
            "--data-dir: " + p.getMessage() + " (is another keel run using " + data + "?)");
      }
      return usage(
          p.line().replaceFirst("^keel: ", "")
              + " (the node's log: "
              + logs.resolve("keel-node.log")
              + ")");
    }
    String endpoint = "http://127.0.0.1:" + node.httpPort();
    RunConsole console = new RunConsole(out, System.console() != null, Clock.systemUTC());
    try {
      if (!awaitReady(endpoint)) {
        err.println(
            "keel: the control plane at "
                + endpoint
                + " was not ready within "
                + READY_WITHIN.toSeconds()
                + "s; see "
                + logs.resolve("keel-node.log"));
        return USAGE;
      }
      PipelineTenant.Key key =
          PipelineTenant.issue(node.tenants(), data, spec.name(), Duration.ofSeconds(10));
      writeRunFile(folder, endpoint, data);
      Map<String, String> keelEnv =
          Map.of(
              "KEEL_ENDPOINT",
              endpoint,
              "KEEL_TOKEN",
              key.apiKey(),
              "KEEL_HEARTBEAT_INTERVAL",
              String.valueOf(heartbeatSeconds));
      int code;
      // Closed before the node stops: closing deregisters the pipeline's own service.
      try (KeelClient keel =
          KeelClient.builder()
              .endpoint(endpoint)
              .token(key.apiKey())
              .serviceId(spec.name())
              .heartbeatInterval(Duration.ofSeconds(heartbeatSeconds))
              .timeout(Duration.ofSeconds(5))
              .build()) {
        PipelineRunner runner =
            new PipelineRunner(
                spec,
                folder,
                logs,
                keel,
                keelEnv,
                console,
                new PipelineRunner.Settings(
                    Duration.ofSeconds(heartbeatSeconds),
                    Duration.ofSeconds(stopGraceSeconds),
                    Duration.ofMillis(250)),
                Clock.systemUTC());
        // Ctrl+C, SIGTERM and a closed terminal ask for the orderly stop; should the JVM end some
        // other
        // way first, the hook kills what is left (the components' watchdogs would do it too).
        // sun.misc.Signal (module jdk.unsupported, kept for exactly this) rather than a shutdown
        // hook: the
        // JVM is not exiting yet, so the stop runs in order on this thread and the exit code is the
        // run's.
        for (String signal : new String[] {"INT", "TERM", "HUP"})
          Signal.handle(new Signal(signal), s -> runner.requestStop());
        Thread lastResort = new Thread(runner::killRemaining, "keel-run-kill-components");
        Runtime.getRuntime().addShutdownHook(lastResort);
        console.message("control plane " + endpoint + " (data " + data + ", logs " + logs + ")");
        console.message("from another terminal: " + statusCommand(folder));
        code = runner.run();
      }
      return finish(node, code);
    } catch (RuntimeException | IOException e) {
      err.println("keel: " + e.getMessage());
      deleteRunFile();
      node.close();
      return FAILED;
    }
  }

  /** This run's {@link RunFile}, removed when the run ends (also by the last-resort hook). */
  private Path runFile;

  private void writeRunFile(Path folder, String endpoint, Path data) throws IOException {
    runFile =
        new RunFile(endpoint, data.resolve("admin-token"), ProcessHandle.current().pid())
            .write(folder);
    Runtime.getRuntime().addShutdownHook(new Thread(this::deleteRunFile, "keel-run-file"));
  }

  private void deleteRunFile() {
    Path f = runFile;
    if (f == null) return;
    try {
      Files.deleteIfExists(f);
    } catch (IOException e) {
      // Harmless: a file whose process has ended is ignored by the client commands.
    }
  }

  /**
   * The exact command that works from another terminal: {@code keel} when it is on the PATH, else
   * the launcher that started this run ({@code ./keel} exports itself as {@code KEEL_LAUNCHER}),
   * else {@code java -jar} with this jar.
   */
  static String statusCommand(Path folder) {
    String keel = "keel";
    if (!onPath("keel")) {
      String launcher = System.getenv("KEEL_LAUNCHER");
      if (launcher != null && !launcher.isBlank()) {
        keel = launcher;
      } else {
        try {
          keel =
              "java -jar "
                  + Path.of(
                      RunCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (Exception e) {
          keel = "keel";
        }
      }
    }
    return "cd " + folder + " && " + keel + " status";
  }

  private static boolean onPath(String name) {
    String path = System.getenv("PATH");
    if (path == null) return false;
    for (String dir : path.split(java.io.File.pathSeparator)) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir).resolve(name))) return true;
    }
    return false;
  }

  /**
   * The node's flags: single node, H2 in the data dir, on 127.0.0.1; the run decides when the JVM
   * ends.
   */
  private Map<String, Object> nodeFlags(Path data) {
    Map<String, Object> flags = new HashMap<>();
    flags.put("keel.node.host", "127.0.0.1");
    flags.put("keel.http.port", port);
    flags.put("keel.cluster.port", 0);
    flags.put("keel.cluster.seed-nodes", "");
    flags.put("keel.cluster.discovery", "none");
    flags.put("keel.node.data-dir", data.toString());
    flags.put("keel.database.url", "");
    // Plain HTTP on 127.0.0.1 for the run's own components, whatever KEEL_TLS_* a shell exports
    // for clients of another node.
    flags.put("keel.http.tls.cert", "");
    flags.put("keel.http.tls.key", "");
    flags.put("keel.http.tls.client-ca", "");
    flags.put("keel.tenants.quota-check-schedule", false);
    flags.put("pekko.coordinated-shutdown.exit-jvm", "off");
    flags.put("pekko.coordinated-shutdown.run-by-jvm-shutdown-hook", "off");
    return flags;
  }

  private int finish(KeelNode node, int code) {
    deleteRunFile();
    // projection-jdbc prints a "# stop ..." line per projection to System.out while stopping; the
    // run's console (this.out) has said its last word, so nothing else is lost.
    System.setOut(new PrintStream(java.io.OutputStream.nullOutputStream()));
    node.close();
    out.flush();
    err.flush();
    // Nothing of the run is left; end the JVM with the run's verdict, whatever threads linger.
    System.exit(code);
    return code;
  }

  private static boolean awaitReady(String endpoint) throws IOException {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    Instant deadline = Instant.now().plus(READY_WITHIN);
    while (Instant.now().isBefore(deadline)) {
      try {
        HttpResponse<Void> r =
            http.send(
                HttpRequest.newBuilder(URI.create(endpoint + "/ready"))
                    .timeout(Duration.ofSeconds(5))
                    .GET()
                    .build(),
                HttpResponse.BodyHandlers.discarding());
        if (r.statusCode() == 200) return true;
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return false;
  }

  private int usage(String line) {
    err.println("keel: " + line);
    return USAGE;
  }
}
