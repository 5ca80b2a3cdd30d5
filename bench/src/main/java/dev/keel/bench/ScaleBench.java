package dev.keel.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.bench.host.CpuGroups;
import dev.keel.bench.host.NetworkNamespaces;
import dev.keel.bench.host.PrivatePostgres;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * How Keel scales by adding nodes, with nodes that each have CPU of their own: 1 to N nodes on one
 * PostgreSQL, each node in a CPU group with the same fixed quota and a network namespace with its
 * own address ({@link CpuGroups}, {@link NetworkNamespaces}), PostgreSQL ({@link PrivatePostgres},
 * fsync on) and this program, which runs the load, in groups of their own. Per cluster size it runs
 * {@link WorkflowLoad} spread over all nodes and prints completed workflows/s, the CPU per workflow
 * of the nodes, PostgreSQL and the load, how many starts crossed to another node, and heartbeats/s
 * held ({@link HeartbeatLoad}, one per node). Between sizes a node joins under load, and at the end
 * one leaves (SIGTERM): each prints the longest time without a completion while the shards move.
 *
 * <pre>
 * bench/scale-bench.sh            # 1 to 4 nodes, about 15 minutes
 * bench/scale-bench.sh --short    # 1 and 2 nodes, under 2 minutes (ScaleBenchIT runs it)
 * </pre>
 *
 * <p>Needs Linux, root, cgroup v1 {@code cpu} and {@code cpuacct}, {@code ip netns} and
 * PostgreSQL's server binaries. Everything it makes (groups, namespaces, the server, the nodes) is
 * removed at the end, and what a killed run left behind at the next start. Exit status: 0 when
 * every workflow completed and no join or leave stopped completions for more than 2 s, 1 otherwise,
 * 2 for bad options or a machine that cannot run it.
 */
public final class ScaleBench {

  /** Everything it found. */
  public record Result(List<ScaleFigures.Size> sizes, List<ScaleFigures.Move> moves) {
    public boolean goalsMet() {
      return sizes.stream().allMatch(s -> s.failed() == 0)
          && moves.stream()
              .allMatch(
                  m -> m.failed() == 0 && m.longestGapMillis() <= ScaleFigures.GAP_GOAL_MILLIS);
    }
  }

  private static final Duration CLUSTER_DEADLINE = Duration.ofSeconds(240);

  /**
   * Load before a node joins or leaves, so that the gap measured is the move's and not the load's
   * start.
   */
  private static final Duration STEADY_BEFORE = Duration.ofSeconds(4);

  private static final Duration MOVE_IN_FLIGHT = Duration.ofSeconds(30);

  /** After a run, before the idle window: the projections catch up with the run's last events. */
  private static final Duration IDLE_SETTLE = Duration.ofSeconds(3);

  private final ScaleOptions options;
  private final PrintStream out;
  private final PrintStream log;
  private final CpuGroups groups;
  private final LocalCluster cluster;
  private final String databaseGroup = "postgres";

  private ScaleBench(
      ScaleOptions options,
      PrintStream out,
      PrintStream log,
      CpuGroups groups,
      LocalCluster cluster) {
    this.options = options;
    this.out = out;
    this.log = log;
    this.groups = groups;
    this.cluster = cluster;
  }

  public static void main(String[] args) throws Exception {
    int cores = Runtime.getRuntime().availableProcessors();
    Optional<ScaleOptions> options =
        CommandLine.parseOrExit(
            "ScaleBench", ScaleOptions.USAGE, args, (a, env) -> ScaleOptions.parse(a, cores));
    if (options.isEmpty()) return;
    Optional<String> why = unavailable();
    if (why.isPresent()) {
      System.err.println("ScaleBench: this machine cannot run it: " + why.get());
      System.exit(2);
    }
    Result result = run(options.get(), System.out, System.err);
    System.exit(result.goalsMet() ? 0 : 1);
  }

  /** Empty when this machine can run the bench; else why not. */
  public static Optional<String> unavailable() {
    return Stream.of(
            CpuGroups.unavailable(), NetworkNamespaces.unavailable(), PrivatePostgres.unavailable())
        .flatMap(Optional::stream)
        .findFirst();
  }

