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
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Starts many workflows on a running Keel node over its HTTP API and measures how long each takes
 * from start to completion, as the node sees it ({@code completedAt - createdAt}) and as the client
 * sees it (POST sent → final status received).
 *
 * <pre>
 * java -cp bench/target/keel-bench.jar dev.keel.bench.WorkflowLoad --workflows 5000 --concurrency 64
 * </pre>
 *
 * <p>At most {@code --concurrency} workflows are in flight; each worker thread starts one workflow
 * with {@code POST /api/v1/workflows?wait=PT30S} (the node answers once it is final, or when the
 * wait runs out) and long-polls it with {@code GET} only while it is not final yet, then starts the
 * next. Each worker keeps one {@link Http1Connection} per node: a lean blocking HTTP/1.1 client,
 * because the program shares the machine's CPU with the node it measures. Only the {@code
 * --endpoint} is ever contacted, redirects are not followed, and the run ends by itself at {@code
 * --max-seconds}. The last line printed is the result as one JSON object.
 *
 * <p>Exit status: 0 when every measured workflow completed, 1 when some failed or did not finish, 2
 * for bad options, a node that is not ready, or a request the node refuses outright (401, 403, 404,
 * 400).
 */
public final class WorkflowLoad extends ClosedLoopProgram<WorkflowLoad.Phase> {

  private static final Set<String> FINAL_STATUSES = Set.of("completed", "failed", "cancelled");
  private static final long LONG_POLL_SECONDS = 30;

  /** A start's request timeout when it does not wait, and the least one when it does. */
  private static final Duration START_TIMEOUT = Duration.ofSeconds(30);

