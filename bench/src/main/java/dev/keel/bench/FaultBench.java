package dev.keel.bench;

import static dev.keel.bench.LoadReport.line;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Random;

/**
 * Runs the faults of {@link FaultScenario} against a real cluster, each many times, under a steady
 * workflow load, and prints one line per scenario: repetitions, acknowledged starts, completed,
 * lost, steps recorded twice, step bodies run twice (and how many of those were attempts in flight
 * at a fault), and the longest time in which no start succeeded anywhere.
 *
 * <pre>
 * java -cp bench/target/keel-bench.jar dev.keel.bench.FaultBench \
 *     --database-url jdbc:postgresql://127.0.0.1:5432/keel_fault --repetitions 5
 * </pre>
 *
 * <p>It starts the nodes itself ({@link LocalCluster}: child JVMs of {@code keel.jar} on 127.0.0.1,
 * one fresh PostgreSQL database), and the target of the workflows' request steps ({@link
 * IdempotencyCounter}). A repetition runs the load ({@link FaultLoad}) for a while, injects the
 * fault, waits for one cluster of all nodes again, runs the load a little longer, stops starting,
 * then waits for every acknowledged start to be final and reads each journal ({@link
 * FinalOutcomes}). Per-repetition details go to stderr; node logs stay in the work directory.
 *
 * <p>Exit status: 0 when every scenario kept the promises (nothing lost, no step recorded twice, no
 * repeat a fault does not explain, no cluster formed beside a living one, no journal conflict), 1
 * when one did not or a repetition could not be finished, 2 for bad options or a cluster that never
 * formed.
 */
public final class FaultBench {

  private static final Duration FORMATION_DEADLINE = Duration.ofSeconds(180);
  private static final Duration RECOVERY_DEADLINE = Duration.ofSeconds(180);
  private static final Duration EXIT_DEADLINE = Duration.ofSeconds(90);

  /**
   * Shards move back at 10 % per 10-second round (README, running a cluster): a third of 100 takes
   * about 40 s.
   */
  private static final Duration BALANCE_DEADLINE = Duration.ofSeconds(120);

  /**
   * A restarted node logs {@code cluster formation ...} when it starts to join; faults that stall
   * the others wait for it.
   */
  private static final String JOINING_LOG_LINE = "cluster formation ";

  private final FaultOptions options;
  private final String token =
      "fault-bench-" + HexFormat.of().formatHex(new SecureRandom().generateSeed(12));
  private final String runId = Long.toString(System.currentTimeMillis(), 36);
  private final Random random;
  private LocalCluster cluster;
  private IdempotencyCounter counter;
  private PrintStream progress;

  FaultBench(FaultOptions options) {
    this.options = options;
    this.random = new Random(options.seed());
  }

  public static void main(String[] args) throws Exception {
    Optional<FaultOptions> options =
        CommandLine.parseOrExit("FaultBench", FaultOptions.USAGE, args, FaultOptions::parse);
    if (options.isEmpty()) return;
    System.exit(new FaultBench(options.get()).run(System.out, System.err));
  }

  int run(PrintStream out, PrintStream progress) throws Exception {
    this.progress = progress;
    ObjectNode report = LoadReport.start("FaultBench", runId);
    report.put("parameters", options.toString());
    report.put("loadAverageAtStart", loadAverage());
    LoadReport.printHeading(out, "FaultBench", report);
    line(out, "parameters", "%s", options);
    line(out, "load avg", "%s at the start (1, 5, 15 min)", loadAverage());
    List<FaultSummary> summaries = new ArrayList<>();
    try (IdempotencyCounter counter = IdempotencyCounter.start();
        LocalCluster cluster = LocalCluster.prepare(options, token)) {
      this.counter = counter;
      this.cluster = cluster;
      Instant starting = Instant.now();
      for (int node = 0; node < cluster.size(); node++) cluster.start(node);
      String why = cluster.awaitOneClusterOfAll(FORMATION_DEADLINE);
      if (why != null) {
        progress.println(
            "FaultBench: the cluster did not form within "
                + FORMATION_DEADLINE.toSeconds()
                + " s: "
                + why
                + "; logs in "
                + options.workDir().resolve("logs"));
        return 2;
      }
      progress.printf(
          "FaultBench: %d nodes ready and Up in %s%n",
          cluster.size(), FaultSummary.seconds(Duration.between(starting, Instant.now())));
      boolean aborted = false;
      for (FaultScenario scenario : options.scenarios()) {
        if (aborted) break;
        FaultSummary summary = new FaultSummary(scenario);
        summaries.add(summary);
        for (int rep = 1; rep <= options.repetitions() && !aborted; rep++) {
          aborted = repeat(scenario, rep, summary);
        }
        out.println(summary.line());
        out.flush();
      }
    }
    line(
        out,
        "load avg",
        "%s at the end (1, 5, 15 min); node logs in %s",
        loadAverage(),
        options.workDir().resolve("logs"));
    ArrayNode scenarios = report.putArray("scenarios");
    summaries.forEach(s -> scenarios.add(s.json()));
    report.put("loadAverageAtEnd", loadAverage());
    boolean held =
        summaries.size() == options.scenarios().size()
            && summaries.stream().allMatch(FaultSummary::promisesHeld);
    report.put("promisesHeld", held);
    out.println(LoadReport.toJson(report));
    return held ? 0 : 1;
  }

