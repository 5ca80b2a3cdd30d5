package dev.keel.bench;

import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * What became of the heartbeats due in the measured window, slots {@code [firstSlot, endSlot)} of
 * the {@link HeartbeatSchedule}; heartbeats of other slots are not counted, except that every 200
 * that arrives inside the window counts towards the rate the node actually sustained. Safe to use
 * from any thread.
 *
 * <p>Two latencies per heartbeat answered 200: from sending to the answer, and from the slot it was
 * due in to the answer. They differ when the heartbeat went out late because every connection was
 * busy: that wait is the node's backlog, and only the second latency shows it.
 */
final class HeartbeatTally {

  /** A heartbeat sent more than this after its slot counts as late. */
  static final long LATE_AFTER_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

  private final long firstSlot;
  private final long endSlot;
  private final long windowStartNanos;
  private final long windowEndNanos;

  /** Microseconds per measured slot answered 200. */
  private final IndexedSamples sentMicros;

  private final IndexedSamples dueMicros;
  private final LongAdder sent = new LongAdder();
  private final LongAdder ok = new LongAdder();
  private final LongAdder okInWindow = new LongAdder();
  private final LongAdder late = new LongAdder();
  private final LongAdder done = new LongAdder();
  private final AtomicLong maxSendLagNanos = new AtomicLong();
  private final CountsByKind<Integer> nonSuccess = new CountsByKind<>();
  private final CountsByKind<String> errors = new CountsByKind<>();

  HeartbeatTally(long firstSlot, long endSlot, long windowStartNanos, long windowEndNanos) {
    if (endSlot < firstSlot || endSlot - firstSlot > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(
          "measured slots [" + firstSlot + ", " + endSlot + ") out of range");
    }
    this.firstSlot = firstSlot;
    this.endSlot = endSlot;
    this.windowStartNanos = windowStartNanos;
    this.windowEndNanos = windowEndNanos;
    this.sentMicros = new IndexedSamples((int) (endSlot - firstSlot));
    this.dueMicros = new IndexedSamples((int) (endSlot - firstSlot));
  }

  boolean measures(long slot) {
    return slot >= firstSlot && slot < endSlot;
  }

  /** Slot {@code slot}'s heartbeat went on the wire {@code lagNanos} after it was due. */
  void sent(long slot, long lagNanos) {
    if (!measures(slot)) {
      return;
    }
    sent.increment();
    if (lagNanos > LATE_AFTER_NANOS) {
      late.increment();
    }
    maxSendLagNanos.accumulateAndGet(lagNanos, Math::max);
  }

  /**
   * The node answered {@code status} at {@code nowNanos} to a heartbeat due at {@code dueNanos},
   * sent at {@code sentNanos}.
   */
  void answered(long slot, int status, long dueNanos, long sentNanos, long nowNanos) {
    if (status == 200 && nowNanos - windowStartNanos >= 0 && nowNanos - windowEndNanos < 0) {
      okInWindow.increment();
    }
    if (!measures(slot)) {
      return;
    }
    int i = (int) (slot - firstSlot);
    if (status == 200) {
      ok.increment();
      sentMicros.set(i, TimeUnit.NANOSECONDS.toMicros(nowNanos - sentNanos));
      dueMicros.set(i, TimeUnit.NANOSECONDS.toMicros(nowNanos - dueNanos));
    } else {
      nonSuccess.increment(status);
    }
    done.increment();
  }

  /** Slot {@code slot}'s heartbeat got no answer: {@code kind} says why (timeout, refused, …). */
  void failed(long slot, String kind) {
    if (!measures(slot)) {
      return;
    }
    errors.increment(kind);
    done.increment();
  }

  /** Heartbeats due in the window. */
  long offered() {
    return endSlot - firstSlot;
  }

  long sent() {
    return sent.sum();
  }

  long ok() {
    return ok.sum();
  }

  /** 200 answers that arrived inside the window, whichever slot they were due in. */
  long okInWindow() {
    return okInWindow.sum();
  }

  long late() {
    return late.sum();
  }

  long maxSendLagNanos() {
    return maxSendLagNanos.get();
  }

  /**
   * Heartbeats of the window that got an answer or an error: when it equals {@link #offered},
   * nothing is pending.
   */
  long done() {
    return done.sum();
  }

  Map<Integer, Long> nonSuccess() {
    return nonSuccess.snapshot();
  }

  Map<String, Long> errors() {
    return errors.snapshot();
  }

  /** Sent → answered, µs, of every heartbeat of the window answered 200. */
  Percentiles sentLatencyMicros() {
    return sentMicros.percentiles();
  }

  /** Due → answered, µs: includes waiting for a free connection. */
  Percentiles dueLatencyMicros() {
    return dueMicros.percentiles();
  }
}
