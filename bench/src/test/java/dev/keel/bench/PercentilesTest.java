package dev.keel.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

class PercentilesTest {

  @Test
  void oneToHundredGivesTheRankItself() {
    Percentiles p = Percentiles.of(LongStream.rangeClosed(1, 100).toArray());

    assertThat(p.count()).isEqualTo(100);
    assertThat(p.value(50)).isEqualTo(50);
    assertThat(p.value(90)).isEqualTo(90);
    assertThat(p.value(99)).isEqualTo(99);
    assertThat(p.value(100)).isEqualTo(100);
    assertThat(p.max()).isEqualTo(100);
  }

  @Test
  void unsortedSamplesUseNearestRankRoundingUp() {
    long[] samples = {70, 10, 100, 40, 20, 90, 30, 60, 50, 80};
    Percentiles p = Percentiles.of(samples);

    assertThat(p.value(50)).isEqualTo(50); // rank ceil(5.0) = 5
    assertThat(p.value(55)).isEqualTo(60); // rank ceil(5.5) = 6
    assertThat(p.value(90)).isEqualTo(90); // rank ceil(9.0) = 9
    assertThat(p.value(99)).isEqualTo(100); // rank ceil(9.9) = 10
    assertThat(p.value(1)).isEqualTo(10); // rank ceil(0.1) = 1
    assertThat(p.max()).isEqualTo(100);
    assertThat(samples[0]).as("input left unsorted").isEqualTo(70);
  }

  @Test
  void aSlowTailShowsOnlyAboveItsRank() {
    // 980 fast samples, 20 slow ones: p90 and p98 stay fast, p99 and max see the tail.
    long[] samples = new long[1000];
    for (int i = 0; i < samples.length; i++) {
      samples[i] = i < 980 ? 12 : 5000 + i;
    }
    Percentiles p = Percentiles.of(samples);

    assertThat(p.value(50)).isEqualTo(12);
    assertThat(p.value(98)).isEqualTo(12);
    assertThat(p.value(99)).isEqualTo(5989); // rank 990 is the 10th slow sample, i = 989
    assertThat(p.max()).isEqualTo(5999);
  }

  @Test
  void exactRanksAreNotPushedUpByFloatingPoint() {
    // 7 / 100.0 * 100 is 7.000000000000001 in double arithmetic; the rank must still be 7.
    Percentiles p = Percentiles.of(LongStream.rangeClosed(1, 100).toArray());

    assertThat(p.value(7)).isEqualTo(7);
    assertThat(p.value(55)).isEqualTo(55);
  }

  @Test
  void aSingleSampleIsEveryPercentile() {
    Percentiles p = Percentiles.of(new long[] {42});

    assertThat(p.value(50)).isEqualTo(42);
    assertThat(p.value(99)).isEqualTo(42);
    assertThat(p.max()).isEqualTo(42);
  }

  @Test
  void noSamplesAndOutOfRangePercentilesAreRefused() {
    Percentiles empty = Percentiles.of(new long[0]);
    assertThat(empty.isEmpty()).isTrue();
    assertThatThrownBy(() -> empty.value(50)).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(empty::max).isInstanceOf(IllegalStateException.class);

    Percentiles p = Percentiles.of(new long[] {1, 2, 3});
    assertThatThrownBy(() -> p.value(0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> p.value(100.5)).isInstanceOf(IllegalArgumentException.class);
  }
}
