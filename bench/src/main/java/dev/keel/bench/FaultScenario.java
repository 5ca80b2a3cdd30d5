package dev.keel.bench;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The faults {@link FaultBench} injects, each under load, each followed by recovery: every node
 * running again, ready, and seeing all members Up.
 */
enum FaultScenario {
  /** SIGKILL of the first seed node, then its restart: it must join the running cluster. */
  KILL_FIRST_SEED("kill-first-seed"),
  /**
   * SIGKILL of the first seed node, then its restart while every other node is stopped (SIGSTOP)
   * for longer than the seed-node timeout and shorter than the lease timeout: the restarted node
   * gets no answer and must still not form a cluster of its own.
   */
  KILL_FIRST_SEED_STALLED_SURVIVORS("kill-first-seed-stalled-survivors"),
  /** SIGKILL of a node chosen at random, then its restart. */
  KILL_ANY("kill-any"),
  /** SIGTERM of each node in turn; each is started again and ready before the next goes. */
  ROLLING_RESTART("rolling-restart"),
  /**
   * As the stalled survivors, but stopped for longer than the lease timeout: the restarted first
   * seed node may then form a new cluster (the lease says the old one is gone), and the old one,
   * once it wakes, must find itself fenced and stop (exit code 1) before it writes; it is started
   * again and joins the new cluster.
   */
  STALL_PAST_LEASE("stall-past-lease");

  final String label;

  FaultScenario(String label) {
    this.label = label;
  }

  /**
   * Clusters that may form beside a living one in one repetition: only where the old one is stalled
   * past its lease on purpose; its writes must then be refused (the fence).
   */
  int secondClustersAllowed() {
    return this == STALL_PAST_LEASE ? 1 : 0;
  }

  static FaultScenario named(String label) {
    return Arrays.stream(values())
        .filter(s -> s.label.equals(label.trim()))
        .findFirst()
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    "--scenarios: unknown scenario '" + label.trim() + "', known: " + labels()));
  }

  static String labels() {
    return Arrays.stream(values()).map(s -> s.label).collect(Collectors.joining(", "));
  }
}
