package dev.keel.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * The command line of {@link ScaleBench}, read once. Quotas are in cores (0.3: 30 ms of CPU per 100
 * ms); the workflow counts are per node, so each cluster size runs about as long as the others.
 */
public record ScaleOptions(
    Path jar,
    Path workDir,
    int maxNodes,
    double nodeCpu,
    double postgresCpu,
    double loadCpu,
    int warmupPerNode,
    int workflowsPerNode,
    int concurrencyPerNode,
    int heartbeatsPerNode,
    Duration heartbeatDuration,
    double joinLoadShare,
    Duration joinDeadline,
    boolean routeToOwner,
    boolean brief,
    String nodeJavaOptions) {

  /** How long each size is watched with no load, for what the nodes spend idle. */
  Duration idle() {
    return Duration.ofSeconds(brief ? 3 : 10);
  }

  static final String USAGE =
      """
      usage: java -cp bench/target/keel-bench.jar dev.keel.bench.ScaleBench [options]   (Linux, root)
        --jar PATH                  the node jar (default cli/target/keel.jar)
        --work-dir DIR              node data and logs (default /tmp/keel-scale-bench)
        --nodes N                   the largest cluster, 2 to 6 (default 4; --short: 2)
        --node-cpu CORES            each node's CPU quota (default 0.3; --short: 0.5)
        --postgres-cpu CORES        PostgreSQL's quota (default 0.5)
        --load-cpu CORES            the load program's quota (default 0.3)
        --warmup N                  workflows per node run first at each size, not counted (default 1500; --short: 100)
        --workflows N               measured workflows per node at each size (default 3000; --short: 200)
        --concurrency C             workflows in flight per node (default 32)
        --heartbeats N              heartbeats/s offered per node, 0 for none (default 100; --short: 0)
        --heartbeat-duration D      measured heartbeat phase per size (default PT20S)
        --join-load SHARE           the load while a node joins or leaves, as a share of what the
                                    smaller cluster completed per second (default 0.5)
        --join-deadline D           how long a join or leave may take to even the shards out
                                    (default PT150S; --short: PT25S, and shards need not be even)
        --route-to-owner            start each workflow on the node that holds its shard, instead of
                                    round robin: what a start that crosses nodes costs
        --node-java-opts S          JVM options of each node (default -Xms512m -Xmx512m -XX:+AlwaysPreTouch)
        --short                     one and two nodes, short phases: the CI form (under 2 minutes)
      The quotas must fit the machine: nodes x node-cpu + postgres-cpu + load-cpu <= cores.
      """;

  private static final Set<String> NAMES =
      Set.of(
          "jar",
          "work-dir",
          "nodes",
          "node-cpu",
          "postgres-cpu",
          "load-cpu",
          "warmup",
          "workflows",
          "concurrency",
          "heartbeats",
          "heartbeat-duration",
          "join-load",
          "join-deadline",
          "node-java-opts");

  /**
   * @throws IllegalArgumentException with a one-line reason for anything wrong
   */
  public static ScaleOptions parse(String[] args, int cores) {
    List<String> rest = new ArrayList<>(Arrays.asList(args));
    boolean brief = rest.remove("--short");
    boolean routeToOwner = rest.remove("--route-to-owner");
    CommandLine line = CommandLine.parse(rest.toArray(String[]::new), NAMES);
    int nodes = (int) line.longInteger("nodes", brief ? 2 : 4, 2, 6);
    // The short form's nodes get more: a JVM starting under 0.3 of a core takes a minute, too long
    // for CI.
    double nodeCpu = quota(line, "node-cpu", brief ? 0.5 : 0.3);
    double postgresCpu = quota(line, "postgres-cpu", 0.5);
    double loadCpu = quota(line, "load-cpu", 0.3);
    double total = nodes * nodeCpu + postgresCpu + loadCpu;
    if (total > cores + 1e-9) {
      throw new IllegalArgumentException(
          String.format(
              java.util.Locale.ROOT,
              "the quotas (%d x %.2f + %.2f + %.2f = %.2f cores) exceed this machine's %d cores:"
                  + " the groups would take each other's CPU",
              nodes,
              nodeCpu,
              postgresCpu,
              loadCpu,
              total,
              cores));
    }
    double joinLoad = line.has("join-load") ? line.number("join-load") : 0.5;
    if (!(joinLoad > 0 && joinLoad <= 1))
      throw new IllegalArgumentException(
          "--join-load must be above 0 and at most 1, was " + joinLoad);
    Duration heartbeatDuration = line.duration("heartbeat-duration", Duration.ofSeconds(20));
    if (heartbeatDuration.compareTo(Duration.ofSeconds(5)) < 0) {
      throw new IllegalArgumentException(
          "--heartbeat-duration must be at least PT5S, was " + heartbeatDuration);
    }
    return new ScaleOptions(
        Path.of(line.text("jar", "cli/target/keel.jar")),
        Path.of(line.text("work-dir", "/tmp/keel-scale-bench")),
        nodes,
        nodeCpu,
        postgresCpu,
        loadCpu,
        line.integer("warmup", brief ? 100 : 1500, 0),
        line.integer("workflows", brief ? 200 : 3000, 10),
        line.integer("concurrency", 32, 1),
        line.integer("heartbeats", brief ? 0 : 100, 0),
        heartbeatDuration,
        joinLoad,
        line.duration("join-deadline", Duration.ofSeconds(brief ? 25 : 150)),
        routeToOwner,
        brief,
        line.text("node-java-opts", "-Xms512m -Xmx512m -XX:+AlwaysPreTouch").trim());
  }

  private static double quota(CommandLine line, String name, double fallback) {
    double cores = line.has(name) ? line.number(name) : fallback;
    if (!(cores >= 0.05 && cores <= 64))
      throw new IllegalArgumentException("--" + name + " must be 0.05 to 64 cores, was " + cores);
    return cores;
  }

  /** The parameters as printed. */
  @Override
  public String toString() {
    return String.format(
        java.util.Locale.ROOT,
        "nodes=1..%d nodeCpu=%.2f postgresCpu=%.2f loadCpu=%.2f warmup=%d/node workflows=%d/node"
            + " concurrency=%d/node heartbeats=%d/s/node joinLoad=%.2f joinDeadline=%s"
            + " routeToOwner=%s short=%s nodeJavaOpts=%s",
        maxNodes,
        nodeCpu,
        postgresCpu,
        loadCpu,
        warmupPerNode,
        workflowsPerNode,
        concurrencyPerNode,
        heartbeatsPerNode,
        joinLoadShare,
        joinDeadline,
        routeToOwner,
        brief,
        nodeJavaOptions);
  }
}