  /** One repetition; true when the cluster did not come back, so that the run stops. */
  private boolean repeat(FaultScenario scenario, int rep, FaultSummary summary) throws Exception {
    String prefix = "fb" + runId + "-" + scenario.ordinal() + "-" + rep;
    NodeLogs marks = NodeLogs.markEnds(cluster.logs());
    int selfStopsBefore = cluster.selfStops();
    FaultLoad load = new FaultLoad(cluster.uris(), token, counter, prefix, options.rate());
    load.start();
    Thread.sleep(options.loadBefore().toMillis());
    List<Instant> faults = new ArrayList<>();
    Instant faultStart = Instant.now();
    String notRecovered;
    try {
      notRecovered = inject(scenario, faults);
    } catch (IOException e) {
      notRecovered = "the fault could not be injected: " + e;
    }
    Duration recovery = Duration.between(faultStart, Instant.now());
    Instant balanced = notRecovered == null ? cluster.awaitBalancedShards(BALANCE_DEADLINE) : null;
    if (notRecovered == null && balanced == null) {
      progress.printf(
          "FaultBench: %s #%d: the workflow shards were not spread evenly within %d s%n",
          scenario.label, rep, BALANCE_DEADLINE.toSeconds());
    }
    Instant recoveryEnd = balanced == null ? Instant.now() : balanced;
    if (notRecovered == null) Thread.sleep(options.loadAfter().toMillis());
    load.stopStarting();
    FinalOutcomes outcomes =
        FinalOutcomes.await(
            load.acknowledged().keySet(), cluster.uris(), token, options.finalWait());
    // Whole again before the next repetition: a node that stopped by itself since is started again
    // here.
    if (notRecovered == null) notRecovered = cluster.awaitOneClusterOfAll(RECOVERY_DEADLINE);
    StepBodyRuns bodyRuns =
        StepBodyRuns.of(counter.calls(prefix + "-"), faults, faultStart, recoveryEnd);
    List<Path> logs = cluster.logs();
    List<SecondClusters.Formation> formations =
        marks.firstLineTimes(logs, NodeLogs.FORMED_CLUSTER).entrySet().stream()
            .map(e -> new SecondClusters.Formation(cluster.nodeOf(e.getKey()), e.getValue()))
            .toList();
    FaultRepetition repetition =
        new FaultRepetition(
            load.acknowledged().size(),
            outcomes.completed(),
            outcomes.failed(),
            outcomes.lost(),
            load.givenUp(),
            outcomes.recordedTwice(),
            bodyRuns,
            Unavailability.longest(
                load.acknowledged().values().stream().map(FaultLoad.Acknowledged::at).toList(),
                load.startedAt(),
                load.lastTickAt()),
            load.acknowledged().values().stream()
                .map(FaultLoad.Acknowledged::waited)
                .max(Duration::compareTo)
                .orElse(Duration.ZERO),
            recovery,
            formations.size(),
            SecondClusters.count(formations, cluster.lives()),
            cluster.selfStops() - selfStopsBefore,
            marks.filesWith(logs, NodeLogs.FENCED),
            marks.linesWith(logs, NodeLogs.JOURNAL_CONFLICT));
    summary.add(repetition);
    progress.printf(
        "FaultBench: %s #%d: %s%s%s%n",
        scenario.label,
        rep,
        repetition,
        load.refusals().isEmpty() ? "" : " refusals=" + load.refusals(),
        outcomes.examples().isEmpty() ? "" : " e.g. " + outcomes.examples());
    if (cluster.selfStops() > selfStopsBefore || !formations.isEmpty()) {
      progress.printf(
          "FaultBench: %s #%d: started again after stopping by themselves: %s; clusters formed:"
              + " %s%n",
          scenario.label, rep, cluster.selfStopsSince(selfStopsBefore), formations);
    }
    if (!bodyRuns.unexplainedExamples().isEmpty()) {
      progress.printf(
          "FaultBench: %s #%d: faults at %s; repeats no fault explains: %s%n",
          scenario.label, rep, faults, bodyRuns.unexplainedExamples());
    }
    if (notRecovered != null) {
      summary.problem("repetition " + rep + ": " + notRecovered);
      progress.println(
          "FaultBench: "
              + scenario.label
              + " #"
              + rep
              + ": "
              + notRecovered
              + "; the run stops here");
      return true;
    }
    return false;
  }

