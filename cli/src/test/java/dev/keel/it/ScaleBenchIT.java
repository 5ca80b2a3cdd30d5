package dev.keel.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.bench.ScaleBench;
import dev.keel.bench.ScaleFigures;
import dev.keel.bench.ScaleOptions;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The short form of the scale-out bench ({@code bench/scale-bench.sh --short}): one node, then a
 * second joining under load, then leaving (SIGTERM) under load, each node in a CPU group and a
 * network namespace of its own, on a private PostgreSQL. It holds the cluster to what users of
 * "scale by adding nodes" rely on: no workflow is lost or fails while nodes come and go, a start
 * sent to either node works wherever its shard lives (about half cross at two nodes), and
 * completions go on while the shards move. Needs root (skipped otherwise, unless {@code
 * KEEL_REQUIRE_POSTGRES=1}).
 */
class ScaleBenchIT {

  /**
   * The bound this test holds a join and a leave to. The goal is {@link
   * ScaleFigures#GAP_GOAL_MILLIS} (2 s), which the full bench reports against; CI runs beside other
   * builds on two cores, where a lone node taking over every shard and projection stalls longer
   * (2.7 s seen at load average 25), so the test fails only well past the goal: a take-over that
   * waits for a timeout (handoff, ask, lease) shows as 10 s or more.
   */
  private static final long GAP_BOUND_MILLIS = 5000;

  @Test
  @Timeout(value = 8, unit = TimeUnit.MINUTES)
  void aNodeJoiningAndLeavingUnderLoadLosesNothingAndKeepsCompletionsGoing() throws Exception {
    HostAssumptions.require(ScaleBench.unavailable(), "ScaleBench cannot run here");
    Path jar = Path.of(System.getProperty("keel.jar", "target/keel.jar")).toAbsolutePath();
    Path workDir = Path.of("target", "scale-bench-it").toAbsolutePath();
    ScaleOptions options =
        ScaleOptions.parse(
            // CI's time counts: nodes at 0.6 of a core start sooner (2 x 0.6 + 0.5 + 0.3 still fits
            // two
            // cores), and half the short form's workflows still cross, join and leave under load.
            new String[] {
              "--short",
              "--node-cpu",
              "0.6",
              "--warmup",
              "50",
              "--workflows",
              "100",
              "--join-deadline",
              "PT15S",
              "--jar",
              jar.toString(),
              "--work-dir",
              workDir.toString()
            },
            Runtime.getRuntime().availableProcessors());

    ScaleBench.Result result = ScaleBench.run(options, System.out, System.out);

    assertThat(result.sizes()).extracting(ScaleFigures.Size::nodes).containsExactly(1, 2);
    for (ScaleFigures.Size size : result.sizes()) {
      assertThat(size.failed()).as("workflows not completed with %d nodes", size.nodes()).isZero();
      assertThat(size.completedPerSecond())
          .as("completed/s with %d nodes", size.nodes())
          .isPositive();
      assertThat(size.nodeCpuMs()).as("node CPU per workflow, from the CPU groups").isPositive();
      assertThat(size.postgresCpuMs())
          .as("PostgreSQL CPU per workflow, from its CPU group")
          .isPositive();
    }
    assertThat(result.sizes().get(0).crossedShare()).as("one node: nothing crosses").isZero();
    assertThat(result.sizes().get(1).crossedShare())
        .as("two nodes, round robin: about half the starts cross")
        .isBetween(0.3, 0.7);

    assertThat(result.moves())
        .extracting(ScaleFigures.Move::label)
        .containsExactly("join 1 -> 2", "leave 2 -> 1");
    for (ScaleFigures.Move move : result.moves()) {
      assertThat(move.failed()).as("%s: workflows that failed", move.label()).isZero();
      assertThat(move.completed())
          .as("%s: completions while the shards moved", move.label())
          .isPositive();
      assertThat(move.longestGapMillis())
          .as("%s: longest time without a completion", move.label())
          .isLessThanOrEqualTo(GAP_BOUND_MILLIS);
    }
  }
}
