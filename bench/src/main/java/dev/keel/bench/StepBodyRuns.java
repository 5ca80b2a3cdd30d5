package dev.keel.bench;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * How often the step bodies of a run were called, from the calls an {@code http-sequence} target
 * saw: every attempt of a step sends {@code Idempotency-Key: <workflowId>/<stepName>}, so a key
 * seen twice is a step body that ran twice.
 *
 * <p>A repeat is <em>in flight at a fault</em> when the key's first call came before one of the
 * fault's signals (a kill, a stop, a SIGTERM) and a later call at or after that same signal: the
 * attempt was under way when its node went away, and the node that took the workflow over called it
 * again, as it must, since the step was not recorded. A repeat whose first call falls inside the
 * recovery (from the first signal until the shards are spread evenly again) is one <em>at a shard
 * move</em>: recovery moves shards twice (onto the survivors, and back onto the node that returns),
 * and an entity handed off while a step runs calls that step again where it starts next (which may
 * be a little after the shards are even again). Every other repeat is one that neither explains.
 *
 * @param keys distinct keys called
 * @param calls calls in all
 * @param keysCalledTwice keys called more than once
 * @param inFlightAtFault of those, the keys whose repeat a fault signal explains
 * @param atShardMove of those, the keys first called inside the recovery (and no signal between the
 *     calls)
 * @param unexplainedExamples up to five repeats neither explains, each as its key and call times
 */
record StepBodyRuns(
    int keys,
    int calls,
    int keysCalledTwice,
    int inFlightAtFault,
    int atShardMove,
    List<String> unexplainedExamples) {

  private static final int EXAMPLES = 5;

  /** One call the target saw. */
  record Call(String key, Instant at) {}

  /**
   * {@code recoveryFrom} to {@code recoveryTo}: from the first fault signal until the shards were
   * spread evenly again.
   */
  static StepBodyRuns of(
      Collection<Call> calls, List<Instant> faults, Instant recoveryFrom, Instant recoveryTo) {
    Map<String, List<Instant>> byKey = new HashMap<>();
    for (Call call : calls)
      byKey.computeIfAbsent(call.key(), k -> new ArrayList<>()).add(call.at());
    int twice = 0;
    int inFlight = 0;
    int atMove = 0;
    List<String> examples = new ArrayList<>();
    for (Map.Entry<String, List<Instant>> key : new java.util.TreeMap<>(byKey).entrySet()) {
      List<Instant> times = key.getValue();
      if (times.size() < 2) continue;
      twice++;
      times.sort(null);
      Instant first = times.get(0);
      Instant last = times.get(times.size() - 1);
      if (faults.stream().anyMatch(f -> first.isBefore(f) && !last.isBefore(f))) {
        inFlight++;
      } else if (!first.isBefore(recoveryFrom) && first.isBefore(recoveryTo)) {
        atMove++;
      } else if (examples.size() < EXAMPLES) {
        examples.add(key.getKey() + " at " + times);
      }
    }
    return new StepBodyRuns(
        byKey.size(), calls.size(), twice, inFlight, atMove, List.copyOf(examples));
  }

  /**
   * Repeats that neither a fault signal nor a shard move of the recovery explains: two live
   * writers, say.
   */
  int unexplained() {
    return keysCalledTwice - inFlightAtFault - atShardMove;
  }
}
