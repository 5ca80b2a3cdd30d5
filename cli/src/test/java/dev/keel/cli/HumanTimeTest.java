package dev.keel.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class HumanTimeTest {

  @Test
  void twoLargestUnits() {
    assertThat(HumanTime.duration(Duration.ZERO)).isEqualTo("0s");
    assertThat(HumanTime.duration(Duration.ofMillis(999))).isEqualTo("0s");
    assertThat(HumanTime.duration(Duration.ofSeconds(4))).isEqualTo("4s");
    assertThat(HumanTime.duration(Duration.ofSeconds(60))).isEqualTo("1m");
    assertThat(HumanTime.duration(Duration.ofSeconds(725))).isEqualTo("12m5s");
    assertThat(HumanTime.duration(Duration.ofHours(3).plusMinutes(12).plusSeconds(59)))
        .isEqualTo("3h12m");
    assertThat(HumanTime.duration(Duration.ofHours(3).plusSeconds(5))).isEqualTo("3h");
    assertThat(HumanTime.duration(Duration.ofDays(2).plusHours(3).plusMinutes(1)))
        .isEqualTo("2d3h");
    assertThat(HumanTime.duration(Duration.ofDays(400))).isEqualTo("400d");
    assertThat(HumanTime.duration(Duration.ofSeconds(-5))).as("clocks apart").isEqualTo("0s");
  }

  @Test
  void agoAndSince() {
    Instant now = Instant.parse("2026-11-22T12:00:00Z");
    assertThat(HumanTime.ago(now.minusSeconds(4), now)).isEqualTo("4s ago");
    assertThat(HumanTime.ago(null, now)).isEqualTo("-");
    assertThat(HumanTime.since(now.minusSeconds(3 * 3600 + 12 * 60), now)).isEqualTo("3h12m");
  }

  @Test
  void numbers() {
    assertThat(HumanTime.number(1.5)).isEqualTo("1.5");
    assertThat(HumanTime.number(3.0)).isEqualTo("3");
    assertThat(HumanTime.number(1e-7)).isEqualTo("0.0000001");
    assertThat(HumanTime.number(12345678.0)).isEqualTo("12345678");
    assertThat(HumanTime.number(null)).isEqualTo("-");
  }
}
