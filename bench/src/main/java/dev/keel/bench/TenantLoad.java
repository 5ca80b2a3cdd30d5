package dev.keel.bench;

import static dev.keel.bench.LoadReport.line;
import static dev.keel.bench.LoadReport.oneLine;
import static dev.keel.bench.LoadReport.round;
import static dev.keel.bench.LoadReport.toJson;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Creates many tenants on a running Keel node ({@code POST /api/v1/tenants}, each slug new) and
 * measures creations per second and the latency of each create, slug reservation included: every
 * create reserves its slug in its own entity, creates the tenant with its default domain and key in
 * one event, then confirms the reservation.
 *
 * <pre>
 * java -cp bench/target/keel-bench.jar dev.keel.bench.TenantLoad --tenants 1000 --concurrency 16
 * </pre>
 *
 * <p>At most {@code --concurrency} creates are in flight; each worker sends one and waits for its
 * answer before the next. A create is not idempotent (a repeated slug is a 409), so only 429 and
 * 503 are retried, after their {@code Retry-After}; a timeout or an I/O error counts as failed with
 * an unknown outcome. A 409 is counted apart: on a retry it most likely means the first attempt
 * created the tenant after all. Every tenant created stays on the node.
 *
 * <p>Exit status: 0 when every measured tenant was created, 1 when some were not, 2 for bad
 * options, a node that is not ready, or a create the node refuses outright (400, 401, 403, 404).
 */
public final class TenantLoad extends ClosedLoopProgram<TenantLoad.Phase> {

  private static final Duration CREATE_TIMEOUT = Duration.ofSeconds(30);

  private final TenantOptions options;
  private final URI createUri;

  TenantLoad(TenantOptions options) {
    super(
        "TenantLoad",
        options.endpoint(),
        options.concurrency(),
        options.warmup(),
        options.tenants(),
        options.maxSeconds());
    this.options = options;
    this.createUri = URI.create(options.endpoint() + "/api/v1/tenants");
  }

  public static void main(String[] args) throws InterruptedException {
    Optional<TenantOptions> options =
        CommandLine.parseOrExit("TenantLoad", TenantOptions.USAGE, args, TenantOptions::parse);
    if (options.isEmpty()) {
      return;
    }
    NodeHttp.limitConnectionPool(options.get().concurrency());
    System.exit(new TenantLoad(options.get()).run(System.out, System.err));
  }

  @Override
  Phase newPhase(String label, String name, int size) {
    return new Phase(label, name, size);
  }

  @Override
  String describe() {
    return options.toString();
  }

  @Override
  boolean allSucceeded(Phase measured) {
    return measured.created.get() == measured.size;
  }