  /** Added to a long wait (start or poll) for the request timeout, so the node answers first. */
  private static final Duration POLL_SLACK = Duration.ofSeconds(15);

  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);

  private final LoadOptions options;
  private final ObjectMapper json = new ObjectMapper();

  /** One per node: workflow i is started and followed on node i mod N. */
  private final List<String> startPaths;

  private final Map<String, String> startHeaders;
  private final Map<String, String> pollHeaders;

  /** Each worker thread's connection to each node, opened on first use. */
  private final ThreadLocal<Http1Connection[]> connections;

  private final String runId;
  private final Hooks hooks;

  /**
   * What a program that embeds the load ({@code ScaleBench}) may change: which node a workflow is
   * started on, and what to tell it when one completes.
   */
  record Hooks(NodeChoice nodeChoice, CompletionListener onCompleted) {
    static final Hooks NONE = new Hooks((i, id, nodes) -> i % nodes, nanoTime -> {});
  }

  /** The node (0 to {@code nodes} - 1) to start workflow {@code i}, with id {@code id}, on. */
  interface NodeChoice {
    int node(int i, String id, int nodes);
  }

  /** Called with {@link System#nanoTime()} when the final {@code completed} answer arrived. */
  interface CompletionListener {
    void completed(long nanoTime);
  }

  WorkflowLoad(LoadOptions options) {
    this(options, Hooks.NONE);
  }

  WorkflowLoad(LoadOptions options, Hooks hooks) {
    super(
        "WorkflowLoad",
        options.endpoints(),
        options.concurrency(),
        options.warmup(),
        options.workflows(),
        options.maxSeconds());
    this.options = options;
    this.startPaths =
        options.endpoints().stream()
            .map(e -> (e.getRawPath() == null ? "" : e.getRawPath()) + "/api/v1/workflows")
            .toList();
    String authorization = "Bearer " + options.token();
    this.startHeaders =
        Map.of(
            "Authorization",
            authorization,
            "Content-Type",
            "application/json",
            "Accept",
            "application/json");
    this.pollHeaders = Map.of("Authorization", authorization, "Accept", "application/json");
    List<URI> endpoints = options.endpoints();
    this.connections = ThreadLocal.withInitial(() -> new Http1Connection[endpoints.size()]);
    // Unique per run so that a second run against the same node never reuses an id.
    this.runId = "bench-" + Long.toString(System.currentTimeMillis(), 36);
    this.hooks = hooks;
  }

  /** Stops starting workflows, as the deadline would; those in flight count as unfinished. */
  void stop() {
    deadline.abort("stopped by the program that runs the load");
  }

  public static void main(String[] args) throws InterruptedException {
    Optional<LoadOptions> options =
        CommandLine.parseOrExit("WorkflowLoad", LoadOptions.USAGE, args, LoadOptions::parse);
    if (options.isEmpty()) {
      return;
    }
    System.exit(new WorkflowLoad(options.get()).run(System.out, System.err));
  }

  @Override
  Phase newPhase(String label, String name, int size) {
    return new Phase(label, name, size);
  }

  @Override
  String describe() {
    return "run " + runId + ", " + options;
  }

  @Override
  boolean allSucceeded(Phase measured) {
    return measured.completed.get() == measured.size;
  }

  @Override
  void workerDone() {
    for (Http1Connection connection : connections.get()) {
      if (connection != null) {
        connection.close();
      }
    }
    connections.remove();
  }

  // ---- load ----

  @Override
  void runOne(Phase phase, int i) {
    if (options.rate().isPresent()) {
      long slot = phase.startNanos + (long) (i * 1e9 / options.rate().getAsDouble());
      if (!deadline.sleepUntil(slot)) {
        return;
      }
      phase.maxStartLagNanos.accumulateAndGet(System.nanoTime() - slot, Math::max);
    }
    String id = runId + "-" + phase.label + i;
    phase.started.incrementAndGet();
    long sent = System.nanoTime();
    phase.lastStartNanos.accumulateAndGet(sent, Math::max);
    try {
      int node = hooks.nodeChoice().node(i, id, startPaths.size());
      String startPath = startPaths.get(node);
      // The node answers a start with ?wait once the workflow is final (or the wait ran out), so
      // mostly no poll follows; a node that ignores the parameter answers at once and is polled.
      Http1Connection.Response created =
          exchange(phase, node, true, startPath, startBody(id, i), "start");
      if (created.status() != 201 && created.status() != 200) {
        phase.fail("start answered " + created.status());
        int status = created.status();
        if (status == 400 || status == 401 || status == 403 || status == 404) {
          deadline.abort(
              "POST "
                  + options.endpoints().get(node)
                  + "/api/v1/workflows answered "
                  + status
                  + ": "
                  + oneLine(created.text()));
        }
        return;
      }
      JsonNode execution = json.readTree(created.body());
      while (!FINAL_STATUSES.contains(execution.path("status").asText())) {
        Http1Connection.Response polled =
            exchange(phase, node, false, startPath + "/" + id, null, "poll");
        if (polled.status() != 200) {
          phase.fail("poll answered " + polled.status());
          return;
        }
        execution = json.readTree(polled.body());
      }
      if (phase.finish(i, execution, System.nanoTime() - sent))
        hooks.onCompleted().completed(System.nanoTime());
    } catch (Stopped e) {
      phase.unfinished.incrementAndGet();
    } catch (GaveUp e) {
      phase.fail(e.getMessage());
    } catch (IOException e) {
      // Only parsing is left here: the exchanges turn I/O errors into GaveUp.
      phase.fail("unreadable answer");
    } finally {
      phase.lastEndNanos.accumulateAndGet(System.nanoTime(), Math::max);
    }
  }

  /**
   * Sends a start ({@code start}, {@code POST path?wait=PT<n>S} with {@code body}) or a long poll
   * ({@code GET path?wait=PT<n>S}) to {@code node} on this thread's connection, retrying I/O
   * errors, timeouts, 429 and 503 (every start and read is idempotent), and returns the first other
   * answer. The wait is at most {@link #LONG_POLL_SECONDS} and ends by the deadline; it is worked
   * out again for each attempt, and the request timeout covers it.
   */
  private Http1Connection.Response exchange(
      Phase phase, int node, boolean start, String path, byte[] body, String what)
      throws Stopped, GaveUp {
    Http1Connection connection = connection(node);
    for (int attempt = 0; ; attempt++) {
      if (deadline.stopping()) {
        throw new Stopped();
      }
      long waitSeconds =
          Math.min(
              LONG_POLL_SECONDS,
              TimeUnit.NANOSECONDS.toSeconds(deadline.nanos() - System.nanoTime()));
      String target;
      Duration timeout;
      if (waitSeconds >= 1) {
        target = path + "?wait=PT" + waitSeconds + "S";
        timeout = Duration.ofSeconds(waitSeconds).plus(POLL_SLACK);
        if (start && timeout.compareTo(START_TIMEOUT) < 0) {
          timeout = START_TIMEOUT;
        }
      } else if (start) {
        // Too little time left to wait: a plain start, the deadline stops the poll.
        target = path;
        timeout = START_TIMEOUT;
      } else {
        // Too little time left for a long poll: let the deadline pass so that no worker starts
        // another workflow.
        deadline.sleepUntil(deadline.nanos());
        throw new Stopped();
      }
      String problem;
      Duration pause = Duration.ofMillis(200);
      try {
        Http1Connection.Response response =
            start
                ? connection.exchange("POST", target, startHeaders, body, timeout)
                : connection.exchange("GET", target, pollHeaders, null, timeout);
        int status = response.status();
        if (status / 100 != 2) {
          phase.nonSuccess.increment(status);
        }
        if (status != 429 && status != 503) {
          return response;
        }
        problem = what + " answered " + status;
        pause = NodeHttp.retryAfter(response.header("Retry-After"));
      } catch (SocketTimeoutException e) {
        problem = what + " timed out";
      } catch (IOException e) {
        problem = what + " I/O error";
      }
      phase.count(problem);
      if (attempt >= NodeHttp.TRANSIENT_RETRIES) {
        throw new GaveUp(problem + ", gave up");
      }
      if (!deadline.sleepUntil(System.nanoTime() + pause.toNanos())) {
        throw new Stopped();
      }
    }
  }

  /** This worker thread's connection to {@code node}. */
  private Http1Connection connection(int node) {
    Http1Connection[] mine = connections.get();
    if (mine[node] == null) {
      mine[node] = new Http1Connection(options.endpoints().get(node), CONNECT_TIMEOUT);
    }
    return mine[node];
  }

  private byte[] startBody(String id, int n) {
    ObjectNode body = json.createObjectNode();
    body.put("workflow", options.workflow());
    body.put("id", id);
    body.putObject("input").put("userId", "u-" + n).put("action", "bench");
    return toJson(body).getBytes(StandardCharsets.UTF_8);
  }

  // ---- report ----

  @Override
  ObjectNode report(Phase warmup, Phase measured, long totalNanos) {
    ObjectNode report = LoadReport.start("workflow-load", runId);

    ObjectNode parameters = report.putObject("parameters");
    parameters.put("endpoint", options.endpointList());
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
      w.put("seconds", warmup.lengthSeconds());
    }

    measured.putFigures(report, totalNanos, deadline);
    report.put("completed", measured.completed.get());
    double window = measured.windowSeconds();
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
    measured.putProblems(report);
    return report;
  }

  @Override
  void printText(PrintStream out, JsonNode r) {
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
        r.get("startsPerSecond").isNull()
            ? "-"
            : String.format(Locale.ROOT, "%.1f", r.get("startsPerSecond").asDouble()),
        r.has("maxStartLagMs")
            ? String.format(
                Locale.ROOT,
                ", worst start %.0f ms behind schedule",
                r.get("maxStartLagMs").asDouble())
            : "");
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

  /** A phase's completions, its start times and the two latencies of each completed workflow. */
  static final class Phase extends LoadPhase {
    final AtomicInteger completed = new AtomicInteger();
    final AtomicLong lastStartNanos = new AtomicLong();
    final AtomicLong maxStartLagNanos = new AtomicLong();

    /** Microseconds per workflow index. */
    final IndexedSamples clientMicros;

    final IndexedSamples serverMicros;

    Phase(String label, String name, int size) {
      super(label, name, size);
      this.clientMicros = new IndexedSamples(size);
      this.serverMicros = new IndexedSamples(size);
    }

    /** True when the workflow completed. */
    boolean finish(int i, JsonNode execution, long clientNanos) {
      String status = execution.path("status").asText();
      if (!"completed".equals(status)) {
        fail("workflow " + status);
        return false;
      }
      clientMicros.set(i, TimeUnit.NANOSECONDS.toMicros(clientNanos));
      try {
        Instant createdAt = Instant.parse(execution.path("createdAt").asText());
        Instant completedAt = Instant.parse(execution.path("completedAt").asText());
        serverMicros.set(
            i, TimeUnit.NANOSECONDS.toMicros(Duration.between(createdAt, completedAt).toNanos()));
      } catch (DateTimeParseException e) {
        count("no createdAt/completedAt instants");
      }
      completed.incrementAndGet();
      return true;
    }

    @Override
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
