package dev.keel.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * N Keel nodes, each a child process ({@code java -jar keel.jar server}) with ports, a data
 * directory and a log file per start of its own, all on one PostgreSQL database, with the signals
 * the faults need: SIGKILL, SIGTERM, SIGSTOP and SIGCONT, each sent to one child by its process id.
 * Where each node runs is its {@link Placement}: 127.0.0.1 for {@code FaultBench}; a network
 * namespace and a CPU group of its own for {@code ScaleBench}. A shutdown hook kills every child
 * should the bench itself be stopped.
 */
final class LocalCluster implements AutoCloseable {

  /** What every node is started with; {@code nodes} is how many the cluster may have. */
  record Settings(
      int nodes,
      Path jar,
      Path workDir,
      String nodeJavaOptions,
      String databaseUrl,
      String databaseUser,
      Duration leaseTimeout) {}

  /**
   * Where node {@code node} (0-based) runs: the address it binds, and the command prefix that puts
   * it there.
   */
  interface Placement {
    String host(int node);

    List<String> launcher(int node);

    /** Every node on 127.0.0.1, started directly. */
    static Placement loopback() {
      return new Placement() {
        @Override
        public String host(int node) {
          return "127.0.0.1";
        }

        @Override
        public List<String> launcher(int node) {
          return List.of();
        }
      };
    }
  }

  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration POLL = Duration.ofMillis(250);

  private final Settings options;
  private final Placement placement;
  private final String token;
  private final Path jar;
  private final int[] httpPorts;
  private final int[] clusterPorts;
  private final Process[] processes;
  private final int[] starts;
  private final List<Path> logs = new CopyOnWriteArrayList<>();

  /** Every node start: for telling which formation happened beside a living cluster. */
  private final List<NodeStart> nodeStarts = new CopyOnWriteArrayList<>();

  /** Nodes the bench itself stopped (SIGKILL, SIGTERM) and has not started again yet. */
  private final boolean[] stoppedOnPurpose;

  /** Node starts that exited by themselves (downed, fenced), as the supervisor saw them. */
  private final List<String> selfStops = new CopyOnWriteArrayList<>();

  private record NodeStart(
      int node,
      Path log,
      Instant started,
      Process process,
      java.util.concurrent.atomic.AtomicReference<Instant> exited) {}

  private final HttpClient http = NodeHttp.client();
  private final Thread killOnExit = new Thread(this::killAll, "kill-keel-nodes");

  private LocalCluster(Settings options, Placement placement, String token, Path jar)
      throws IOException {
    this.options = options;
    this.placement = placement;
    this.token = token;
    this.jar = jar;
    int n = options.nodes();
    httpPorts = new int[n];
    clusterPorts = new int[n];
    java.util.Set<Integer> taken = new java.util.HashSet<>();
    for (int i = 0; i < n; i++) {
      httpPorts[i] = freePort(taken);
      clusterPorts[i] = freePort(taken);
    }
    processes = new Process[n];
    starts = new int[n];
    stoppedOnPurpose = new boolean[n];
    Runtime.getRuntime().addShutdownHook(killOnExit);
  }

  /**
   * A cluster of {@code options.nodes()} nodes, none started yet. The node jar is copied into the
   * work directory first, so that a build beside the bench cannot change it under a running node.
   */
  static LocalCluster prepare(FaultOptions options, String token) throws IOException {
    return prepare(
        new Settings(
            options.nodes(),
            options.jar(),
            options.workDir(),
            options.nodeJavaOptions(),
            options.databaseUrl(),
            options.databaseUser(),
            options.leaseTimeout()),
        Placement.loopback(),
        token);
  }

