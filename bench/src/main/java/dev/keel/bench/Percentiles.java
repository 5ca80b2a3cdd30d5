package dev.keel.bench;

import java.util.Arrays;

/**
 * Nearest-rank percentiles over a fixed set of samples: the p-th percentile is the smallest sample
 * such that at least p % of all samples are less than or equal to it, so every figure reported is a
 * value that was actually observed.
 *
 * <pre>{@code
 * Percentiles p = Percentiles.of(new long[] {30, 10, 20});
 * p.value(50);  // 20
 * p.max();      // 30
 * }</pre>
 */
public final class Percentiles {

  private final long[] sorted;

  private Percentiles(long[] sorted) {
    this.sorted = sorted;
  }

  /** Copies and sorts {@code samples}; the array passed in is left as it is. */
  public static Percentiles of(long[] samples) {
    long[] copy = samples.clone();
    Arrays.sort(copy);
    return new Percentiles(copy);
  }

  public int count() {
    return sorted.length;
  }

  public boolean isEmpty() {
    return sorted.length == 0;
  }

  /**
   * The p-th percentile, {@code 0 < p <= 100}: the sample at 1-based rank {@code ceil(p / 100 *
   * n)}.
   *
   * @throws IllegalStateException when there are no samples
   */
  public long value(double p) {
    if (!(p > 0 && p <= 100)) {
      throw new IllegalArgumentException("percentile must be in (0, 100], was " + p);
    }
    if (sorted.length == 0) {
      throw new IllegalStateException("no samples");
    }
    // The epsilon keeps an exact rank exact: 7 / 100.0 * 100 is 7.000000000000001.
    int rank = (int) Math.ceil(p / 100.0 * sorted.length - 1e-9);
    return sorted[Math.max(rank, 1) - 1];
  }

  public long max() {
    if (sorted.length == 0) {
      throw new IllegalStateException("no samples");
    }
    return sorted[sorted.length - 1];
  }
}