  /**
   * Runs every size, join and leave, printing as it goes; the last line is the whole report as
   * JSON.
   */
  public static Result run(ScaleOptions options, PrintStream out, PrintStream log)
      throws IOException, InterruptedException {
    Files.createDirectories(options.workDir());
    List<String> hosts = new ArrayList<>(List.of("db"));
    for (int n = 1; n <= options.maxNodes(); n++) hosts.add(host(n - 1));
    String token = "scale-" + UUID.randomUUID();
    try (CpuGroups groups = CpuGroups.create();
        NetworkNamespaces net = NetworkNamespaces.create(hosts)) {
      groups.add("load", options.loadCpu());
      groups.add("postgres", options.postgresCpu());
      for (int n = 0; n < options.maxNodes(); n++) groups.add(host(n), options.nodeCpu());
      groups.joinSelf("load");
      List<String> pgLauncher = new ArrayList<>(groups.launcher("postgres"));
      pgLauncher.addAll(net.inside("db"));
      try (PrivatePostgres postgres =
          PrivatePostgres.start(
              pgLauncher, net.address("db"), freePort(), List.of(net.cidr()), true)) {
        postgres.createDatabase("keel");
        LocalCluster.Settings settings =
            new LocalCluster.Settings(
                options.maxNodes(),
                options.jar(),
                options.workDir(),
                options.nodeJavaOptions(),
                postgres.jdbcUrl("keel"),
                "postgres",
                Duration.ofSeconds(20));
        LocalCluster.Placement placement =
            new LocalCluster.Placement() {
              @Override
              public String host(int node) {
                return net.address(ScaleBench.host(node));
              }

              @Override
              public List<String> launcher(int node) {
                List<String> launcher = new ArrayList<>(groups.launcher(ScaleBench.host(node)));
                launcher.addAll(net.inside(ScaleBench.host(node)));
                return launcher;
              }
            };
        try (LocalCluster cluster = LocalCluster.prepare(settings, placement, token)) {
          return new ScaleBench(options, out, log, groups, cluster).sizesJoinsAndLeave(token);
        }
      }
    }
  }

  private Result sizesJoinsAndLeave(String token) throws IOException, InterruptedException {
    out.println("ScaleBench: " + options);
    out.printf(
        "machine: %d cores, load average %s%n",
        Runtime.getRuntime().availableProcessors(), loadAverage());
    List<ScaleFigures.Size> sizes = new ArrayList<>();
    List<ScaleFigures.Move> moves = new ArrayList<>();
    cluster.start(0);
    awaitCluster();
    for (int n = 1; n <= options.maxNodes(); n++) {
      if (n > 1) {
        ScaleFigures.Move join =
            move(token, true, n - 1, sizes.get(sizes.size() - 1).completedPerSecond());
        ScaleFigures.print(out, join);
        moves.add(join);
      }
      ScaleFigures.Size size = measure(token, n);
      ScaleFigures.print(out, size, sizes.isEmpty() ? size : sizes.get(0), options.nodeCpu());
      out.println("    what limits it: " + ScaleFigures.limit(size));
      sizes.add(size);
    }
    ScaleFigures.Move leave =
        move(token, false, options.maxNodes(), sizes.get(sizes.size() - 1).completedPerSecond());
    ScaleFigures.print(out, leave);
    moves.add(leave);
    Path plot = options.workDir().resolve("scale.svg");
    ScaleFigures.writePlot(plot, sizes);
    out.println("plot: " + plot + "; load average at the end " + loadAverage());
    out.println(LoadReport.toJson(ScaleFigures.json(options, sizes, moves)));
    return new Result(sizes, moves);
  }

  // ---------------------------------------------------------------- one cluster size