  /** As {@link #prepare(FaultOptions, String)}, each node where {@code placement} puts it. */
  static LocalCluster prepare(Settings options, Placement placement, String token)
      throws IOException {
    if (!Files.isRegularFile(options.jar())) {
      throw new IllegalArgumentException(
          "no node jar at " + options.jar() + "; build it with mvn -B -q -DskipTests package");
    }
    Files.createDirectories(options.workDir().resolve("logs"));
    Path copy = options.workDir().resolve("keel.jar");
    Files.copy(options.jar(), copy, StandardCopyOption.REPLACE_EXISTING);
    return new LocalCluster(options, placement, token, copy);
  }

  int size() {
    return processes.length;
  }

  URI uri(int node) {
    return URI.create("http://" + placement.host(node) + ":" + httpPorts[node]);
  }

  List<URI> uris() {
    return IntStream.range(0, size()).mapToObj(this::uri).toList();
  }

  /** Every node start's log so far. */
  List<Path> logs() {
    return List.copyOf(logs);
  }

  /**
   * Starts node {@code node} (0 is the first seed node); its output goes to a log of this start's
   * own.
   */
  synchronized void start(int node) throws IOException {
    String seeds =
        IntStream.range(0, size())
            .mapToObj(n -> placement.host(n) + ":" + clusterPorts[n])
            .collect(Collectors.joining(","));
    List<String> command = new ArrayList<>(placement.launcher(node));
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    if (!options.nodeJavaOptions().isEmpty())
      command.addAll(Arrays.asList(options.nodeJavaOptions().split("\\s+")));
    command.addAll(
        List.of(
            "-jar",
            jar.toString(),
            "server",
            "--host",
            placement.host(node),
            "--http-port",
            Integer.toString(httpPorts[node]),
            "--cluster-port",
            Integer.toString(clusterPorts[node]),
            "--seed-nodes",
            seeds,
            "--data-dir",
            options.workDir().resolve("node-" + (node + 1)).toString(),
            "--database-url",
            options.databaseUrl(),
            "--database-user",
            options.databaseUser(),
            "--cluster-lease-timeout",
            options.leaseTimeout().toMillis() + "ms"));
    Path log =
        options
            .workDir()
            .resolve("logs")
            .resolve(String.format("node-%d-start-%02d.log", node + 1, ++starts[node]));
    ProcessBuilder builder =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    Map<String, String> env = builder.environment();
    String password = env.get("KEEL_DATABASE_PASSWORD");
    env.keySet().removeIf(k -> k.startsWith("KEEL_"));
    env.put("KEEL_ADMIN_TOKEN", token);
    if (password != null) env.put("KEEL_DATABASE_PASSWORD", password);
    logs.add(log);
    Process process = builder.start();
    processes[node] = process;
    stoppedOnPurpose[node] = false;
    java.util.concurrent.atomic.AtomicReference<Instant> exited =
        new java.util.concurrent.atomic.AtomicReference<>();
    process.onExit().thenRun(() -> exited.set(Instant.now()));
    nodeStarts.add(new NodeStart(node, log, Instant.now(), process, exited));
  }

  /**
   * Every node start so far: which node, when it became a member (from its log) and when it exited.
   */
  List<SecondClusters.Life> lives() {
    Map<Path, Instant> members =
        NodeLogs.fromStart().firstLineTimes(logs(), NodeLogs.BECAME_MEMBER);
    return nodeStarts.stream()
        .map(s -> new SecondClusters.Life(s.node(), members.get(s.log()), s.exited().get()))
        .toList();
  }

  /** The node whose start wrote {@code log}. */
  int nodeOf(Path log) {
    return nodeStarts.stream().filter(s -> s.log().equals(log)).findFirst().orElseThrow().node();
  }

  /** How many node starts have exited by themselves so far (and were started again). */
  int selfStops() {
    return selfStops.size();
  }

  /** The self-stops from {@code index} on, one line each. */
  List<String> selfStopsSince(int index) {
    return List.copyOf(selfStops.subList(index, selfStops.size()));
  }

