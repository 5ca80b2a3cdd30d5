package dev.keel.bench;

import static dev.keel.bench.LoadReport.line;
import static dev.keel.bench.LoadReport.oneLine;
import static dev.keel.bench.LoadReport.round;
import static dev.keel.bench.LoadReport.seconds;
import static dev.keel.bench.LoadReport.toJson;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * Starts many workflows on a running Keel node over its HTTP API and measures how long
 * each takes from start to completion, as the node sees it ({@code completedAt -
 * createdAt}) and as the client sees it (POST sent → final status received).
 *
 * <pre>
 * java -cp bench/target/keel-bench.jar dev.keel.bench.WorkflowLoad --workflows 5000 --concurrency 64
 * </pre>
 *
 * <p>At most {@code --concurrency} workflows are in flight; each worker thread starts one
 * workflow and long-polls it until it is final before starting the next. Only the
 * {@code --endpoint} is ever contacted, redirects are not followed, and the run ends by
 * itself at {@code --max-seconds}. The last line printed is the result as one JSON object.
 *
 * <p>Exit status: 0 when every measured workflow completed, 1 when some failed or did not
 * finish, 2 for bad options, a node that is not ready, or a request the node refuses
 * outright (401, 403, 404, 400).
 */
public final class WorkflowLoad {

  private static final Set<String> FINAL_STATUSES = Set.of("completed", "failed", "cancelled");
  private static final long LONG_POLL_SECONDS = 30;
  private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
  /** Added to a long poll's wait for the request timeout, so the node answers first. */
  private static final Duration POLL_SLACK = Duration.ofSeconds(15);
  private static final Duration PROGRESS_EVERY = Duration.ofSeconds(5);
  private static final Duration SHUTDOWN_GRACE = Duration.ofSeconds(10);

  private final LoadOptions options;
  private final HttpClient http;
  private final ObjectMapper json = new ObjectMapper();
  private final URI startUri;
  private final String runId;
  private final long deadline;
  private final AtomicReference<String> abortReason = new AtomicReference<>();

  WorkflowLoad(LoadOptions options) {
    this.options = options;
    this.http = NodeHttp.client();
    this.startUri = URI.create(options.endpoint() + "/api/v1/workflows");
    // Unique per run so that a second run against the same node never reuses an id.
    this.runId = "bench-" + Long.toString(System.currentTimeMillis(), 36);
    this.deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(options.maxSeconds());
  }

  public static void main(String[] args) throws InterruptedException {
    Optional<LoadOptions> options =
        CommandLine.parseOrExit("WorkflowLoad", LoadOptions.USAGE, args, LoadOptions::parse);
    if (options.isEmpty()) {
      return;
    }
    // One pooled connection per worker is all the run can use.
    NodeHttp.limitConnectionPool(options.get().concurrency());
    System.exit(new WorkflowLoad(options.get()).run(System.out, System.err));
  }

  /** Runs warm-up and measured phase, prints the report to {@code out}; returns the exit status. */
  int run(PrintStream out, PrintStream log) throws InterruptedException {
    long runStart = System.nanoTime();
    String notReady =
        NodeHttp.awaitReady(
            http, options.endpoint(), Math.min(deadline, System.nanoTime() + NodeHttp.READY_WAIT.toNanos()));
    if (notReady != null) {
      log.println("WorkflowLoad: " + notReady);
      return 2;
    }
    log.println("WorkflowLoad: run " + runId + ", " + options);
    Phase warmup = null;
    if (options.warmup() > 0) {
      warmup = runPhase("w", "warm-up", options.warmup(), log);
      if (abortReason.get() != null) {
        log.println("WorkflowLoad: stopped during warm-up: " + abortReason.get());
        return 2;
      }
    }
    Phase measured = runPhase("m", "measured", options.workflows(), log);
    long totalNanos = System.nanoTime() - runStart;

    ObjectNode report = report(warmup, measured, totalNanos);
    printText(out, report);
    out.println(toJson(report));
    out.flush();
    if (abortReason.get() != null) {
      log.println("WorkflowLoad: stopped: " + abortReason.get());
      return 2;
    }
    return measured.completed.get() == measured.size ? 0 : 1;
  }

  // ---- load ----

