package dev.keel.bench;

import static dev.keel.bench.LoadReport.oneLine;
import static dev.keel.bench.LoadReport.toJson;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.bench.HeartbeatSummary.CpuUse;
import dev.keel.bench.HeartbeatSummary.JournalGrowth;
import dev.keel.bench.HeartbeatSummary.Registration;
import dev.keel.bench.HeartbeatSummary.StaleDetection;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntFunction;
import java.util.function.ObjIntConsumer;

/**
 * Registers many services on a running Keel node and heartbeats each one at a fixed interval, then
 * measures what the node sustains: heartbeats/s answered 200, their latency, the node's CPU, the
 * journal's growth (none is expected: heartbeats live in memory), and how soon a silenced service
 * is seen {@code stale}.
 *
 * <pre>
 * java -cp bench/target/keel-bench.jar dev.keel.bench.HeartbeatLoad \
 *     --services 10000 --interval PT10S --duration PT60S --node-pid 1234 --data-dir data
 * </pre>
 *
 * <p>The load is open: service {@code n} of {@code N} is due at {@code n · interval / N} in every
 * interval, whatever the node does, from the moment it is registered (so that no service goes stale
 * while the others register); the warm-up starts once all are. At most {@code --connections}
 * requests are in flight; a heartbeat that finds them all busy waits for one and counts as late, so
 * a slow node shows as latency and backlog, never as a lower offered rate. After the measured
 * phase, {@code --stale-probe} services stop heartbeating while the others go on, and their {@code
 * /health} is polled until it says {@code stale}. Every service is deregistered at the end. The
 * last line printed is the result as one JSON object.
 *
 * <p>Exit status: 0 when every measured heartbeat was answered 200, the journal did not grow (where
 * counted in events) and every silenced service turned stale; 1 otherwise; 2 for bad options, a
 * node that is not ready, an unreadable {@code --node-pid} or database, or a registration the node
 * refused.
 */
public final class HeartbeatLoad {

  private static final Duration HEARTBEAT_TIMEOUT = Duration.ofSeconds(10);

  /** Registration and deregistration write an event each; they may wait longer than a heartbeat. */
  private static final Duration WRITE_TIMEOUT = Duration.ofSeconds(30);

  private static final Duration RETRY_PAUSE = Duration.ofMillis(200);

  /** Between the end of registration and the first heartbeat slot. */
  private static final Duration SCHEDULE_LEAD = Duration.ofMillis(200);

  /**
   * The longest wait for the schedule to catch up after registration; a node that cannot will show
   * it.
   */
  private static final Duration CATCH_UP_LIMIT = Duration.ofSeconds(60);

  private static final Duration PROGRESS_EVERY = Duration.ofSeconds(5);
  private static final Duration STALE_POLL = Duration.ofMillis(50);

  /** Polling {@code /health} starts this long before a silenced service's deadline, not at once. */
  private static final Duration STALE_POLL_LEAD = Duration.ofSeconds(1);

  /**
   * A silenced service not stale this long past its deadline (or one TTL, if longer) never will be.
   */
  private static final Duration STALE_GIVE_UP = Duration.ofSeconds(10);

  /** How often a waiting thread looks again; it bounds how late a stop is noticed. */
  private static final long RECHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  private final HeartbeatOptions options;
  private final HeartbeatSchedule schedule;
  private final HttpClient http;
  private final String runId;
  private final Semaphore connections;

  /** The services silenced by the stale probe, spread over the schedule. */
  private final int[] probes;

  private final boolean[] probed;
  private final AtomicIntegerArray registered;
  private final AtomicIntegerArray silenced;
  private final AtomicIntegerArray inFlight;

  /** Epoch µs: each probed service's {@code nextHeartbeatBefore} as last acknowledged. */
  private final AtomicLongArray deadlineMicros;

  private final LongAdder sentTotal = new LongAdder();
  private final LongAdder okTotal = new LongAdder();
  private final LongAdder failedTotal = new LongAdder();
  private final AtomicInteger inFlightTotal = new AtomicInteger();

  /** When the slot the dispatcher works on was due: far in the past while it lags behind. */
  private volatile long nextDueNanos = System.nanoTime();

  private volatile boolean stopping;
  private volatile String phase = "registration";
  private volatile long phaseStartNanos = System.nanoTime();

