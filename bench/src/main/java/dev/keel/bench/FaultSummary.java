package dev.keel.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.function.ToIntFunction;

/** The repetitions of one scenario, summed into the one line {@link FaultBench} prints for it. */
final class FaultSummary {

  private final FaultScenario scenario;
  private final List<FaultRepetition> repetitions = new ArrayList<>();
  private final List<String> problems = new ArrayList<>();

  FaultSummary(FaultScenario scenario) {
    this.scenario = scenario;
  }

  void add(FaultRepetition repetition) {
    repetitions.add(repetition);
  }

  /** A repetition that could not be finished (a node that did not come back, say), in one line. */
  void problem(String what) {
    problems.add(what);
  }

  FaultScenario scenario() {
    return scenario;
  }

  int repetitions() {
    return repetitions.size();
  }

  int sum(ToIntFunction<FaultRepetition> figure) {
    return repetitions.stream().mapToInt(figure).sum();
  }

  Duration longest(Function<FaultRepetition, Duration> figure) {
    return repetitions.stream().map(figure).max(Duration::compareTo).orElse(Duration.ZERO);
  }

  /** Every repetition ran to its end and kept Keel's promises. */
  boolean promisesHeld() {
    return problems.isEmpty() && repetitions.stream().allMatch(r -> r.promisesHeld(scenario));
  }

  /** The scenario's line: repetitions, then what was acknowledged and what became of it. */
  String line() {
    int twice = sum(r -> r.bodyRuns().keysCalledTwice());
    int inFlight = sum(r -> r.bodyRuns().inFlightAtFault());
    int atMove = sum(r -> r.bodyRuns().atShardMove());
    String line =
        String.format(
            Locale.ROOT,
            "%-34s repetitions %d, acknowledged %d, completed %d, lost %d, recorded twice %d,"
                + " bodies run twice %d (%d in flight at a fault, %d at a shard move, %d"
                + " unexplained), longest unavailability %s; failed %d, starts given up %d, slowest"
                + " start %s, longest recovery %s, clusters formed %d (beside a living one %d,"
                + " allowed %d), nodes that stopped themselves %d (fenced %d), journal conflicts"
                + " %d",
            scenario.label,
            repetitions(),
            sum(FaultRepetition::acknowledged),
            sum(FaultRepetition::completed),
            sum(FaultRepetition::lost),
            sum(FaultRepetition::recordedTwice),
            twice,
            inFlight,
            atMove,
            twice - inFlight - atMove,
            seconds(longest(FaultRepetition::longestUnavailable)),
            sum(FaultRepetition::failed),
            sum(FaultRepetition::givenUp),
            seconds(longest(FaultRepetition::slowestStart)),
            seconds(longest(FaultRepetition::recovery)),
            sum(FaultRepetition::formations),
            sum(FaultRepetition::secondClusters),
            scenario.secondClustersAllowed() * repetitions(),
            sum(FaultRepetition::selfStopped),
            sum(FaultRepetition::fenced),
            sum(FaultRepetition::journalConflicts));
    return problems.isEmpty() ? line : line + "; NOT FINISHED: " + String.join("; ", problems);
  }

  ObjectNode json() {
    ObjectNode node = LoadReport.JSON.createObjectNode();
    node.put("scenario", scenario.label);
    node.put("repetitions", repetitions());
    node.put("acknowledged", sum(FaultRepetition::acknowledged));
    node.put("completed", sum(FaultRepetition::completed));
    node.put("failed", sum(FaultRepetition::failed));
    node.put("lost", sum(FaultRepetition::lost));
    node.put("recordedTwice", sum(FaultRepetition::recordedTwice));
    node.put("bodiesRunTwice", sum(r -> r.bodyRuns().keysCalledTwice()));
    node.put("bodiesRunTwiceInFlightAtFault", sum(r -> r.bodyRuns().inFlightAtFault()));
    node.put("bodiesRunTwiceAtShardMove", sum(r -> r.bodyRuns().atShardMove()));
    node.put("stepCalls", sum(r -> r.bodyRuns().calls()));
    node.put("longestUnavailabilityMs", longest(FaultRepetition::longestUnavailable).toMillis());
    node.put("startsGivenUp", sum(FaultRepetition::givenUp));
    node.put("slowestStartMs", longest(FaultRepetition::slowestStart).toMillis());
    node.put("longestRecoveryMs", longest(FaultRepetition::recovery).toMillis());
    node.put("clustersFormed", sum(FaultRepetition::formations));
    node.put("clustersFormedBesideALivingOne", sum(FaultRepetition::secondClusters));
    node.put(
        "clustersFormedBesideALivingOneAllowed", scenario.secondClustersAllowed() * repetitions());
    node.put("nodesThatStoppedThemselves", sum(FaultRepetition::selfStopped));
    node.put("fenced", sum(FaultRepetition::fenced));
    node.put("journalConflicts", sum(FaultRepetition::journalConflicts));
    node.put("promisesHeld", promisesHeld());
    problems.forEach(node.putArray("problems")::add);
    return node;
  }

  static String seconds(Duration d) {
    return String.format(Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
  }
}