  /**
   * As a supervisor would (systemd's {@code Restart=on-failure}, Kubernetes): starts again every
   * node that exited without the bench stopping it, such as one downed by the split-brain resolver
   * or fenced (exit code 1).
   */
  private synchronized void restartSelfStopped() throws IOException {
    for (int node = 0; node < size(); node++) {
      Process p = processes[node];
      if (p != null && !p.isAlive() && !stoppedOnPurpose[node]) {
        selfStops.add(
            "node " + (node + 1) + " exited with " + p.exitValue() + " at " + Instant.now());
        start(node);
      }
    }
  }

  /** SIGKILL, and waits for the process to be gone. */
  void kill(int node) throws InterruptedException {
    stoppedOnPurpose[node] = true;
    processes[node].destroyForcibly();
    processes[node].waitFor(30, TimeUnit.SECONDS);
  }

  /** SIGTERM: the node hands its shards off and leaves (CoordinatedShutdown). */
  void terminate(int node) {
    stoppedOnPurpose[node] = true;
    processes[node].destroy();
  }

  /**
   * The exit code once the node has exited by itself, or -1 if it still runs after {@code
   * deadline}.
   */
  int awaitExit(int node, Duration deadline) throws InterruptedException {
    Process p = processes[node];
    return p.waitFor(deadline.toMillis(), TimeUnit.MILLISECONDS) ? p.exitValue() : -1;
  }

  /**
   * SIGSTOP: the process keeps its sockets (the kernel still accepts connections) and answers
   * nothing, as in a long pause.
   */
  void pause(int node) throws IOException, InterruptedException {
    signal(node, "-STOP");
  }

  /** SIGCONT. */
  void resume(int node) throws IOException, InterruptedException {
    signal(node, "-CONT");
  }

  private void signal(int node, String signal) throws IOException, InterruptedException {
    Process p = processes[node];
    if (!p.isAlive()) return;
    int code =
        new ProcessBuilder("kill", signal, Long.toString(p.pid())).inheritIO().start().waitFor();
    if (code != 0) throw new IOException("kill " + signal + " " + p.pid() + " exited with " + code);
  }

  /**
   * Until the current start of {@code node} has logged a line containing {@code text}; false at the
   * deadline.
   */
  boolean awaitLog(int node, String text, Duration deadline) throws InterruptedException {
    Path log =
        options
            .workDir()
            .resolve("logs")
            .resolve(String.format("node-%d-start-%02d.log", node + 1, starts[node]));
    Instant until = Instant.now().plus(deadline);
    while (Instant.now().isBefore(until) && processes[node].isAlive()) {
      try {
        if (Files.exists(log)
            && new String(Files.readAllBytes(log), StandardCharsets.UTF_8).contains(text))
          return true;
      } catch (IOException e) {
        // Being written: read again.
      }
      Thread.sleep(50);
    }
    return false;
  }

  /**
   * Until every node answers {@code /ready} with 200 and shows all {@link #size()} members Up in
   * {@code GET /api/v1/cluster}: one cluster of all nodes again. A node that exits by itself
   * meanwhile is started again ({@link #restartSelfStopped}). Null then, else why not.
   */
  String awaitOneClusterOfAll(Duration deadline) throws InterruptedException, IOException {
    Instant until = Instant.now().plus(deadline);
    String last = "not asked";
    while (Instant.now().isBefore(until)) {
      restartSelfStopped();
      last = notOneClusterOfAll();
      if (last == null) return null;
      Thread.sleep(POLL.toMillis());
    }
    return last;
  }

  /** The nodes started and not stopped on purpose since: those a cluster of all should hold. */
  synchronized List<Integer> running() {
    return IntStream.range(0, size())
        .filter(n -> processes[n] != null && !stoppedOnPurpose[n])
        .boxed()
        .toList();
  }