  HeartbeatLoad(HeartbeatOptions options) {
    this.options = options;
    this.schedule = options.schedule();
    this.http = NodeHttp.client();
    // Unique per run so that a second run against the same node never reuses an id.
    this.runId = Long.toString(System.currentTimeMillis(), 36);
    this.connections = new Semaphore(options.connections());
    int n = options.services();
    this.probes = probeIndexes(n, options.staleProbe());
    this.probed = new boolean[n];
    for (int p : probes) {
      probed[p] = true;
    }
    this.registered = new AtomicIntegerArray(n);
    this.silenced = new AtomicIntegerArray(n);
    this.inFlight = new AtomicIntegerArray(n);
    this.deadlineMicros = new AtomicLongArray(n);
  }

  public static void main(String[] args) throws InterruptedException {
    Optional<HeartbeatOptions> options =
        CommandLine.parseOrExit(
            "HeartbeatLoad", HeartbeatOptions.USAGE, args, HeartbeatOptions::parse);
    if (options.isEmpty()) {
      return;
    }
    NodeHttp.limitConnectionPool(options.get().connections());
    System.exit(new HeartbeatLoad(options.get()).run(System.out, System.err));
  }

  /** {@code k} service indexes spread evenly over {@code [0, n)}. */
  static int[] probeIndexes(int n, int k) {
    int[] indexes = new int[k];
    for (int i = 0; i < k; i++) {
      indexes[i] = (int) ((long) i * n / k);
    }
    return indexes;
  }

  /**
   * Registers, heartbeats, measures, probes, deregisters and prints the report to {@code out};
   * returns the exit status.
   */
  int run(PrintStream out, PrintStream log) throws InterruptedException {
    String notReady =
        NodeHttp.awaitReady(
            http, options.endpoint(), System.nanoTime() + NodeHttp.READY_WAIT.toNanos());
    if (notReady != null) {
      log.println("HeartbeatLoad: " + notReady);
      return 2;
    }
    if (options.nodePid().isPresent() && nodeTicks().isEmpty()) {
      log.println(
          "HeartbeatLoad: cannot read "
              + ProcStat.ofProcess(options.nodePid().getAsLong())
              + " (is --node-pid the node's?)");
      return 2;
    }
    Optional<NodeJournal> journal;
    try {
      journal = openJournal();
    } catch (IOException | SQLException e) {
      log.println(
          "HeartbeatLoad: cannot read the journal: " + oneLine(String.valueOf(e.getMessage())));
      return 2;
    }
    ScheduledExecutorService progress =
        Executors.newSingleThreadScheduledExecutor(new DaemonThreads("bench-progress"));
    progress.scheduleAtFixedRate(
        () -> log.println(progressLine()),
        PROGRESS_EVERY.toMillis(),
        PROGRESS_EVERY.toMillis(),
        TimeUnit.MILLISECONDS);
    try {
      log.println("HeartbeatLoad: run " + runId + ", " + options);
      return measure(journal, out, log);
    } finally {
      progress.shutdownNow();
      journal.ifPresent(NodeJournal::close);
    }
  }