  private ScaleFigures.Size measure(String token, int n) throws IOException, InterruptedException {
    List<URI> endpoints = cluster.uris().subList(0, n);
    int concurrency = options.concurrencyPerNode() * n;
    if (options.warmupPerNode() > 0) {
      runLoad(
          token,
          endpoints,
          options.warmupPerNode() * n,
          concurrency,
          null,
          WorkflowLoad.Hooks.NONE);
    }
    ShardOwners owners = owners(n);
    AtomicInteger known = new AtomicInteger();
    AtomicInteger crossed = new AtomicInteger();
    WorkflowLoad.Hooks hooks =
        new WorkflowLoad.Hooks(
            (i, id, nodes) -> {
              int owner = owners.owner(id);
              int chosen = options.routeToOwner() && owner >= 0 ? owner : i % nodes;
              if (owner >= 0) {
                known.incrementAndGet();
                if (owner != chosen) crossed.incrementAndGet();
              }
              return chosen;
            },
            nanoTime -> {});
    Map<String, CpuGroups.Usage> before = usages(n);
    ProcStat.MachineTicks machineBefore =
        ProcStat.machineTicks(ProcStat.read(ProcStat.ofMachine()));
    long started = System.nanoTime();
    JsonNode report =
        runLoad(token, endpoints, options.workflowsPerNode() * n, concurrency, null, hooks);
    long wall = System.nanoTime() - started;
    Map<String, CpuGroups.Usage> after = usages(n);
    ProcStat.MachineTicks machineAfter = ProcStat.machineTicks(ProcStat.read(ProcStat.ofMachine()));
    int completed = report.path("completed").asInt();
    int failed = options.workflowsPerNode() * n - completed;
    CpuGroups.Usage nodes = nodeUsage(before, after, n);
    long nodeNanos = nodes.cpuNanos();
    long periods = nodes.periods();
    long throttled = nodes.throttledPeriods();
    CpuGroups.Usage pg = after.get(databaseGroup).minus(before.get(databaseGroup));
    CpuGroups.Usage load = after.get("load").minus(before.get("load"));
    double perWorkflow = Math.max(1, completed) * 1e6;
    long machineTotal = machineAfter.total() - machineBefore.total();
    JsonNode client = report.path("latencyMs").path("client");
    // What the nodes and PostgreSQL spend with no load at all, once warm and caught up: projection
    // pollers, the lease, cluster gossip, gauges. The cluster pays it whatever it serves.
    Thread.sleep(IDLE_SETTLE.toMillis());
    Map<String, CpuGroups.Usage> idleBefore = usages(n);
    long idleStart = System.nanoTime();
    Thread.sleep(options.idle().toMillis());
    Map<String, CpuGroups.Usage> idleAfter = usages(n);
    long idleWall = System.nanoTime() - idleStart;
    double idleNodeCores = nodeUsage(idleBefore, idleAfter, n).cpuNanos() / (double) idleWall / n;
    double idlePostgresCores =
        idleAfter.get(databaseGroup).minus(idleBefore.get(databaseGroup)).cpuNanos()
            / (double) idleWall;
    double[] heartbeats = heartbeats(token, endpoints);
    return new ScaleFigures.Size(
        n,
        report.path("completedPerSecond").asDouble(),
        completed,
        failed,
        nodeNanos / perWorkflow,
        nodeNanos / (n * options.nodeCpu() * wall),
        periods == 0 ? 0 : (double) throttled / periods,
        pg.cpuNanos() / perWorkflow,
        pg.cpuNanos() / (options.postgresCpu() * wall),
        load.cpuNanos() / perWorkflow,
        machineTotal == 0
            ? 0
            : (double) (machineAfter.busy() - machineBefore.busy()) / machineTotal,
        known.get() == 0 ? 0 : (double) crossed.get() / known.get(),
        client.path("p50").asDouble(),
        client.path("p99").asDouble(),
        options.heartbeatsPerNode() * n,
        heartbeats[0],
        heartbeats[1],
        idleNodeCores,
        idlePostgresCores);
  }

  /** The nodes' groups together, from {@code before} to {@code after}. */
  private static CpuGroups.Usage nodeUsage(
      Map<String, CpuGroups.Usage> before, Map<String, CpuGroups.Usage> after, int n) {
    CpuGroups.Usage sum = new CpuGroups.Usage(0, 0, 0);
    for (int node = 0; node < n; node++) {
      CpuGroups.Usage used = after.get(host(node)).minus(before.get(host(node)));
      sum =
          new CpuGroups.Usage(
              sum.cpuNanos() + used.cpuNanos(),
              sum.periods() + used.periods(),
              sum.throttledPeriods() + used.throttledPeriods());
    }
    return sum;
  }

