package dev.keel.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class UnavailabilityTest {

  private static final Instant T0 = Instant.parse("2026-12-07T10:00:00Z");

  private static Instant at(double seconds) {
    return T0.plusMillis((long) (seconds * 1000));
  }

  @Test
  void theLongestGapBetweenSuccessesCounts() {
    assertThat(Unavailability.longest(List.of(at(1), at(1.5), at(13.5), at(14)), at(0), at(15)))
        .isEqualTo(Duration.ofSeconds(12));
  }

  @Test
  void theWindowsEdgesCountAsWell_orderDoesNotMatter() {
    assertThat(Unavailability.longest(List.of(at(12), at(11), at(10.5)), at(0), at(15)))
        .isEqualTo(Duration.ofMillis(10_500));
    assertThat(Unavailability.longest(List.of(at(1), at(2)), at(0), at(20)))
        .isEqualTo(Duration.ofSeconds(18));
  }

  @Test
  void withoutAnySuccessTheWholeWindowWasUnavailable() {
    assertThat(Unavailability.longest(List.of(), at(0), at(30))).isEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void successesOutsideTheWindowAreLeftOut() {
    assertThat(Unavailability.longest(List.of(at(-5), at(4), at(25)), at(0), at(10)))
        .isEqualTo(Duration.ofSeconds(6));
  }
}