  private int measure(Optional<NodeJournal> journal, PrintStream out, PrintStream log)
      throws InterruptedException {
    // Heartbeats start with the first registration: a service registered early must not go
    // stale while the others register (registering takes longer than a TTL at some sizes).
    long start = System.nanoTime() + SCHEDULE_LEAD.toNanos();
    AtomicReference<HeartbeatTally> tallies =
        new AtomicReference<>(new HeartbeatTally(0, 0, start, start));
    Thread dispatcher =
        new DaemonThreads("bench-heartbeats").newThread(() -> dispatch(start, tallies));
    dispatcher.start();
    long registrationStart = System.nanoTime();
    Bulk registered =
        forEachService("register", this::registerRequest, Set.of(200, 201), true, this::registered);
    long registrationNanos = System.nanoTime() - registrationStart;
    if (registered.refusal() != null || !registered.failures().isEmpty()) {
      log.println(
          "HeartbeatLoad: registration failed: "
              + (registered.refusal() != null ? registered.refusal() : registered.failures()));
      stopping = true;
      dispatcher.join(HEARTBEAT_TIMEOUT.toMillis());
      deregisterAll(log);
      return 2;
    }
    log.println(progressLine());
    // Heartbeats that queued up behind the registrations are sent first: the warm-up
    // starts once the schedule has caught up, so that they do not spill into the window.
    enter("catch-up");
    long catchUpStart = System.nanoTime();
    long catchUpUntil = catchUpStart + CATCH_UP_LIMIT.toNanos();
    while (System.nanoTime() - nextDueNanos > HeartbeatTally.LATE_AFTER_NANOS
        && System.nanoTime() - catchUpUntil < 0) {
      Thread.sleep(10);
    }
    long catchUpNanos = System.nanoTime() - catchUpStart;
    log.printf(
        Locale.ROOT,
        "HeartbeatLoad: schedule caught up %.1f s after registration%n",
        catchUpNanos / 1e9);

    enter("warm-up");
    // Never before the schedule's start, which a quick registration without warm-up can precede;
    // and a moment ahead, so that the tally is in place before the window's first heartbeat is due.
    long afterWarmup = System.nanoTime() + options.warmup().toNanos() + SCHEDULE_LEAD.toNanos();
    long windowStart = afterWarmup - start < 0 ? start : afterWarmup;
    long windowEnd = windowStart + options.duration().toNanos();
    HeartbeatTally tally =
        new HeartbeatTally(
            schedule.firstSlotAtOrAfter(windowStart - start),
            schedule.firstSlotAtOrAfter(windowEnd - start),
            windowStart,
            windowEnd);
    tallies.set(tally);

    sleepUntil(windowStart);
    enter("measured");
    Readings before = read(journal, log);
    sleepUntil(windowEnd);
    Readings after = read(journal, log);
    enter("drain");
    // Heartbeats due in the window may still be on the wire, or waiting for a connection.
    long drainUntil = System.nanoTime() + HEARTBEAT_TIMEOUT.toNanos() + TimeUnit.SECONDS.toNanos(1);
    while (tally.done() < tally.offered() && System.nanoTime() - drainUntil < 0) {
      Thread.sleep(10);
    }
    log.println(progressLine());

    Optional<StaleDetection> stale =
        probes.length > 0 ? Optional.of(probeStale(log)) : Optional.empty();

    stopping = true;
    dispatcher.join(HEARTBEAT_TIMEOUT.toMillis());
    awaitIdle();
    Bulk deregistered = deregisterAll(log);

    HeartbeatSummary summary =
        new HeartbeatSummary(
            "bench-" + runId,
            options,
            new Registration(
                registered.accepted(), registrationNanos, registered.retried(), catchUpNanos),
            options.duration().toNanos(),
            tally,
            cpuUse(before, after),
            journalGrowth(journal, before, after, log),
            stale,
            deregistered.accepted(),
            options.services() - deregistered.accepted());
    ObjectNode report = summary.json();
    HeartbeatSummary.print(out, report);
    out.println(toJson(report));
    out.flush();
    return summary.exitCode();
  }

  // ---- heartbeats ----

  /**
   * Sends every slot's heartbeat when it is due, until stopped: the open-loop schedule. Services
   * not registered yet, and silenced ones, are skipped.
   */
  private void dispatch(long startNanos, AtomicReference<HeartbeatTally> tallies) {
    for (long slot = 0; ; slot++) {
      long due = startNanos + schedule.offsetNanos(slot);
      nextDueNanos = due;
      if (!parkUntil(due)) {
        return;
      }
      int n = schedule.service(slot);
      if (registered.get(n) == 0 || silenced.get(n) != 0) {
        continue;
      }
      if (!acquireConnection()) {
        return;
      }
      HeartbeatTally tally = tallies.get();
      long sentAt = System.nanoTime();
      tally.sent(slot, sentAt - due);
      inFlight.incrementAndGet(n);
      long s = slot;
      send(heartbeatRequest(n))
          .whenComplete(
              (response, error) -> heartbeatAnswered(tally, s, n, due, sentAt, response, error));
    }
  }

  private void heartbeatAnswered(
      HeartbeatTally tally,
      long slot,
      int n,
      long due,
      long sentAt,
      HttpResponse<String> response,
      Throwable error) {
    long now = System.nanoTime();
    try {
      if (error != null) {
        failedTotal.increment();
        tally.failed(slot, errorKind(error));
        return;
      }
      tally.answered(slot, response.statusCode(), due, sentAt, now);
      if (response.statusCode() == 200) {
        okTotal.increment();
        acknowledged(response, n);
      } else {
        failedTotal.increment();
      }
    } finally {
      inFlight.decrementAndGet(n);
      connections.release();
    }
  }