  /** Injects the fault and waits for one cluster of all nodes again; null then, else why not. */
  private String inject(FaultScenario scenario, List<Instant> faults)
      throws IOException, InterruptedException {
    return switch (scenario) {
      case KILL_FIRST_SEED -> killAndRestart(0, faults);
      case KILL_ANY -> killAndRestart(random.nextInt(cluster.size()), faults);
      case KILL_FIRST_SEED_STALLED_SURVIVORS ->
          killFirstSeedStallingOthers(options.stall(), faults);
      case STALL_PAST_LEASE -> killFirstSeedStallingOthers(options.stallPastLease(), faults);
      case ROLLING_RESTART -> rollingRestart(faults);
    };
  }

  private String killAndRestart(int node, List<Instant> faults)
      throws IOException, InterruptedException {
    progress.printf("FaultBench: SIGKILL node %d, then start it again%n", node + 1);
    faults.add(Instant.now());
    cluster.kill(node);
    cluster.start(node);
    return cluster.awaitOneClusterOfAll(RECOVERY_DEADLINE);
  }

  /**
   * SIGKILL of the first seed node and its restart; once it starts to join, every other node is
   * stopped for {@code stall}. Past the lease timeout the others must then find themselves fenced
   * and exit (code 1); like any node that stops by itself, they are started again while the bench
   * waits for one cluster of all.
   */
  private String killFirstSeedStallingOthers(Duration stall, List<Instant> faults)
      throws IOException, InterruptedException {
    progress.printf(
        "FaultBench: SIGKILL node 1, start it again, SIGSTOP the others for %s once it joins%n",
        FaultSummary.seconds(stall));
    faults.add(Instant.now());
    cluster.kill(0);
    cluster.start(0);
    if (!cluster.awaitLog(0, JOINING_LOG_LINE, RECOVERY_DEADLINE)) {
      return "the restarted node 1 did not log '"
          + JOINING_LOG_LINE.trim()
          + "' within "
          + RECOVERY_DEADLINE.toSeconds()
          + " s";
    }
    faults.add(Instant.now());
    try {
      for (int other = 1; other < cluster.size(); other++) cluster.pause(other);
      Thread.sleep(stall.toMillis());
    } finally {
      for (int other = 1; other < cluster.size(); other++) cluster.resume(other);
    }
    return cluster.awaitOneClusterOfAll(RECOVERY_DEADLINE);
  }

  /**
   * SIGTERM to each node in turn; each is started again, and the cluster whole, before the next.
   */
  private String rollingRestart(List<Instant> faults) throws IOException, InterruptedException {
    for (int node = 0; node < cluster.size(); node++) {
      progress.printf("FaultBench: SIGTERM node %d, then start it again%n", node + 1);
      faults.add(Instant.now());
      cluster.terminate(node);
      int code = cluster.awaitExit(node, EXIT_DEADLINE);
      if (code == -1) {
        cluster.kill(node);
        progress.printf(
            "FaultBench: node %d did not exit within %d s of SIGTERM; killed%n",
            node + 1, EXIT_DEADLINE.toSeconds());
      } else if (code != 143) {
        progress.printf(
            "FaultBench: node %d exited with %d after SIGTERM (143 expected)%n", node + 1, code);
      }
      cluster.start(node);
      String why = cluster.awaitOneClusterOfAll(RECOVERY_DEADLINE);
      if (why != null) return "after restarting node " + (node + 1) + ": " + why;
    }
    return null;
  }

  /** The machine's load average (1, 5 and 15 minutes), or "unknown" off Linux. */
  static String loadAverage() {
    try {
      String[] fields = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return fields[0] + " " + fields[1] + " " + fields[2];
    } catch (IOException | RuntimeException e) {
      return "unknown";
    }
  }
}
