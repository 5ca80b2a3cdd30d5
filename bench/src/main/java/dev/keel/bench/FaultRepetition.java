package dev.keel.bench;

import java.time.Duration;

/**
 * What one repetition of a {@link FaultScenario} left behind.
 *
 * @param acknowledged starts answered 201 or 200
 * @param completed of those, executions that ended {@code completed}
 * @param failed of those, executions that ended {@code failed} or {@code cancelled}
 * @param lost of those, executions that answered 404 or were not final by the deadline
 * @param givenUp starts never acknowledged within the retry window (unavailable, not lost)
 * @param recordedTwice steps with more than one {@code StepCompleted} (or timers fired twice)
 * @param bodyRuns what the counting target saw
 * @param longestUnavailable the longest time with no successful start anywhere
 * @param slowestStart the longest time from a start's first attempt to its acknowledgement
 * @param recovery from the first fault signal to every node ready with all members Up
 * @param formations node starts that formed a cluster (logged {@code cluster forming} or Pekko's
 *     {@code forming new cluster})
 * @param secondClusters of those, formations beside a living cluster ({@link SecondClusters})
 * @param selfStopped node starts that exited by themselves (downed, or fenced) and were started
 *     again
 * @param fenced node starts that logged {@code cluster fenced}
 * @param journalConflicts log lines with a duplicate key in the journal: two writers met there
 */
record FaultRepetition(
    int acknowledged,
    int completed,
    int failed,
    int lost,
    int givenUp,
    int recordedTwice,
    StepBodyRuns bodyRuns,
    Duration longestUnavailable,
    Duration slowestStart,
    Duration recovery,
    int formations,
    int secondClusters,
    int selfStopped,
    int fenced,
    int journalConflicts) {

  /**
   * Keel kept its promises in this repetition: nothing lost, nothing recorded or run twice beyond
   * what a fault explains, no journal conflict, and no second cluster beside a living one except
   * where the scenario makes one on purpose (and the fence must render it harmless).
   */
  boolean promisesHeld(FaultScenario scenario) {
    return lost == 0
        && recordedTwice == 0
        && bodyRuns.unexplained() == 0
        && journalConflicts == 0
        && secondClusters <= scenario.secondClustersAllowed();
  }
}
