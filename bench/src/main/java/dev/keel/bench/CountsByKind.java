package dev.keel.bench;

import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** How often each kind of thing happened (a status code, an error), counted from any thread. */
final class CountsByKind<K extends Comparable<K>> {

  private final Map<K, LongAdder> counts = new ConcurrentHashMap<>();

  void increment(K kind) {
    counts.computeIfAbsent(kind, k -> new LongAdder()).increment();
  }

  boolean isEmpty() {
    return counts.isEmpty();
  }

  /** The counts now, in the order of the kinds. */
  SortedMap<K, Long> snapshot() {
    SortedMap<K, Long> snapshot = new TreeMap<>();
    counts.forEach((kind, n) -> snapshot.put(kind, n.sum()));
    return snapshot;
  }
}
