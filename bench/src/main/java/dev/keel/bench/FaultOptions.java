package dev.keel.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The command line of {@link FaultBench}, read once. {@code --name value} and {@code --name=value}
 * are both accepted; {@code --short} takes no value and makes the run one CI could afford: one
 * repetition and shorter load phases, unless those are given too.
 */
public record FaultOptions(
    Path jar,
    String databaseUrl,
    String databaseUser,
    int nodes,
    int repetitions,
    List<FaultScenario> scenarios,
    double rate,
    Duration loadBefore,
    Duration loadAfter,
    Duration stall,
    Duration leaseTimeout,
    Duration finalWait,
    long seed,
    Path workDir,
    String nodeJavaOptions) {

  static final String USAGE =
      """
      usage: java -cp bench/target/keel-bench.jar dev.keel.bench.FaultBench --database-url URL [options]
        --database-url URL    an empty PostgreSQL database for the nodes (required)
        --database-user USER  its user (default postgres; the password, if any: KEEL_DATABASE_PASSWORD)
        --jar PATH            the node jar (default cli/target/keel.jar)
        --nodes N             nodes of the cluster, 3 to 7 (default 3)
        --repetitions N       repetitions of each scenario (default 5)
        --short               one repetition and shorter load phases (a run CI could afford)
        --scenarios LIST      comma-separated, in this order (default all): %s
        --rate R              workflow starts per second over all nodes (default 3)
        --load-before D       load before each fault (default PT10S; PT5S with --short)
        --load-after D        load after recovery (default PT5S; PT3S with --short)
        --stall D             how long the survivors are stopped (default PT10S, over the
                              seed-node timeout of 5 s, under the lease timeout)
        --lease-timeout D     the nodes' --cluster-lease-timeout (default PT20S)
        --final-wait D        deadline for every acknowledged start to be final (default PT180S)
        --seed N              random seed: which node kill-any kills (default: the time)
        --work-dir DIR        node data and logs (default /tmp/keel-fault-bench)
        --node-java-opts S    JVM options of each node (default "-Xmx768m")
      Durations are ISO-8601 (PT10S).
      """
          .formatted(FaultScenario.labels());

  private static final Set<String> NAMES =
      Set.of(
          "database-url",
          "database-user",
          "jar",
          "nodes",
          "repetitions",
          "scenarios",
          "rate",
          "load-before",
          "load-after",
          "stall",
          "lease-timeout",
          "final-wait",
          "seed",
          "work-dir",
          "node-java-opts");

  /**
   * @throws IllegalArgumentException with a one-line reason for anything wrong
   */
  static FaultOptions parse(String[] args, long defaultSeed) {
    List<String> rest = new ArrayList<>(Arrays.asList(args));
    boolean brief = rest.remove("--short");
    CommandLine line = CommandLine.parse(rest.toArray(String[]::new), NAMES);
    String url = line.text("database-url", "").trim();
    if (!url.startsWith("jdbc:postgresql://")) {
      throw new IllegalArgumentException(
          "--database-url must name a PostgreSQL database (jdbc:postgresql://...), was '"
              + url
              + "'");
    }
    LinkedHashSet<FaultScenario> scenarios = new LinkedHashSet<>();
    if (line.has("scenarios")) {
      for (String name : line.text("scenarios", "").split(","))
        if (!name.isBlank()) scenarios.add(FaultScenario.named(name));
      if (scenarios.isEmpty()) throw new IllegalArgumentException("--scenarios names no scenario");
    } else {
      scenarios.addAll(Arrays.asList(FaultScenario.values()));
    }
    double rate = line.has("rate") ? line.number("rate") : 3;
    if (!(rate > 0 && rate <= 100))
      throw new IllegalArgumentException("--rate must be above 0 and at most 100, was " + rate);
    Duration stall = line.duration("stall", Duration.ofSeconds(10));
    Duration lease = line.duration("lease-timeout", Duration.ofSeconds(20));
    if (lease.compareTo(Duration.ofSeconds(6)) < 0) {
      throw new IllegalArgumentException(
          "--lease-timeout must be at least PT6S (three of the nodes' renew intervals), was "
              + lease);
    }
    if (stall.compareTo(lease) >= 0) {
      throw new IllegalArgumentException(
          "--stall must be shorter than --lease-timeout ("
              + lease
              + "), was "
              + stall
              + "; stall-past-lease is the scenario that stalls past it");
    }
    return new FaultOptions(
        Path.of(line.text("jar", "cli/target/keel.jar")),
        url,
        line.text("database-user", "postgres"),
        (int) line.longInteger("nodes", 3, 3, 7),
        brief && !line.has("repetitions") ? 1 : line.integer("repetitions", 5, 1),
        List.copyOf(scenarios),
        rate,
        line.duration("load-before", Duration.ofSeconds(brief ? 5 : 10)),
        line.duration("load-after", Duration.ofSeconds(brief ? 3 : 5)),
        stall,
        lease,
        line.duration("final-wait", Duration.ofSeconds(180)),
        line.longInteger("seed", defaultSeed, Long.MIN_VALUE, Long.MAX_VALUE),
        Path.of(line.text("work-dir", "/tmp/keel-fault-bench")),
        line.text("node-java-opts", "-Xmx768m").trim());
  }

  static FaultOptions parse(String[] args, java.util.Map<String, String> env) {
    return parse(args, System.currentTimeMillis());
  }

  /** How long stall-past-lease stops the survivors: well past the lease timeout. */
  Duration stallPastLease() {
    return leaseTimeout.plusSeconds(10);
  }

  /** The parameters as printed. */
  @Override
  public String toString() {
    return "nodes="
        + nodes
        + " repetitions="
        + repetitions
        + " scenarios="
        + scenarios.stream().map(s -> s.label).toList()
        + " rate="
        + rate
        + "/s loadBefore="
        + loadBefore
        + " loadAfter="
        + loadAfter
        + " stall="
        + stall
        + " leaseTimeout="
        + leaseTimeout
        + " finalWait="
        + finalWait
        + " seed="
        + seed
        + " nodeJavaOpts="
        + nodeJavaOptions
        + " database="
        + databaseUrl;
  }
}
