package dev.keel.bench;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * A load program's hard deadline ({@code --max-seconds}) and the reason it was aborted, if it was;
 * shared by all its workers, each of which stops at the first of the two.
 */
final class RunDeadline {

  private final long deadlineNanos;
  private final AtomicReference<String> abortReason = new AtomicReference<>();

  RunDeadline(Duration maxRun) {
    this.deadlineNanos = System.nanoTime() + maxRun.toNanos();
  }

  /** The deadline as a {@link System#nanoTime()} value. */
  long nanos() {
    return deadlineNanos;
  }

  boolean passed() {
    return System.nanoTime() - deadlineNanos >= 0;
  }

  /** Aborted, past the deadline, or the calling thread interrupted. */
  boolean stopping() {
    return abortReason.get() != null || passed() || Thread.currentThread().isInterrupted();
  }

  /** Keeps the first reason given. */
  void abort(String reason) {
    abortReason.compareAndSet(null, reason);
  }

  /** Why the run was aborted, or null. */
  String abortReason() {
    return abortReason.get();
  }

  /** Sleeps until {@code nanoTime}; false when the deadline or an abort comes first. */
  boolean sleepUntil(long nanoTime) {
    if (nanoTime - deadlineNanos > 0) {
      return false;
    }
    for (long left = nanoTime - System.nanoTime(); left > 0; left = nanoTime - System.nanoTime()) {
      LockSupport.parkNanos(left);
      if (stopping()) {
        return false;
      }
    }
    return true;
  }
}