  /**
   * Answered heartbeats/s summed over one {@link HeartbeatLoad} per node, and the worst p99 (ms).
   */
  private double[] heartbeats(String token, List<URI> endpoints) throws InterruptedException {
    if (options.heartbeatsPerNode() == 0) return new double[] {0, 0};
    List<Thread> threads = new ArrayList<>();
    List<AtomicReference<JsonNode>> reports = new ArrayList<>();
    for (URI endpoint : endpoints) {
      AtomicReference<JsonNode> report = new AtomicReference<>();
      reports.add(report);
      // A service heartbeats every 10 s: rate x 10 services per node.
      HeartbeatOptions heartbeatOptions =
          HeartbeatOptions.parse(
              new String[] {
                "--endpoint",
                endpoint.toString(),
                "--token",
                token,
                "--services",
                Integer.toString(options.heartbeatsPerNode() * 10),
                "--interval",
                "PT10S",
                "--ttl",
                "30",
                "--warmup",
                "PT5S",
                "--duration",
                options.heartbeatDuration().toString(),
                "--connections",
                "16",
                "--stale-probe",
                "0"
              },
              Map.of());
      Thread thread =
          new Thread(
              () -> report.set(lastJsonLine(o -> new HeartbeatLoad(heartbeatOptions).run(o, log))),
              "heartbeats-" + endpoint.getHost());
      thread.start();
      threads.add(thread);
    }
    double held = 0;
    double p99 = 0;
    for (int i = 0; i < threads.size(); i++) {
      threads.get(i).join();
      JsonNode report = reports.get(i).get();
      if (report == null) continue;
      held += report.path("heartbeatsPerSecond").asDouble();
      p99 = Math.max(p99, report.path("latencyMs").path("sent").path("p99").asDouble());
    }
    return new double[] {held, p99};
  }

  // ---------------------------------------------------------------- a node joining or leaving

  /**
   * Under a fixed start rate ({@code --join-load} of {@code capacity}) on the nodes that stay, node
   * {@code n} joins ({@code joining}) or leaves (SIGTERM to the newest node); the gap is measured
   * from the signal until the shards are even again.
   */
  private ScaleFigures.Move move(String token, boolean joining, int n, double capacity)
      throws IOException, InterruptedException {
    int node = joining ? n : n - 1;
    int serving = joining ? n : n - 1;
    List<URI> endpoints = cluster.uris().subList(0, serving);
    double rate = Math.max(1, options.joinLoadShare() * capacity * serving / n);
    long windowSeconds =
        options.joinDeadline().plus(CLUSTER_DEADLINE).plus(STEADY_BEFORE).toSeconds() + 30;
    CompletionGaps gaps =
        new CompletionGaps((int) Math.min(5_000_000, rate * windowSeconds + 1000));
    // Open loop: room for every start of MOVE_IN_FLIGHT seconds, so that starts held up by a moving
    // shard never hold back the others (a closed loop would show its own wait as a gap).
    LoadOptions loadOptions =
        loadOptions(
            token,
            endpoints,
            (int) Math.ceil(rate * windowSeconds),
            Math.max(64, (int) Math.ceil(rate * MOVE_IN_FLIGHT.toSeconds())),
            rate,
            windowSeconds);
    WorkflowLoad load =
        new WorkflowLoad(
            loadOptions, new WorkflowLoad.Hooks(WorkflowLoad.Hooks.NONE.nodeChoice(), gaps));
    AtomicReference<JsonNode> report = new AtomicReference<>();
    Thread loadThread =
        new Thread(() -> report.set(lastJsonLine(o -> load.run(o, log))), "move-load");
    loadThread.start();
    Thread.sleep(STEADY_BEFORE.toMillis());
    long signal = System.nanoTime();
    if (joining) {
      cluster.start(node);
    } else {
      cluster.terminate(node);
      if (cluster.awaitExit(node, CLUSTER_DEADLINE) == -1)
        log.println("ScaleBench: node " + (node + 1) + " did not exit after SIGTERM");
    }
    awaitCluster();
    Instant even =
        cluster.awaitBalancedShards(options.joinDeadline().minusNanos(System.nanoTime() - signal));
    long end =
        even != null
            ? System.nanoTime()
            : Math.max(System.nanoTime(), signal + options.joinDeadline().toNanos());
    Thread.sleep(1000);
    load.stop();
    loadThread.join();
    int completed = gaps.countBetween(signal, end);
    JsonNode figures = report.get() == null ? LoadReport.JSON.createObjectNode() : report.get();
    int failed = figures.path("failed").asInt();
    String problems = problems(figures);
    return new ScaleFigures.Move(
        joining,
        n,
        joining ? n + 1 : n - 1,
        rate,
        (gaps.longestGapNanos(signal, end) + 500_000) / 1_000_000,
        (end - signal) / 1e9,
        even != null,
        completed,
        failed,
        problems);
  }

