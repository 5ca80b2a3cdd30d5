package dev.keel.bench;

import static dev.keel.bench.LoadReport.toJson;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A load program of closed-loop workers: it waits for the node's {@code /ready}, runs a warm-up and
 * a measured phase in which each of {@code concurrency} workers takes the next item, runs it to its
 * end and takes the next, until none is left or the deadline passes; then it prints the text report
 * and, last, the report as one JSON line. A subclass says what one item is and what its report
 * holds.
 *
 * <p>Exit status: 0 when every measured item succeeded, 1 when some did not, 2 when the node was
 * not ready or the run was aborted (a request refused outright).
 */
abstract class ClosedLoopProgram<P extends LoadPhase> {

  private static final Duration PROGRESS_EVERY = Duration.ofSeconds(5);

  /** Workers stop on their own by the deadline; the grace covers a request already on the wire. */
  private static final Duration SHUTDOWN_GRACE = Duration.ofSeconds(10);

  final HttpClient http = NodeHttp.client();
  final RunDeadline deadline;
  private final String program;
  private final java.util.List<URI> endpoints;
  private final int concurrency;
  private final int warmup;
  private final int measured;

  ClosedLoopProgram(
      String program, URI endpoint, int concurrency, int warmup, int measured, int maxSeconds) {
    this(program, java.util.List.of(endpoint), concurrency, warmup, measured, maxSeconds);
  }

  /** A program driving several nodes (of one cluster): each must be ready before the run starts. */
  ClosedLoopProgram(
      String program,
      java.util.List<URI> endpoints,
      int concurrency,
      int warmup,
      int measured,
      int maxSeconds) {
    this.program = program;
    this.endpoints = java.util.List.copyOf(endpoints);
    this.concurrency = concurrency;
    this.warmup = warmup;
    this.measured = measured;
    this.deadline = new RunDeadline(Duration.ofSeconds(maxSeconds));
  }

  /**
   * A new phase of {@code size} items; {@code label} goes into item ids, {@code name} into progress
   * lines.
   */
  abstract P newPhase(String label, String name, int size);

  /** Runs item {@code i} of {@code phase} to its end, counting how it went. */
  abstract void runOne(P phase, int i);

  /** The run and its parameters, for the first log line; never the token. */
  abstract String describe();

  abstract ObjectNode report(P warmup, P measured, long totalNanos);

  abstract void printText(PrintStream out, JsonNode report);

  abstract boolean allSucceeded(P measured);

  /** Called on a worker thread when it takes no more items, to release what the thread held. */
  void workerDone() {}

  /** Runs warm-up and measured phase, prints the report to {@code out}; returns the exit status. */
  final int run(PrintStream out, PrintStream log) throws InterruptedException {
    long runStart = System.nanoTime();
    long readyBy = Math.min(deadline.nanos(), System.nanoTime() + NodeHttp.READY_WAIT.toNanos());
    String notReady = null;
    for (URI endpoint : endpoints) {
      notReady = NodeHttp.awaitReady(http, endpoint, readyBy);
      if (notReady != null) break;
    }
    if (notReady != null) {
      log.println(program + ": " + notReady);
      return 2;
    }
    log.println(program + ": " + describe());
    P warm = null;
    if (warmup > 0) {
      warm = runPhase("w", "warm-up", warmup, log);
      if (deadline.abortReason() != null) {
        log.println(program + ": stopped during warm-up: " + deadline.abortReason());
        return 2;
      }
    }
    P phase = runPhase("m", "measured", measured, log);
    ObjectNode report = report(warm, phase, System.nanoTime() - runStart);
    printText(out, report);
    out.println(toJson(report));
    out.flush();
    if (deadline.abortReason() != null) {
      log.println(program + ": stopped: " + deadline.abortReason());
      return 2;
    }
    return allSucceeded(phase) ? 0 : 1;
  }

  private P runPhase(String label, String name, int size, PrintStream log)
      throws InterruptedException {
    P phase = newPhase(label, name, size);
    int workers = Math.min(concurrency, size);
    phase.startNanos = System.nanoTime();
    ExecutorService pool =
        Executors.newFixedThreadPool(workers, new DaemonThreads("bench-" + name));
    ScheduledExecutorService progress =
        Executors.newSingleThreadScheduledExecutor(new DaemonThreads("bench-progress"));
    progress.scheduleAtFixedRate(
        () -> log.println(phase.progressLine()),
        PROGRESS_EVERY.toMillis(),
        PROGRESS_EVERY.toMillis(),
        TimeUnit.MILLISECONDS);
    for (int w = 0; w < workers; w++) {
      pool.execute(
          () -> {
            try {
              for (int i = phase.nextIndex();
                  i >= 0 && !deadline.stopping();
                  i = phase.nextIndex()) {
                runOne(phase, i);
              }
            } finally {
              workerDone();
            }
          });
    }
    pool.shutdown();
    long waitNanos = Math.max(0, deadline.nanos() - System.nanoTime()) + SHUTDOWN_GRACE.toNanos();
    if (!pool.awaitTermination(waitNanos, TimeUnit.NANOSECONDS)) {
      pool.shutdownNow();
      pool.awaitTermination(5, TimeUnit.SECONDS);
    }
    progress.shutdownNow();
    phase.endNanos = System.nanoTime();
    log.println(phase.progressLine());
    return phase;
  }
}
