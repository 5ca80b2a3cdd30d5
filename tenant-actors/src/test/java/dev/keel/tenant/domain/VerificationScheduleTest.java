package dev.keel.tenant.domain;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * When a pending hostname is checked: the whole week of the default schedule, walked check by
 * check.
 */
class VerificationScheduleTest {

  private static final Instant START = Instant.parse("2026-11-22T09:00:00Z");
  private final VerificationSchedule schedule = VerificationSchedule.cloudflareLike();

  @Test
  void theDefaultScheduleChecksOftenAtFirstThenHourlyUntilTheSeventhDay() {
    List<Instant> checks = new ArrayList<>();
    Instant now = START;
    for (Optional<Instant> next = schedule.nextCheckAfter(START, now);
        next.isPresent();
        next = schedule.nextCheckAfter(START, now)) {
      checks.add(next.get());
      now = next.get();
    }

    assertThat(checks.subList(0, 8))
        .containsExactly(
            START.plusSeconds(60),
            START.plusSeconds(180),
            START.plusSeconds(480),
            START.plusSeconds(1080),
            START.plusSeconds(1980),
            START.plusSeconds(3780),
            START.plusSeconds(7380),
            START.plusSeconds(10980));
    assertThat(checks.get(checks.size() - 1))
        .as("the last check is at the deadline")
        .isEqualTo(START.plus(Duration.ofDays(7)));
    // 6 frequent ones, then hourly from minute 63 up to day 7, then the deadline itself.
    assertThat(checks)
        .hasSize(6 + (int) ((Duration.ofDays(7).toMinutes() - 63) / 60) + 1)
        .doesNotHaveDuplicates()
        .isSorted();
  }

  @Test
  void aCheckBetweenScheduledOnesDoesNotMoveTheNextOne() {
    assertThat(schedule.nextCheckAfter(START, START.plusSeconds(100)))
        .contains(START.plusSeconds(180));
    assertThat(schedule.nextCheckAfter(START, START.plusSeconds(180)))
        .as("strictly after now")
        .contains(START.plusSeconds(480));
    assertThat(schedule.nextCheckAfter(START, START.plus(Duration.ofHours(50)).plusSeconds(1)))
        .contains(START.plusSeconds(3780).plus(Duration.ofHours(49)));
  }

  @Test
  void nothingIsLeftAtOrAfterTheDeadline() {
    assertThat(schedule.nextCheckAfter(START, START.plus(Duration.ofDays(7)))).isEmpty();
    assertThat(schedule.nextCheckAfter(START, START.plus(Duration.ofDays(30)))).isEmpty();
  }
}