  private Phase runPhase(String label, String name, int size, PrintStream log)
      throws InterruptedException {
    Phase phase = new Phase(label, name, size);
    ExecutorService workers =
        Executors.newFixedThreadPool(options.concurrency(), new DaemonThreads("bench-" + name));
    ScheduledExecutorService progress =
        Executors.newSingleThreadScheduledExecutor(new DaemonThreads("bench-progress"));
    phase.startNanos = System.nanoTime();
    progress.scheduleAtFixedRate(
        () -> log.println(phase.progressLine()),
        PROGRESS_EVERY.toMillis(),
        PROGRESS_EVERY.toMillis(),
        TimeUnit.MILLISECONDS);
    for (int w = 0; w < Math.min(options.concurrency(), size); w++) {
      workers.execute(() -> work(phase));
    }
    workers.shutdown();
    // Workers stop on their own by the deadline; the grace covers a request already on the wire.
    long waitNanos = Math.max(0, deadline - System.nanoTime()) + SHUTDOWN_GRACE.toNanos();
    if (!workers.awaitTermination(waitNanos, TimeUnit.NANOSECONDS)) {
      workers.shutdownNow();
      workers.awaitTermination(5, TimeUnit.SECONDS);
    }
    progress.shutdownNow();
    phase.endNanos = System.nanoTime();
    log.println(phase.progressLine());
    return phase;
  }

  private void work(Phase phase) {
    while (!stopping()) {
      int i = phase.next.getAndIncrement();
      if (i >= phase.size) {
        return;
      }
      if (options.rate().isPresent()) {
        long slot = phase.startNanos + (long) (i * 1e9 / options.rate().getAsDouble());
        if (!sleepUntil(slot)) {
          return;
        }
        phase.maxStartLagNanos.accumulateAndGet(System.nanoTime() - slot, Math::max);
      }
      runOne(phase, i);
    }
  }

  private void runOne(Phase phase, int i) {
    String id = runId + "-" + phase.label + i;
    phase.started.incrementAndGet();
    long sent = System.nanoTime();
    phase.lastStartNanos.accumulateAndGet(sent, Math::max);
    try {
      HttpResponse<String> created = exchange(phase, startRequest(id, i), "start");
      if (created.statusCode() != 201 && created.statusCode() != 200) {
        phase.fail("start answered " + created.statusCode());
        int status = created.statusCode();
        if (status == 400 || status == 401 || status == 403 || status == 404) {
          abort("POST " + startUri + " answered " + status + ": " + oneLine(created.body()));
        }
        return;
      }
      JsonNode execution = json.readTree(created.body());
      while (!FINAL_STATUSES.contains(execution.path("status").asText())) {
        long waitSeconds =
            Math.min(LONG_POLL_SECONDS, TimeUnit.NANOSECONDS.toSeconds(deadline - System.nanoTime()));
        if (waitSeconds < 1) {
          // Too little time left for a long poll: let the deadline pass so that no worker starts another workflow.
          sleepUntil(deadline);
          throw new Stopped();
        }
        HttpResponse<String> polled = exchange(phase, pollRequest(id, waitSeconds), "poll");
        if (polled.statusCode() != 200) {
          phase.fail("poll answered " + polled.statusCode());
          return;
        }
        execution = json.readTree(polled.body());
      }
      phase.finish(i, execution, System.nanoTime() - sent);
    } catch (Stopped e) {
      phase.unfinished.incrementAndGet();
    } catch (GaveUp e) {
      phase.fail(e.getMessage());
    } catch (IOException e) {
      // Only parsing is left here: the exchanges turn I/O errors into GaveUp.
      phase.fail("unreadable answer");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      phase.unfinished.incrementAndGet();
    } finally {
      phase.lastEndNanos.accumulateAndGet(System.nanoTime(), Math::max);
    }
  }

  /**
   * Sends {@code request}, retrying I/O errors, timeouts, 429 and 503 (every start and
   * read is idempotent), and returns the first other answer.
   */
  private HttpResponse<String> exchange(Phase phase, HttpRequest request, String what)
      throws Stopped, GaveUp, InterruptedException {
    for (int attempt = 0; ; attempt++) {
      if (stopping()) {
        throw new Stopped();
      }
      String problem;
      Duration pause = Duration.ofMillis(200);
      try {
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        int status = response.statusCode();
        if (status / 100 != 2) {
          phase.nonSuccess.increment(status);
        }
        if (status != 429 && status != 503) {
          return response;
        }
        problem = what + " answered " + status;
        pause = NodeHttp.retryAfter(response);
      } catch (HttpTimeoutException e) {
        problem = what + " timed out";
      } catch (IOException e) {
        problem = what + " I/O error";
      }
      phase.count(problem);
      if (attempt >= NodeHttp.TRANSIENT_RETRIES) {
        throw new GaveUp(problem + ", gave up");
      }
      if (!sleepUntil(System.nanoTime() + pause.toNanos())) {
        throw new Stopped();
      }
    }
  }

