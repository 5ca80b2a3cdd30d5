package dev.keel.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CompletionGapsTest {

  @Test
  void theLongestGapIsBetweenCompletionsInsideTheWindow_edgesIncluded() {
    CompletionGaps gaps = new CompletionGaps(10);
    for (long t : new long[] {500, 100, 1_300, 200, 5_000}) gaps.completed(t);

    // Window 0..2,000: 0-100, 100-200, 200-500, 500-1,300 (800), then 1,300 to the window's end
    // (700).
    assertThat(gaps.longestGapNanos(0, 2_000)).isEqualTo(800);
    assertThat(gaps.countBetween(0, 2_000)).isEqualTo(4);
    // The last stretch counts too: 1,300 to 4,000.
    assertThat(gaps.longestGapNanos(0, 4_000)).isEqualTo(2_700);
  }

  @Test
  void aWindowWithoutCompletionsIsOneGapAsLongAsItself() {
    CompletionGaps gaps = new CompletionGaps(10);
    gaps.completed(10);

    assertThat(gaps.longestGapNanos(100, 600)).isEqualTo(500);
    assertThat(gaps.countBetween(100, 600)).isZero();
  }

  @Test
  void completionsBeyondTheCapacityAreDropped() {
    CompletionGaps gaps = new CompletionGaps(2);
    gaps.completed(1);
    gaps.completed(2);
    gaps.completed(3);

    assertThat(gaps.count()).isEqualTo(2);
  }
}
