package dev.keel.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class HeartbeatScheduleTest {

  private static final long SECOND = 1_000_000_000L;

  @Test
  void servicesAreSpreadEvenlyOverEachInterval() {
    HeartbeatSchedule s = new HeartbeatSchedule(4, Duration.ofSeconds(10));

    assertThat(s.offsetNanos(0)).isZero();
    assertThat(s.offsetNanos(1)).isEqualTo(2_500_000_000L);
    assertThat(s.offsetNanos(2)).isEqualTo(5 * SECOND);
    assertThat(s.offsetNanos(3)).isEqualTo(7_500_000_000L);
    // The second interval repeats the pattern, 10 s later, for the same services.
    assertThat(s.offsetNanos(4)).isEqualTo(10 * SECOND);
    assertThat(s.offsetNanos(5)).isEqualTo(12_500_000_000L);
    assertThat(s.service(4)).isZero();
    assertThat(s.service(5)).isEqualTo(1);
    assertThat(s.service(7)).isEqualTo(3);
    assertThat(s.perSecond()).isEqualTo(0.4);
  }

  @Test
  void tenThousandServicesAtTenSecondsAreOneThousandASecondOneMillisecondApart() {
    HeartbeatSchedule s = new HeartbeatSchedule(10_000, Duration.ofSeconds(10));

    assertThat(s.perSecond()).isEqualTo(1000.0);
    assertThat(s.offsetNanos(1)).isEqualTo(1_000_000L);
    assertThat(s.offsetNanos(9_999)).isEqualTo(9_999_000_000L);
    assertThat(s.offsetNanos(10_000)).isEqualTo(10 * SECOND);
    // Every service appears exactly once per interval.
    assertThat(s.service(12_345)).isEqualTo(2_345);
  }

  @Test
  void theFirstSlotOfAWindowIsTheFirstDueAtOrAfterItsStart() {
    HeartbeatSchedule s = new HeartbeatSchedule(4, Duration.ofSeconds(10));

    assertThat(s.firstSlotAtOrAfter(-5)).isZero();
    assertThat(s.firstSlotAtOrAfter(0)).isZero();
    assertThat(s.firstSlotAtOrAfter(1)).isEqualTo(1);
    assertThat(s.firstSlotAtOrAfter(2_500_000_000L)).isEqualTo(1);
    assertThat(s.firstSlotAtOrAfter(2_500_000_001L)).isEqualTo(2);
    assertThat(s.firstSlotAtOrAfter(9 * SECOND)).isEqualTo(4);
    assertThat(s.firstSlotAtOrAfter(10 * SECOND)).isEqualTo(4);
    // Warm-up 10 s, measured 60 s: slots [4, 28), 24 heartbeats = 60 s × 0.4/s.
    assertThat(s.firstSlotAtOrAfter(70 * SECOND) - s.firstSlotAtOrAfter(10 * SECOND)).isEqualTo(24);
  }

  @Test
  void firstSlotAgreesWithOffsetsWhenTheIntervalDoesNotDivideEvenly() {
    HeartbeatSchedule s = new HeartbeatSchedule(7, 1_000L);
    for (long t = 0; t < 5_000; t++) {
      long k = s.firstSlotAtOrAfter(t);
      assertThat(s.offsetNanos(k)).as("slot %d due at or after %d", k, t).isGreaterThanOrEqualTo(t);
      if (k > 0) {
        assertThat(s.offsetNanos(k - 1)).as("slot %d due before %d", k - 1, t).isLessThan(t);
      }
    }
  }

  @Test
  void theLargestScheduleDoesNotOverflow() {
    HeartbeatSchedule s =
        new HeartbeatSchedule(HeartbeatSchedule.MAX_SERVICES, HeartbeatSchedule.MAX_INTERVAL);
    long last = HeartbeatSchedule.MAX_SERVICES - 1;

    assertThat(s.offsetNanos(last))
        .isPositive()
        .isLessThan(HeartbeatSchedule.MAX_INTERVAL.toNanos());
    assertThat(s.firstSlotAtOrAfter(s.offsetNanos(last))).isEqualTo(last);
    assertThatThrownBy(() -> new HeartbeatSchedule(0, Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