  /** The load report's non-2xx answers and errors, in a few words; empty when there were none. */
  private static String problems(JsonNode report) {
    List<String> parts = new ArrayList<>();
    JsonNode nonSuccess = report.path("nonSuccessResponses");
    if (nonSuccess.size() > 0) parts.add("answers " + nonSuccess);
    JsonNode errors = report.path("errors");
    if (errors.size() > 0) parts.add("errors " + errors);
    return String.join(", ", parts);
  }

  // ---------------------------------------------------------------- helpers

  private JsonNode runLoad(
      String token,
      List<URI> endpoints,
      int workflows,
      int concurrency,
      Double rate,
      WorkflowLoad.Hooks hooks) {
    LoadOptions loadOptions = loadOptions(token, endpoints, workflows, concurrency, rate, 600);
    return lastJsonLine(o -> new WorkflowLoad(loadOptions, hooks).run(o, log));
  }

  private static LoadOptions loadOptions(
      String token,
      List<URI> endpoints,
      int workflows,
      int concurrency,
      Double rate,
      long maxSeconds) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "--endpoint",
                String.join(",", endpoints.stream().map(URI::toString).toList()),
                "--token",
                token,
                "--workflows",
                Integer.toString(workflows),
                "--concurrency",
                Integer.toString(concurrency),
                "--warmup",
                "0",
                "--max-seconds",
                Long.toString(maxSeconds)));
    if (rate != null) args.addAll(List.of("--rate", Double.toString(rate)));
    return LoadOptions.parse(args.toArray(String[]::new), Map.of());
  }

  private interface Program {
    int run(PrintStream out) throws InterruptedException;
  }

  /** Runs an embedded load program and reads its report: the last line it printed. */
  private JsonNode lastJsonLine(Program program) {
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    try (PrintStream o = new PrintStream(captured, true, StandardCharsets.UTF_8)) {
      program.run(o);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    List<String> lines = captured.toString(StandardCharsets.UTF_8).lines().toList();
    try {
      return lines.isEmpty()
          ? LoadReport.JSON.createObjectNode()
          : LoadReport.JSON.readTree(lines.get(lines.size() - 1));
    } catch (IOException e) {
      log.println("ScaleBench: unreadable report: " + lines.get(lines.size() - 1));
      return LoadReport.JSON.createObjectNode();
    }
  }

  /** Which node holds each workflow shard now, as node 1 sees it. */
  private ShardOwners owners(int n) throws IOException, InterruptedException {
    Map<String, Integer> nodeOfMember = new HashMap<>();
    for (int node = 0; node < n; node++)
      nodeOfMember.put(cluster.clusterView(node).path("self").asText(), node);
    return ShardOwners.of(cluster.clusterView(0), nodeOfMember);
  }

  private Map<String, CpuGroups.Usage> usages(int n) throws IOException {
    Map<String, CpuGroups.Usage> usage = new HashMap<>();
    for (String group :
        Stream.concat(
                Stream.of("load", databaseGroup), IntStream.range(0, n).mapToObj(ScaleBench::host))
            .toList()) {
      usage.put(group, groups.usage(group));
    }
    return usage;
  }

  private void awaitCluster() throws IOException, InterruptedException {
    String why = cluster.awaitOneClusterOfAll(CLUSTER_DEADLINE);
    if (why != null)
      throw new IOException(
          "the nodes did not form one cluster within " + CLUSTER_DEADLINE + ": " + why);
  }

  private static String host(int node) {
    return "node-" + (node + 1);
  }

  private static String loadAverage() {
    try {
      String[] parts = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return parts[0] + " " + parts[1] + " " + parts[2];
    } catch (IOException e) {
      return "unknown";
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