  private void registered(HttpResponse<String> response, int n) {
    acknowledged(response, n);
    registered.set(n, 1);
  }

  /** Remembers a probed service's deadline from an answer carrying {@code nextHeartbeatBefore}. */
  private void acknowledged(HttpResponse<String> response, int n) {
    if (!probed[n]) {
      return;
    }
    long fallback = epochMicros(Instant.now()) + TimeUnit.SECONDS.toMicros(options.ttlSeconds());
    try {
      JsonNode next = LoadReport.JSON.readTree(response.body()).path("nextHeartbeatBefore");
      deadlineMicros.set(
          n, next.isTextual() ? epochMicros(Instant.parse(next.asText())) : fallback);
    } catch (IOException | DateTimeParseException e) {
      deadlineMicros.set(n, fallback);
    }
  }

  private CompletableFuture<HttpResponse<String>> send(HttpRequest request) {
    sentTotal.increment();
    inFlightTotal.incrementAndGet();
    return http.sendAsync(request, HttpResponse.BodyHandlers.ofString())
        .whenComplete((response, error) -> inFlightTotal.decrementAndGet());
  }

  private boolean acquireConnection() {
    try {
      while (!stopping) {
        if (connections.tryAcquire(RECHECK_NANOS, TimeUnit.NANOSECONDS)) {
          return true;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return false;
  }

  /** Waits until every connection is free again, that is, every heartbeat answered or timed out. */
  private void awaitIdle() throws InterruptedException {
    int all = options.connections();
    if (connections.tryAcquire(all, HEARTBEAT_TIMEOUT.toMillis() + 1000, TimeUnit.MILLISECONDS)) {
      connections.release(all);
    }
  }

  // ---- stale detection ----

  /**
   * Silences the probed services while the others go on, then polls each one's {@code /health}
   * every 50 ms from shortly before its deadline until it says stale.
   */
  private StaleDetection probeStale(PrintStream log) throws InterruptedException {
    enter("stale probe");
    for (int n : probes) {
      silenced.set(n, 1);
    }
    // A heartbeat still on the wire moves the deadline: wait for its answer.
    long settle = System.nanoTime() + HEARTBEAT_TIMEOUT.toNanos();
    while (Arrays.stream(probes).anyMatch(n -> inFlight.get(n) > 0)
        && System.nanoTime() - settle < 0) {
      Thread.sleep(5);
    }
    int k = probes.length;
    long[] deadline = new long[k];
    long latest = Long.MIN_VALUE;
    for (int i = 0; i < k; i++) {
      deadline[i] = deadlineMicros.get(probes[i]);
      latest = Math.max(latest, deadline[i]);
    }
    long giveUp =
        latest
            + Math.max(
                TimeUnit.SECONDS.toMicros(options.ttlSeconds()), STALE_GIVE_UP.toNanos() / 1000);
    log.printf(
        Locale.ROOT,
        "HeartbeatLoad: %d services silenced; polling /health until stale, deadlines up to %s%n",
        k,
        Instant.EPOCH.plusNanos(latest * 1000));
    AtomicLongArray seenAt = new AtomicLongArray(k);
    CountsByKind<String> errors = new CountsByKind<>();
    while (true) {
      long tick = System.nanoTime();
      long now = epochMicros(Instant.now());
      List<CompletableFuture<?>> polls = new ArrayList<>();
      boolean pending = false;
      for (int i = 0; i < k; i++) {
        if (seenAt.get(i) != 0) {
          continue;
        }
        pending = true;
        if (now >= deadline[i] - STALE_POLL_LEAD.toNanos() / 1000) {
          int probe = i;
          polls.add(
              send(healthRequest(probes[i]))
                  .whenComplete((r, e) -> healthAnswered(probe, r, e, seenAt, errors)));
        }
      }
      if (!pending || now > giveUp) {
        break;
      }
      awaitAll(polls);
      sleepUntil(tick + STALE_POLL.toNanos());
    }
    long[] delays = new long[k];
    int seen = 0;
    for (int i = 0; i < k; i++) {
      if (seenAt.get(i) != 0) {
        delays[seen++] = seenAt.get(i) - deadline[i];
      }
    }
    return new StaleDetection(
        k, Percentiles.of(Arrays.copyOf(delays, seen)), k - seen, errors.snapshot());
  }

  private void healthAnswered(
      int probe,
      HttpResponse<String> response,
      Throwable error,
      AtomicLongArray seenAt,
      CountsByKind<String> errors) {
    long at = epochMicros(Instant.now());
    String problem;
    if (error != null) {
      problem = errorKind(error);
    } else {
      String status = "";
      try {
        status = LoadReport.JSON.readTree(response.body()).path("status").asText("");
      } catch (IOException e) {
        // counted below as an answer without a status
      }
      if ("stale".equals(status)) {
        seenAt.compareAndSet(probe, 0, at);
        return;
      }
      boolean healthAnswer =
          (response.statusCode() == 200 || response.statusCode() == 503) && !status.isEmpty();
      if (healthAnswer) {
        return; // not stale yet
      }
      problem =
          "health answered "
              + response.statusCode()
              + (status.isEmpty() ? " without a status" : "");
    }
    errors.increment(problem);
  }

  private static void awaitAll(List<CompletableFuture<?>> futures) throws InterruptedException {
    try {
      CompletableFuture.allOf(futures.toArray(new CompletableFuture<?>[0]))
          .get(HEARTBEAT_TIMEOUT.toMillis() + 1000, TimeUnit.MILLISECONDS);
    } catch (ExecutionException | TimeoutException e) {
      // each poll counts its own failure
    }
  }

  // ---- registration and deregistration ----

  /**
   * One request per service: how many were accepted, why others were not, a refusal that stopped
   * it, and why requests were retried.
   */
  private record Bulk(
      int accepted, Map<String, Long> failures, String refusal, Map<String, Long> retried) {}

  /**
   * Sends {@code request(n)} for every service, {@code --connections} at a time, retrying transient
   * errors; an answer outside {@code accepted} is counted, and with {@code stopOnRefusal} ends the
   * whole bulk.
   */
  private Bulk forEachService(
      String what,
      IntFunction<HttpRequest> request,
      Set<Integer> accepted,
      boolean stopOnRefusal,
      ObjIntConsumer<HttpResponse<String>> onAccepted)
      throws InterruptedException {
    enter(what);
    AtomicInteger next = new AtomicInteger();
    AtomicInteger ok = new AtomicInteger();
    AtomicReference<String> refusal = new AtomicReference<>();
    CountsByKind<String> failures = new CountsByKind<>();
    CountsByKind<String> retried = new CountsByKind<>();
    ExecutorService workers =
        Executors.newFixedThreadPool(options.connections(), new DaemonThreads("bench-" + what));
    for (int w = 0; w < options.connections(); w++) {
      workers.execute(
          () -> {
            for (int n = next.getAndIncrement();
                n < options.services() && refusal.get() == null;
                n = next.getAndIncrement()) {
              HttpRequest r = request.apply(n);
              String problem;
              try {
                HttpResponse<String> response = exchange(r, retried);
                if (accepted.contains(response.statusCode())) {
                  okTotal.increment();
                  ok.incrementAndGet();
                  onAccepted.accept(response, n);
                  continue;
                }
                problem = what + " answered " + response.statusCode();
                if (stopOnRefusal) {
                  refusal.compareAndSet(
                      null,
                      r.method()
                          + " "
                          + r.uri()
                          + " answered "
                          + response.statusCode()
                          + ": "
                          + oneLine(response.body()));
                }
              } catch (IOException e) {
                problem = what + ": " + errorKind(e);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
              }
              failedTotal.increment();
              failures.increment(problem);
            }
          });
    }
    workers.shutdown();
    // Every request has a timeout and a retry limit, so the workers end by themselves.
    workers.awaitTermination(Long.MAX_VALUE, TimeUnit.NANOSECONDS);
    return new Bulk(ok.get(), failures.snapshot(), refusal.get(), retried.snapshot());
  }

  /**
   * Sends {@code request} on one of the connections, retrying I/O errors, timeouts, 429 and 503
   * (PUT and DELETE are idempotent) and counting why in {@code retried}.
   */
  private HttpResponse<String> exchange(HttpRequest request, CountsByKind<String> retried)
      throws IOException, InterruptedException {
    for (int attempt = 0; ; attempt++) {
      Duration pause = RETRY_PAUSE;
      String why;
      connections.acquire();
      try {
        HttpResponse<String> response = send(request).join();
        if ((response.statusCode() != 429 && response.statusCode() != 503)
            || attempt >= NodeHttp.TRANSIENT_RETRIES) {
          return response;
        }
        why = "answered " + response.statusCode();
        pause = NodeHttp.retryAfter(response);
      } catch (CompletionException e) {
        if (attempt >= NodeHttp.TRANSIENT_RETRIES) {
          throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        }
        why = errorKind(e);
      } finally {
        connections.release();
      }
      retried.increment(why);
      Thread.sleep(pause.toMillis());
    }
  }

  private Bulk deregisterAll(PrintStream log) throws InterruptedException {
    Bulk bulk =
        forEachService(
            "deregister", this::deregisterRequest, Set.of(204, 200, 404), false, (r, n) -> {});
    if (!bulk.failures().isEmpty()) {
      log.println("HeartbeatLoad: deregistration failed for some services: " + bulk.failures());
    }
    return bulk;
  }

  // ---- requests ----

  private String serviceId(int n) {
    return "bench-" + runId + "-" + n;
  }

  private URI serviceUri(int n, String suffix) {
    return URI.create(options.endpoint() + "/api/v1/services/" + serviceId(n) + suffix);
  }

  private HttpRequest registerRequest(int n) {
    ObjectNode body = LoadReport.JSON.createObjectNode();
    body.put("name", serviceId(n));
    body.put("type", "source");
    body.put("ttlSeconds", options.ttlSeconds());
    return authorized(serviceUri(n, ""), WRITE_TIMEOUT)
        .header("Content-Type", "application/json")
        .PUT(HttpRequest.BodyPublishers.ofString(toJson(body)))
        .build();
  }

  private HttpRequest heartbeatRequest(int n) {
    return authorized(serviceUri(n, "/heartbeat"), HEARTBEAT_TIMEOUT)
        .header("Content-Type", "application/json")
        .POST(
            HttpRequest.BodyPublishers.ofString(
                "{\"status\":\"healthy\",\"metrics\":{\"lag_seconds\":" + n + "}}"))
        .build();
  }

  private HttpRequest healthRequest(int n) {
    return authorized(serviceUri(n, "/health"), HEARTBEAT_TIMEOUT).GET().build();
  }

  private HttpRequest deregisterRequest(int n) {
    return authorized(serviceUri(n, ""), WRITE_TIMEOUT).DELETE().build();
  }

  private HttpRequest.Builder authorized(URI uri, Duration timeout) {
    return HttpRequest.newBuilder(uri)
        .timeout(timeout)
        .header("Authorization", "Bearer " + options.token())
        .header("Accept", "application/json");
  }

  // ---- CPU and journal ----

  /** CPU and journal at one moment; a part that could not be read is empty. */
  private record Readings(
      OptionalLong nodeTicks,
      OptionalLong generatorTicks,
      Optional<ProcStat.MachineTicks> machine,
      Optional<NodeJournal.Reading> journal) {}

  private Optional<NodeJournal> openJournal() throws IOException, SQLException {
    if (options.databaseUrl().isPresent()) {
      return Optional.of(
          NodeJournal.postgres(
              options.databaseUrl().get(), options.databaseUser(), options.databasePassword()));
    }
    if (options.dataDir().isPresent()) {
      return Optional.of(NodeJournal.h2(options.dataDir().get()));
    }
    return Optional.empty();
  }

  private Readings read(Optional<NodeJournal> journal, PrintStream log) {
    OptionalLong node = nodeTicks();
    OptionalLong self = OptionalLong.empty();
    Optional<ProcStat.MachineTicks> machine = Optional.empty();
    try {
      self = OptionalLong.of(ProcStat.processTicks(ProcStat.read(ProcStat.ofSelf())));
      machine = Optional.of(ProcStat.machineTicks(ProcStat.read(ProcStat.ofMachine())));
    } catch (IOException | IllegalArgumentException e) {
      // not Linux: no CPU figures for the generator and the machine
    }
    Optional<NodeJournal.Reading> size = Optional.empty();
    if (journal.isPresent()) {
      try {
        size = Optional.of(journal.get().read());
      } catch (IOException | SQLException e) {
        log.println(
            "HeartbeatLoad: cannot read the journal: " + oneLine(String.valueOf(e.getMessage())));
      }
    }
    return new Readings(node, self, machine, size);
  }

  private OptionalLong nodeTicks() {
    if (options.nodePid().isEmpty()) {
      return OptionalLong.empty();
    }
    try {
      return OptionalLong.of(
          ProcStat.processTicks(ProcStat.read(ProcStat.ofProcess(options.nodePid().getAsLong()))));
    } catch (IOException | IllegalArgumentException e) {
      return OptionalLong.empty();
    }
  }

  private static CpuUse cpuUse(Readings before, Readings after) {
    Optional<ProcStat.MachineTicks> machine =
        before.machine().isPresent() && after.machine().isPresent()
            ? Optional.of(
                new ProcStat.MachineTicks(
                    after.machine().get().busy() - before.machine().get().busy(),
                    after.machine().get().total() - before.machine().get().total()))
            : Optional.empty();
    return new CpuUse(
        ProcStat.clockTicksPerSecond(),
        difference(before.nodeTicks(), after.nodeTicks()),
        difference(before.generatorTicks(), after.generatorTicks()),
        machine);
  }

  private static OptionalLong difference(OptionalLong before, OptionalLong after) {
    return before.isPresent() && after.isPresent()
        ? OptionalLong.of(after.getAsLong() - before.getAsLong())
        : OptionalLong.empty();
  }

  private Optional<JournalGrowth> journalGrowth(
      Optional<NodeJournal> journal, Readings before, Readings after, PrintStream log) {
    if (journal.isEmpty() || before.journal().isEmpty() || after.journal().isEmpty()) {
      return Optional.empty();
    }
    NodeJournal.Reading from = before.journal().get();
    NodeJournal.Reading to = after.journal().get();
    Map<String, Long> types = Map.of();
    if (to.size() != from.size()) {
      try {
        types = journal.get().eventTypesBetween(from, to);
      } catch (SQLException e) {
        log.println(
            "HeartbeatLoad: cannot read the new events' types: "
                + oneLine(String.valueOf(e.getMessage())));
      }
    }
    return Optional.of(
        new JournalGrowth(
            journal.get().unit(), options.journalSource(), from.size(), to.size(), types));
  }

  // ---- time and progress ----

  private void enter(String name) {
    phase = name;
    phaseStartNanos = System.nanoTime();
  }

  private String progressLine() {
    return String.format(
        Locale.ROOT,
        "[%s] %.1f s: %d sent, %d ok, %d failed, %d in flight",
        phase,
        (System.nanoTime() - phaseStartNanos) / 1e9,
        sentTotal.sum(),
        okTotal.sum(),
        failedTotal.sum(),
        inFlightTotal.get());
  }

  /** Parks until {@code nanoTime}; false when the run is stopping first. */
  private boolean parkUntil(long nanoTime) {
    for (long left = nanoTime - System.nanoTime(); left > 0; left = nanoTime - System.nanoTime()) {
      if (stopping) {
        return false;
      }
      LockSupport.parkNanos(Math.min(left, RECHECK_NANOS));
    }
    return !stopping;
  }

  private static void sleepUntil(long nanoTime) throws InterruptedException {
    long left = nanoTime - System.nanoTime();
    if (left > 0) {
      TimeUnit.NANOSECONDS.sleep(left);
    }
  }

  private static long epochMicros(Instant instant) {
    return instant.getEpochSecond() * 1_000_000 + instant.getNano() / 1000;
  }

  /** A short, countable name for why a request got no answer. */
  static String errorKind(Throwable error) {
    Throwable cause = error;
    while ((cause instanceof CompletionException || cause instanceof ExecutionException)
        && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof HttpConnectTimeoutException) {
      return "connect timeout";
    }
    if (cause instanceof HttpTimeoutException) {
      return "timeout";
    }
    if (cause instanceof ConnectException) {
      return "connection refused";
    }
    if (cause instanceof IOException) {
      return "I/O error (" + cause.getClass().getSimpleName() + ")";
    }
    return "unexpected " + cause.getClass().getSimpleName();
  }
}