  private String notOneClusterOfAll() throws InterruptedException {
    List<Integer> running = running();
    for (int node : running) {
      if (!processes[node].isAlive())
        return "node " + (node + 1) + " exited with " + processes[node].exitValue();
      try {
        HttpResponse<String> ready = get(node, "/ready");
        if (ready.statusCode() != 200)
          return "node " + (node + 1) + " /ready answered " + ready.statusCode();
        HttpResponse<String> view = get(node, "/api/v1/cluster");
        if (view.statusCode() != 200)
          return "node " + (node + 1) + " /api/v1/cluster answered " + view.statusCode();
        JsonNode members = LoadReport.JSON.readTree(view.body()).path("members");
        long up = 0;
        for (JsonNode m : members) if (m.path("status").asText().equals("up")) up++;
        if (members.size() != running.size() || up != running.size()) {
          return "node " + (node + 1) + " sees " + up + " of " + members.size() + " members Up";
        }
      } catch (IOException e) {
        return "node " + (node + 1) + ": " + e;
      }
    }
    return null;
  }

  /**
   * Until the workflow shards are spread evenly over all nodes again (counts differing by at most
   * one): the end of the shard moves a fault sets off. When that was, or null at the deadline.
   */
  Instant awaitBalancedShards(Duration deadline) throws InterruptedException {
    Instant until = Instant.now().plus(deadline);
    int asked = 0;
    while (Instant.now().isBefore(until)) {
      List<Integer> running = running();
      int node = running.get(asked++ % running.size());
      try {
        HttpResponse<String> view = processes[node].isAlive() ? get(node, "/api/v1/cluster") : null;
        if (view != null && view.statusCode() == 200) {
          JsonNode counts =
              LoadReport.JSON.readTree(view.body()).path("shardCounts").path("workflow");
          int min = Integer.MAX_VALUE;
          int max = 0;
          for (JsonNode count : counts) {
            min = Math.min(min, count.asInt());
            max = Math.max(max, count.asInt());
          }
          if (counts.size() == running.size() && max - min <= 1) return Instant.now();
        }
      } catch (IOException e) {
        // Busy: ask the next node.
      }
      Thread.sleep(1000);
    }
    return null;
  }

  /**
   * {@code GET /api/v1/cluster} of {@code node}: members, and where each entity type's shards are.
   */
  JsonNode clusterView(int node) throws IOException, InterruptedException {
    HttpResponse<String> view = get(node, "/api/v1/cluster");
    if (view.statusCode() != 200)
      throw new IOException(
          "node " + (node + 1) + " /api/v1/cluster answered " + view.statusCode());
    return LoadReport.JSON.readTree(view.body());
  }

  private HttpResponse<String> get(int node, String path) throws IOException, InterruptedException {
    return http.send(
        HttpRequest.newBuilder(URI.create(uri(node) + path))
            .timeout(REQUEST_TIMEOUT)
            .header("Authorization", "Bearer " + token)
            .GET()
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /**
   * SIGCONT to any stopped node, then SIGTERM to all, and waits for them to leave; SIGKILL to those
   * that do not.
   */
  @Override
  public void close() throws InterruptedException {
    java.util.Arrays.fill(stoppedOnPurpose, true);
    for (int node = 0; node < size(); node++) {
      if (processes[node] == null || !processes[node].isAlive()) continue;
      try {
        resume(node);
      } catch (IOException e) {
        // Killed below.
      }
      processes[node].destroy();
    }
    for (int node = 0; node < size(); node++) {
      if (processes[node] != null && awaitExit(node, Duration.ofSeconds(60)) == -1) kill(node);
    }
    try {
      Runtime.getRuntime().removeShutdownHook(killOnExit);
    } catch (IllegalStateException shuttingDown) {
      // The hook runs anyway.
    }
  }

  private void killAll() {
    for (Process p : processes) if (p != null) p.destroyForcibly();
  }

  /** A port free now and not yet given to another node (the kernel may hand one out twice). */
  private static int freePort(java.util.Set<Integer> taken) throws IOException {
    while (true) {
      try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
        if (taken.add(socket.getLocalPort())) return socket.getLocalPort();
      }
    }
  }
}
