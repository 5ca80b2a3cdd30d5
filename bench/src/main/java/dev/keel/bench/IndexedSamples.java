package dev.keel.bench;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * At most one sample per index (a workflow, a heartbeat slot), written from any thread; an index
 * without a sample is left out of the {@link Percentiles}. Samples are never negative.
 */
final class IndexedSamples {

  private static final long NONE = -1;

  private final AtomicLongArray values;

  IndexedSamples(int size) {
    values = new AtomicLongArray(size);
    for (int i = 0; i < size; i++) {
      values.set(i, NONE);
    }
  }

  void set(int index, long sample) {
    values.set(index, Math.max(0, sample));
  }

  Percentiles percentiles() {
    long[] present = new long[values.length()];
    int n = 0;
    for (int i = 0; i < values.length(); i++) {
      long value = values.get(i);
      if (value != NONE) {
        present[n++] = value;
      }
    }
    return Percentiles.of(Arrays.copyOf(present, n));
  }
}
