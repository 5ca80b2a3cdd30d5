package dev.keel.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class FaultSummaryTest {

  private static FaultRepetition repetition(
      int acknowledged, int lost, int twice, int inFlight, long unavailableMs, int secondClusters) {
    return new FaultRepetition(
        acknowledged,
        acknowledged - lost,
        0,
        lost,
        0,
        0,
        new StepBodyRuns(acknowledged * 3, acknowledged * 3 + twice, twice, inFlight, 0, List.of()),
        Duration.ofMillis(unavailableMs),
        Duration.ofSeconds(2),
        Duration.ofSeconds(40),
        secondClusters,
        secondClusters,
        0,
        0,
        0);
  }

  @Test
  void theLineSumsCountsAndTakesTheLongestTimes() {
    FaultSummary summary = new FaultSummary(FaultScenario.KILL_FIRST_SEED);
    summary.add(repetition(100, 0, 3, 3, 4_200, 0));
    summary.add(repetition(120, 0, 1, 1, 9_800, 0));

    assertThat(summary.line())
        .startsWith("kill-first-seed ")
        .contains(
            "repetitions 2, acknowledged 220, completed 220, lost 0, recorded twice 0, bodies run"
                + " twice 4 (4 in flight at a fault, 0 at a shard move, 0 unexplained), longest"
                + " unavailability 9.8 s")
        .contains("clusters formed 0 (beside a living one 0, allowed 0)");
    assertThat(summary.promisesHeld()).isTrue();
    assertThat(summary.json().get("bodiesRunTwiceInFlightAtFault").asInt()).isEqualTo(4);
    assertThat(summary.json().get("longestUnavailabilityMs").asLong()).isEqualTo(9_800);
  }

  @Test
  void aLostStartARepeatNoFaultExplainsOrASecondClusterBreaksThePromise() {
    FaultSummary lost = new FaultSummary(FaultScenario.KILL_ANY);
    lost.add(repetition(10, 1, 0, 0, 1_000, 0));
    FaultSummary unexplained = new FaultSummary(FaultScenario.KILL_ANY);
    unexplained.add(repetition(10, 0, 2, 1, 1_000, 0));
    FaultSummary secondCluster = new FaultSummary(FaultScenario.KILL_FIRST_SEED_STALLED_SURVIVORS);
    secondCluster.add(repetition(10, 0, 0, 0, 1_000, 1));

    assertThat(lost.promisesHeld()).isFalse();
    assertThat(unexplained.promisesHeld()).isFalse();
    assertThat(secondCluster.promisesHeld()).isFalse();
    assertThat(secondCluster.line())
        .contains("clusters formed 1 (beside a living one 1, allowed 0)");
  }

  @Test
  void pastTheLeaseOneClusterBesideTheStalledOnePerRepetitionIsAllowed() {
    FaultSummary summary = new FaultSummary(FaultScenario.STALL_PAST_LEASE);
    summary.add(repetition(50, 0, 0, 0, 30_000, 1));
    summary.add(repetition(50, 0, 0, 0, 31_000, 1));

    assertThat(summary.promisesHeld()).isTrue();
    assertThat(summary.line()).contains("clusters formed 2 (beside a living one 2, allowed 2)");
  }

  @Test
  void anUnfinishedRepetitionIsNamedAndBreaksThePromise() {
    FaultSummary summary = new FaultSummary(FaultScenario.ROLLING_RESTART);
    summary.add(repetition(10, 0, 0, 0, 1_000, 0));
    summary.problem("repetition 1: node 2 sees 2 of 3 members Up");

    assertThat(summary.promisesHeld()).isFalse();
    assertThat(summary.line())
        .endsWith("; NOT FINISHED: repetition 1: node 2 sees 2 of 3 members Up");
    assertThat(summary.json().get("problems").get(0).asText()).contains("node 2");
  }
}
