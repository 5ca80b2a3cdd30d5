package dev.keel.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class StepBodyRunsTest {

  private static final Instant T0 = Instant.parse("2026-12-07T10:00:00Z");

  /** A recovery window no call falls in. */
  private static final Instant NEVER = Instant.parse("2000-01-01T00:00:00Z");

  private static StepBodyRuns.Call call(String key, int second) {
    return new StepBodyRuns.Call(key, T0.plusSeconds(second));
  }

  @Test
  void keysCalledOnceAreNotRepeats() {
    StepBodyRuns runs =
        StepBodyRuns.of(
            List.of(call("w-1/reserve", 1), call("w-1/ship", 2), call("w-2/reserve", 3)),
            List.of(T0.plusSeconds(10)),
            NEVER,
            NEVER);

    assertThat(runs.keys()).isEqualTo(3);
    assertThat(runs.calls()).isEqualTo(3);
    assertThat(runs.keysCalledTwice()).isZero();
    assertThat(runs.unexplained()).isZero();
  }

  @Test
  void aRepeatAcrossAFaultWasInFlightAtIt() {
    StepBodyRuns runs =
        StepBodyRuns.of(
            List.of(call("w-1/reserve", 9), call("w-1/reserve", 40), call("w-2/ship", 5)),
            List.of(T0.plusSeconds(10)),
            NEVER,
            NEVER);

    assertThat(runs.keysCalledTwice()).isEqualTo(1);
    assertThat(runs.inFlightAtFault()).isEqualTo(1);
    assertThat(runs.unexplained()).isZero();
    assertThat(runs.unexplainedExamples()).isEmpty();
  }

  @Test
  void aRepeatWhollyBeforeOrWhollyAfterEveryFaultIsUnexplained() {
    StepBodyRuns runs =
        StepBodyRuns.of(
            List.of(
                call("w-1/reserve", 1), call("w-1/reserve", 2), // both before the fault
                call("w-2/ship", 30), call("w-2/ship", 31), // both after it
                call("w-3/charge", 9), call("w-3/charge", 12)), // across it
            List.of(T0.plusSeconds(10)),
            NEVER,
            NEVER);

    assertThat(runs.keysCalledTwice()).isEqualTo(3);
    assertThat(runs.inFlightAtFault()).isEqualTo(1);
    assertThat(runs.unexplained()).isEqualTo(2);
    assertThat(runs.unexplainedExamples())
        .hasSize(2)
        .anySatisfy(e -> assertThat(e).startsWith("w-1/reserve at "))
        .anySatisfy(e -> assertThat(e).startsWith("w-2/ship at "));
  }

  @Test
  void anyOfSeveralFaultsExplainsARepeat_callsInAnyOrder() {
    // A rolling restart: one fault per node; the calls arrive out of order from several threads.
    StepBodyRuns runs =
        StepBodyRuns.of(
            List.of(call("w-1/ship", 70), call("w-1/ship", 55), call("w-1/ship", 58)),
            List.of(T0.plusSeconds(10), T0.plusSeconds(60), T0.plusSeconds(120)),
            NEVER,
            NEVER);

    assertThat(runs.keysCalledTwice()).isEqualTo(1);
    assertThat(runs.inFlightAtFault()).isEqualTo(1);
  }

  @Test
  void aCallAtTheVeryInstantOfTheFaultCountsAsAfterIt() {
    StepBodyRuns runs =
        StepBodyRuns.of(
            List.of(call("w-1/ship", 5), call("w-1/ship", 10)),
            List.of(T0.plusSeconds(10)),
            NEVER,
            NEVER);

    assertThat(runs.inFlightAtFault()).isEqualTo(1);
  }

  @Test
  void aRepeatFirstCalledDuringTheRecoveryIsOneAtAShardMove() {
    // Fault at 10 s; recovery (take-over, the node's return, shards even again) until 60 s.
    StepBodyRuns runs =
        StepBodyRuns.of(
            List.of(
                call("w-1/ship", 40), call("w-1/ship", 49), // handed off while it ran, called again
                call("w-2/ship", 58),
                    call("w-2/ship", 63), // handed off just before the shards were even
                call("w-3/charge", 70),
                    call("w-3/charge", 75)), // after the recovery: no move explains it
            List.of(T0.plusSeconds(10)),
            T0.plusSeconds(10),
            T0.plusSeconds(60));

    assertThat(runs.keysCalledTwice()).isEqualTo(3);
    assertThat(runs.inFlightAtFault()).isZero();
    assertThat(runs.atShardMove()).isEqualTo(2);
    assertThat(runs.unexplained()).isEqualTo(1);
    assertThat(runs.unexplainedExamples()).singleElement().asString().startsWith("w-3/charge at ");
  }
}
