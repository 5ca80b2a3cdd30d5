package dev.keel.registry.history;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which tier answers a span at a step, and how its buckets become points. */
class HistoryQueryTest {

  private static final Instant NOW = Instant.parse("2026-03-01T07:30:05Z");
  private static final MetricHistorySettings SETTINGS =
      new MetricHistorySettings(
          true,
          List.of(
              new MetricHistorySettings.Tier(Duration.ofSeconds(10), Duration.ofDays(1)),
              new MetricHistorySettings.Tier(Duration.ofMinutes(1), Duration.ofDays(7)),
              new MetricHistorySettings.Tier(Duration.ofHours(1), Duration.ofDays(90))),
          Duration.ofSeconds(5),
          Duration.ofSeconds(60),
          1000,
          32,
          Duration.ofMinutes(10));

  private static HistoryQuery.Plan plan(String span, String step) {
    return HistoryQuery.plan(
        SETTINGS, NOW, Duration.parse(span), step == null ? null : Duration.parse(step), null);
  }

  @Test
  void theCoarsestTierThatKeepsTheSpanAtTheStep() {
    assertThat(plan("PT1H", "PT1M").resolution()).isEqualTo(Duration.ofMinutes(1));
    assertThat(plan("PT1H", "PT10S").resolution()).isEqualTo(Duration.ofSeconds(10));
    assertThat(plan("PT1H", "PT30S").resolution()).isEqualTo(Duration.ofSeconds(10));
    // Two days: the 10 s tier no longer keeps it, whatever the step.
    assertThat(plan("P2D", "PT2M").resolution()).isEqualTo(Duration.ofMinutes(1));
    assertThat(plan("P30D", "PT1H").resolution()).isEqualTo(Duration.ofHours(1));
    assertThat(plan("P30D", "PT1H").step()).isEqualTo(Duration.ofHours(1));
  }

  @Test
  void theStepIsRoundedUpToTheTiersResolutionAndDefaultsToSixtyPoints() {
    // 15 s on the 10 s tier: 20 s.
    assertThat(plan("PT1H", "PT15S").step()).isEqualTo(Duration.ofSeconds(20));
    // Five days are kept by the minute tier: 5 min 30 s becomes 6 min.
    assertThat(plan("P5D", "PT5M30S").step()).isEqualTo(Duration.ofMinutes(6));
    assertThat(plan("PT1H", null).step()).isEqualTo(Duration.ofMinutes(1));
    // Aligned to the step, so that points are the same whenever one asks.
    assertThat(plan("PT1H", "PT1M").since()).isEqualTo(Instant.parse("2026-03-01T06:30:00Z"));
  }

  @Test
  void spansBeyondEveryTierAndTooManyPointsNameTheirParameter() {
    assertThatThrownBy(() -> plan("P91D", null)).hasMessageStartingWith("since: ");
    assertThatThrownBy(() -> plan("P1D", "PT10S")).hasMessageStartingWith("step: ");
    assertThatThrownBy(() -> plan("PT0S", null)).hasMessageStartingWith("since: ");
  }

  @Test
  void bucketsBecomePointsPerStepAndAnEarlierOwnersAreLeftOut() {
    HistoryQuery.Plan plan = plan("PT1H", "PT20S");
    long t = plan.fromBucket();
    List<BucketAggregate> rows =
        List.of(
            new BucketAggregate("s", "t1", "lag", 10, t, 2, 10, 4, 6, 6, t * 1000 + 9000),
            new BucketAggregate("s", "t1", "lag", 10, t + 10, 1, 1, 1, 1, 1, t * 1000 + 15000),
            new BucketAggregate("s", "t0", "lag", 10, t + 20, 1, 100, 100, 100, 100, 0),
            new BucketAggregate("s", "t1", "rate", 10, t + 20, 1, 7, 7, 7, 7, t * 1000 + 21000));
    HistoryQuery.History h = HistoryQuery.answer("s", "t1", plan, rows);
    assertThat(h.metrics()).extracting(HistoryQuery.Series::name).containsExactly("lag", "rate");
    assertThat(h.metrics().get(0).points())
        .containsExactly(new HistoryQuery.Point(Instant.ofEpochSecond(t), 1, 6, 1, 11.0 / 3));
    assertThat(h.metrics().get(1).points())
        .containsExactly(new HistoryQuery.Point(Instant.ofEpochSecond(t + 20), 7, 7, 7, 7));
  }
}