  @Override
  void runOne(Phase phase, int i) {
    String slug = options.slugPrefix() + "-" + phase.label + i;
    HttpRequest request = createRequest(slug);
    phase.started.incrementAndGet();
    long sent = System.nanoTime();
    try {
      for (int attempt = 0; ; attempt++) {
        HttpResponse<String> response;
        try {
          response = http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (HttpTimeoutException e) {
          phase.fail("timed out (outcome unknown)");
          return;
        } catch (IOException e) {
          phase.fail("I/O error (outcome unknown)");
          return;
        }
        int status = response.statusCode();
        if (status == 201) {
          phase.latencyMicros.set(i, TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - sent));
          phase.created.incrementAndGet();
          return;
        }
        phase.nonSuccess.increment(status);
        if (status == 409) {
          (attempt == 0 ? phase.conflicts : phase.conflictsOnRetry).incrementAndGet();
          return;
        }
        if ((status == 429 || status == 503) && attempt < NodeHttp.TRANSIENT_RETRIES) {
          phase.count("create answered " + status + ", retried");
          if (!deadline.sleepUntil(System.nanoTime() + NodeHttp.retryAfter(response).toNanos())) {
            phase.unfinished.incrementAndGet();
            return;
          }
          continue;
        }
        if (status == 400 || status == 401 || status == 403 || status == 404) {
          deadline.abort(
              "POST " + createUri + " answered " + status + ": " + oneLine(response.body()));
        }
        phase.fail("create answered " + status);
        return;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      phase.unfinished.incrementAndGet();
    } finally {
      phase.lastEndNanos.accumulateAndGet(System.nanoTime(), Math::max);
    }
  }

  private HttpRequest createRequest(String slug) {
    ObjectNode body = LoadReport.JSON.createObjectNode();
    body.put("slug", slug);
    body.put("name", "Bench " + slug);
    body.put("plan", options.plan());
    return HttpRequest.newBuilder(createUri)
        .timeout(CREATE_TIMEOUT)
        .header("Authorization", "Bearer " + options.token())
        .header("Content-Type", "application/json")
        .header("Accept", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(toJson(body)))
        .build();
  }

  // ---- report ----

  @Override
  ObjectNode report(Phase warmup, Phase measured, long totalNanos) {
    ObjectNode report = LoadReport.start("tenant-load", options.slugPrefix());
    ObjectNode parameters = report.putObject("parameters");
    parameters.put("endpoint", options.endpoint().toString());
    parameters.put("tenants", options.tenants());
    parameters.put("concurrency", options.concurrency());
    parameters.put("warmup", options.warmup());
    parameters.put("plan", options.plan());
    parameters.put("slugPrefix", options.slugPrefix());
    parameters.put("maxSeconds", options.maxSeconds());
    if (warmup != null) {
      ObjectNode w = report.putObject("warmup");
      w.put("created", warmup.created.get());
      w.put("notCreated", warmup.size - warmup.created.get());
      w.put("seconds", warmup.lengthSeconds());
    }
    measured.putFigures(report, totalNanos, deadline);
    report.put("created", measured.created.get());
    report.put("conflicts", measured.conflicts.get());
    report.put("conflictsOnRetry", measured.conflictsOnRetry.get());
    double window = measured.windowSeconds();
    report.put("createsPerSecond", window > 0 ? round(measured.created.get() / window, 2) : 0);
    report
        .putObject("latencyMs")
        .set("create", LoadReport.latencyMs(measured.latencyMicros.percentiles()));
    measured.putProblems(report);
    return report;
  }

  @Override
  void printText(PrintStream out, JsonNode r) {
    JsonNode p = r.get("parameters");
    LoadReport.printHeading(out, "Keel tenant creation load", r);
    line(
        out,
        "parameters",
        "endpoint=%s tenants=%d concurrency=%d plan=%s warmup=%d maxSeconds=%d",
        p.get("endpoint").asText(),
        p.get("tenants").asInt(),
        p.get("concurrency").asInt(),
        p.get("plan").asText(),
        p.get("warmup").asInt(),
        p.get("maxSeconds").asInt());
    if (r.has("warmup")) {
      JsonNode w = r.get("warmup");
      line(
          out,
          "warm-up",
          "%d created, %d not in %.1f s (not counted)",
          w.get("created").asInt(),
          w.get("notCreated").asInt(),
          w.get("seconds").asDouble());
    }
    line(
        out,
        "total time",
        "%.1f s (measured phase %.1f s)%s",
        r.get("totalSeconds").asDouble(),
        r.get("measuredSeconds").asDouble(),
        r.get("deadlineHit").asBoolean() ? ", stopped by --max-seconds" : "");
    line(out, "throughput", "%.1f tenants created/s", r.get("createsPerSecond").asDouble());
    line(
        out,
        "tenants",
        "%d created, %d conflicts (409), %d conflicts on a retry, %d failed, %d unfinished, %d not"
            + " started",
        r.get("created").asInt(),
        r.get("conflicts").asInt(),
        r.get("conflictsOnRetry").asInt(),
        r.get("failed").asInt(),
        r.get("unfinished").asInt(),
        r.get("notStarted").asInt());
    LoadReport.printLatencyHeader(out);
    LoadReport.printLatencyRow(out, "create", r.get("latencyMs").get("create"));
    out.println("  (POST /api/v1/tenants sent -> 201 received, retries after 429/503 included)");
    LoadReport.countsLine(out, "non-2xx", r.get("nonSuccessResponses"));
    LoadReport.countsLine(out, "errors", r.get("errors"));
  }

  /** A phase's creations by outcome, and the latency of each that succeeded. */
  static final class Phase extends LoadPhase {
    final AtomicInteger created = new AtomicInteger();
    final AtomicInteger conflicts = new AtomicInteger();
    final AtomicInteger conflictsOnRetry = new AtomicInteger();

    /** Microseconds per tenant index, from the first attempt sent to the 201. */
    final IndexedSamples latencyMicros;

    Phase(String label, String name, int size) {
      super(label, name, size);
      this.latencyMicros = new IndexedSamples(size);
    }

    @Override
    String progressLine() {
      return String.format(
          Locale.ROOT,
          "[%s] %.1f s: %d/%d started, %d created, %d conflicts, %d failed",
          name,
          (System.nanoTime() - startNanos) / 1e9,
          started.get(),
          size,
          created.get(),
          conflicts.get() + conflictsOnRetry.get(),
          failed.get());
    }
  }
}
