package dev.keel.bench;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * When each workflow completed ({@link System#nanoTime()}), to find the longest time without any
 * completion in a window: what a user sees of a node joining or leaving under load. Holds up to a
 * fixed number of completions; later ones are dropped (and counted).
 */
final class CompletionGaps implements WorkflowLoad.CompletionListener {

  private final AtomicLongArray times;
  private final AtomicInteger count = new AtomicInteger();

  CompletionGaps(int capacity) {
    times = new AtomicLongArray(capacity);
  }

  @Override
  public void completed(long nanoTime) {
    int i = count.getAndIncrement();
    if (i < times.length()) times.set(i, nanoTime);
  }

  int count() {
    return Math.min(count.get(), times.length());
  }

  /** Completions in {@code [from, to]}. */
  int countBetween(long from, long to) {
    return (int) Arrays.stream(sorted()).filter(t -> t - from >= 0 && to - t >= 0).count();
  }

  /**
   * The longest stretch of {@code [from, to]} (nanoTime values) without a completion, in ns: the
   * window's edges count as completions, so a window with none is one gap as long as itself.
   */
  long longestGapNanos(long from, long to) {
    long previous = from;
    long longest = 0;
    for (long t : sorted()) {
      if (t - from < 0) continue;
      if (t - to > 0) break;
      longest = Math.max(longest, t - previous);
      previous = t;
    }
    return Math.max(longest, to - previous);
  }

  private long[] sorted() {
    int n = count();
    long[] copy = new long[n];
    for (int i = 0; i < n; i++) copy[i] = times.get(i);
    Arrays.sort(copy);
    return copy;
  }
}