  private HttpRequest startRequest(String id, int n) {
    ObjectNode body = json.createObjectNode();
    body.put("workflow", options.workflow());
    body.put("id", id);
    body.putObject("input").put("userId", "u-" + n).put("action", "bench");
    return HttpRequest.newBuilder(startUri)
        .timeout(START_TIMEOUT)
        .header("Authorization", "Bearer " + options.token())
        .header("Content-Type", "application/json")
        .header("Accept", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(toJson(body)))
        .build();
  }

  private HttpRequest pollRequest(String id, long waitSeconds) {
    return HttpRequest.newBuilder(URI.create(startUri + "/" + id + "?wait=PT" + waitSeconds + "S"))
        .timeout(Duration.ofSeconds(waitSeconds).plus(POLL_SLACK))
        .header("Authorization", "Bearer " + options.token())
        .header("Accept", "application/json")
        .GET()
        .build();
  }

  private boolean stopping() {
    return abortReason.get() != null
        || System.nanoTime() - deadline >= 0
        || Thread.currentThread().isInterrupted();
  }

  /** Sleeps until {@code nanoTime}; false when the deadline or an abort comes first. */
  private boolean sleepUntil(long nanoTime) {
    if (nanoTime - deadline > 0) {
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

  private void abort(String reason) {
    abortReason.compareAndSet(null, reason);
  }

  // ---- report ----

  private ObjectNode report(Phase warmup, Phase measured, long totalNanos) {
    ObjectNode report = LoadReport.start("workflow-load", runId);

    ObjectNode parameters = report.putObject("parameters");
    parameters.put("endpoint", options.endpoint().toString());
    parameters.put("workflow", options.workflow());
    parameters.put("workflows", options.workflows());
    parameters.put("concurrency", options.concurrency());
    if (options.rate().isPresent()) {
      parameters.put("rate", options.rate().getAsDouble());
    } else {
      parameters.putNull("rate");
    }
    parameters.put("warmup", options.warmup());
    parameters.put("maxSeconds", options.maxSeconds());

    if (warmup != null) {
      ObjectNode w = report.putObject("warmup");
      w.put("completed", warmup.completed.get());
      w.put("failed", warmup.failed.get());
      w.put("seconds", round(seconds(warmup.endNanos - warmup.startNanos), 3));
    }

    double window = seconds(Math.max(measured.lastEndNanos.get(), measured.startNanos) - measured.startNanos);
    report.put("totalSeconds", round(seconds(totalNanos), 3));
    report.put("measuredSeconds", round(window, 3));
    report.put("started", measured.started.get());
    report.put("completed", measured.completed.get());
    report.put("failed", measured.failed.get());
    report.put("unfinished", measured.unfinished.get());
    report.put("notStarted", measured.size - measured.started.get());
    report.put("deadlineHit", System.nanoTime() - deadline >= 0);
    if (abortReason.get() != null) {
      report.put("aborted", abortReason.get());
    }
    report.put("completedPerSecond", window > 0 ? round(measured.completed.get() / window, 2) : 0);
    long startSpan = measured.lastStartNanos.get() - measured.startNanos;
    if (measured.started.get() > 1 && startSpan > 0) {
      report.put("startsPerSecond", round((measured.started.get() - 1) / seconds(startSpan), 2));
    } else {
      report.putNull("startsPerSecond");
    }
    if (options.rate().isPresent()) {
      report.put("maxStartLagMs", round(measured.maxStartLagNanos.get() / 1e6, 3));
    }

    ObjectNode latency = report.putObject("latencyMs");
    latency.set("server", LoadReport.latencyMs(measured.serverMicros.percentiles()));
    latency.set("client", LoadReport.latencyMs(measured.clientMicros.percentiles()));

    report.set("nonSuccessResponses", LoadReport.counts(measured.nonSuccess.snapshot()));
    report.set("errors", LoadReport.counts(measured.errors.snapshot()));
    return report;
  }

  private static void printText(PrintStream out, JsonNode r) {
    JsonNode p = r.get("parameters");
    LoadReport.printHeading(out, "Keel workflow load", r);
    line(
        out,
        "parameters",
        "endpoint=%s workflow=%s workflows=%d concurrency=%d rate=%s warmup=%d maxSeconds=%d",
        p.get("endpoint").asText(),
        p.get("workflow").asText(),
        p.get("workflows").asInt(),
        p.get("concurrency").asInt(),
        p.get("rate").isNull() ? "max" : p.get("rate").asText() + "/s",
        p.get("warmup").asInt(),
        p.get("maxSeconds").asInt());
    if (r.has("warmup")) {
      JsonNode w = r.get("warmup");
      line(
          out,
          "warm-up",
          "%d completed, %d failed in %.1f s (not counted)",
          w.get("completed").asInt(),
          w.get("failed").asInt(),
          w.get("seconds").asDouble());
    }
    line(
        out,
        "total time",
        "%.1f s (measured phase %.1f s)%s",
        r.get("totalSeconds").asDouble(),
        r.get("measuredSeconds").asDouble(),
        r.get("deadlineHit").asBoolean() ? ", stopped by --max-seconds" : "");
    line(
        out,
        "throughput",
        "%.1f completed workflows/s (starts %s/s%s)",
        r.get("completedPerSecond").asDouble(),
        r.get("startsPerSecond").isNull() ? "-" : String.format(Locale.ROOT, "%.1f", r.get("startsPerSecond").asDouble()),
        r.has("maxStartLagMs") ? String.format(Locale.ROOT, ", worst start %.0f ms behind schedule", r.get("maxStartLagMs").asDouble()) : "");
    line(
        out,
        "workflows",
        "%d completed, %d failed, %d unfinished, %d not started",
        r.get("completed").asInt(),
        r.get("failed").asInt(),
        r.get("unfinished").asInt(),
        r.get("notStarted").asInt());
    LoadReport.printLatencyHeader(out);
    LoadReport.printLatencyRow(out, "node", r.get("latencyMs").get("server"));
    LoadReport.printLatencyRow(out, "client", r.get("latencyMs").get("client"));
    out.println("  (node: completedAt - createdAt; client: POST sent -> final status received)");
    LoadReport.countsLine(out, "non-2xx", r.get("nonSuccessResponses"));
    LoadReport.countsLine(out, "errors", r.get("errors"));
  }

  /** The deadline passed or the run was aborted while a workflow was in flight. */
  private static final class Stopped extends Exception {
    Stopped() {
      super(null, null, false, false);
    }
  }

  /** A request kept failing transiently. */
  private static final class GaveUp extends Exception {
    GaveUp(String message) {
      super(message, null, false, false);
    }
  }

  /** The counters and samples of one phase; every field is safe to touch from any worker. */
  private static final class Phase {
    final String label;
    final String name;
    final int size;
    final AtomicInteger next = new AtomicInteger();
    final AtomicInteger started = new AtomicInteger();
    final AtomicInteger completed = new AtomicInteger();
    final AtomicInteger failed = new AtomicInteger();
    final AtomicInteger unfinished = new AtomicInteger();
    final AtomicLong lastStartNanos = new AtomicLong();
    final AtomicLong lastEndNanos = new AtomicLong();
    final AtomicLong maxStartLagNanos = new AtomicLong();
    /** Microseconds per workflow index. */
    final IndexedSamples clientMicros;
    final IndexedSamples serverMicros;
    final CountsByKind<Integer> nonSuccess = new CountsByKind<>();
    final CountsByKind<String> errors = new CountsByKind<>();
    volatile long startNanos;
    volatile long endNanos;

    Phase(String label, String name, int size) {
      this.label = label;
      this.name = name;
      this.size = size;
      this.clientMicros = new IndexedSamples(size);
      this.serverMicros = new IndexedSamples(size);
    }

    void finish(int i, JsonNode execution, long clientNanos) {
      String status = execution.path("status").asText();
      if (!"completed".equals(status)) {
        fail("workflow " + status);
        return;
      }
      clientMicros.set(i, TimeUnit.NANOSECONDS.toMicros(clientNanos));
      try {
        Instant createdAt = Instant.parse(execution.path("createdAt").asText());
        Instant completedAt = Instant.parse(execution.path("completedAt").asText());
        serverMicros.set(i, TimeUnit.NANOSECONDS.toMicros(Duration.between(createdAt, completedAt).toNanos()));
      } catch (DateTimeParseException e) {
        count("no createdAt/completedAt instants");
      }
      completed.incrementAndGet();
    }

    void fail(String kind) {
      failed.incrementAndGet();
      count(kind);
    }

    void count(String kind) {
      errors.increment(kind);
    }

    String progressLine() {
      int done = completed.get() + failed.get() + unfinished.get();
      return String.format(
          Locale.ROOT,
          "[%s] %.1f s: %d/%d started, %d completed, %d failed, %d in flight",
          name,
          (System.nanoTime() - startNanos) / 1e9,
          started.get(),
          size,
          completed.get(),
          failed.get(),
          started.get() - done);
    }
  }
}
