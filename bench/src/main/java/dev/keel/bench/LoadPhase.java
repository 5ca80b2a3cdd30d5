package dev.keel.bench;

import static dev.keel.bench.LoadReport.round;
import static dev.keel.bench.LoadReport.seconds;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What every closed-loop phase of a load program (warm-up or measured) counts; every field is safe
 * to touch from any worker. Programs add their own outcomes and samples.
 */
abstract class LoadPhase {

  /** In ids and slugs: {@code w} for the warm-up, {@code m} for the measured phase. */
  final String label;

  /** In progress lines. */
  final String name;

  final int size;
  final AtomicInteger next = new AtomicInteger();
  final AtomicInteger started = new AtomicInteger();
  final AtomicInteger failed = new AtomicInteger();
  final AtomicInteger unfinished = new AtomicInteger();
  final AtomicLong lastEndNanos = new AtomicLong();
  final CountsByKind<Integer> nonSuccess = new CountsByKind<>();
  final CountsByKind<String> errors = new CountsByKind<>();
  volatile long startNanos;
  volatile long endNanos;

  LoadPhase(String label, String name, int size) {
    this.label = label;
    this.name = name;
    this.size = size;
  }

  /** The next item for a worker, or -1 when every item is taken. */
  int nextIndex() {
    int i = next.getAndIncrement();
    return i < size ? i : -1;
  }

  void fail(String kind) {
    failed.incrementAndGet();
    count(kind);
  }

  void count(String kind) {
    errors.increment(kind);
  }

  /** From the start of the phase to its last answer: the window rates are computed over. */
  double windowSeconds() {
    return seconds(Math.max(lastEndNanos.get(), startNanos) - startNanos);
  }

  /** The phase's length, for the warm-up line. */
  double lengthSeconds() {
    return round(seconds(endNanos - startNanos), 3);
  }

  /** The figures every program reports of its measured phase, before its own. */
  void putFigures(ObjectNode report, long totalNanos, RunDeadline deadline) {
    report.put("totalSeconds", round(seconds(totalNanos), 3));
    report.put("measuredSeconds", round(windowSeconds(), 3));
    report.put("started", started.get());
    report.put("failed", failed.get());
    report.put("unfinished", unfinished.get());
    report.put("notStarted", size - started.get());
    report.put("deadlineHit", deadline.passed());
    if (deadline.abortReason() != null) {
      report.put("aborted", deadline.abortReason());
    }
  }

  /** Non-2xx answers by status and errors by kind, after the program's own figures. */
  void putProblems(ObjectNode report) {
    report.set("nonSuccessResponses", LoadReport.counts(nonSuccess.snapshot()));
    report.set("errors", LoadReport.counts(errors.snapshot()));
  }

  abstract String progressLine();
}
