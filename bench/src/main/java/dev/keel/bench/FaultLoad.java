package dev.keel.bench;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The steady load of one repetition: {@code http-sequence} workflows started at a fixed rate, each
 * through the next node in turn, with three request steps to the {@link IdempotencyCounter} and a
 * durable sleep, so that steps are in flight whenever a fault comes. A start that meets a refused
 * connection, a timeout, a 429 or a 503 is sent again to the next node with the same id (a start is
 * idempotent by id), for up to {@link #RETRY_WINDOW}.
 */
final class FaultLoad {

  /** A start is tried this long, from its first attempt, before it counts as given up. */
  static final Duration RETRY_WINDOW = Duration.ofSeconds(120);

  /** Longer than the node's own ask timeout, so that a live node answers first (503 or 201). */
  private static final Duration START_TIMEOUT = Duration.ofSeconds(10);

  private static final Duration RETRY_PAUSE = Duration.ofMillis(200);

  /** How long the counter takes to answer each request step. */
  private static final long STEP_DELAY_MS = 300;

  /** A start the cluster acknowledged, when, and how long after its first attempt. */
  record Acknowledged(String id, Instant at, Duration waited) {}

  private final List<URI> nodes;
  private final String token;
  private final IdempotencyCounter counter;
  private final String prefix;
  private final double rate;
  private final HttpClient http = NodeHttp.client();
  private final Map<String, Acknowledged> acknowledged = new ConcurrentHashMap<>();
  private final AtomicInteger givenUp = new AtomicInteger();
  private final CountsByKind<String> refusals = new CountsByKind<>();
  private final AtomicInteger next = new AtomicInteger();
  private final AtomicInteger roundRobin = new AtomicInteger();
  private final ScheduledExecutorService ticks =
      Executors.newSingleThreadScheduledExecutor(new DaemonThreads("fault-tick"));
  // Unbounded: during a take-over every start waits and retries, and a start held back in a queue
  // would hide the outage from the figures.
  private final ExecutorService starters =
      Executors.newCachedThreadPool(new DaemonThreads("fault-start"));
  private volatile Instant startedAt;
  private volatile Instant lastTickAt;
  private ScheduledFuture<?> tick;

  /** {@code prefix} starts every workflow id of this load, and so every idempotency key. */
  FaultLoad(List<URI> nodes, String token, IdempotencyCounter counter, String prefix, double rate) {
    this.nodes = nodes;
    this.token = token;
    this.counter = counter;
    this.prefix = prefix;
    this.rate = rate;
  }

  void start() {
    startedAt = Instant.now();
    long periodMicros = (long) (1_000_000 / rate);
    tick =
        ticks.scheduleAtFixedRate(
            () -> {
              lastTickAt = Instant.now();
              int n = next.getAndIncrement();
              starters.execute(() -> startOne(n));
            },
            0,
            periodMicros,
            TimeUnit.MICROSECONDS);
  }

  /** No more starts; returns once every start under way has been acknowledged or given up. */
  void stopStarting() throws InterruptedException {
    tick.cancel(false);
    ticks.shutdown();
    ticks.awaitTermination(10, TimeUnit.SECONDS);
    starters.shutdown();
    if (!starters.awaitTermination(RETRY_WINDOW.toSeconds() + 30, TimeUnit.SECONDS))
      starters.shutdownNow();
  }

  Map<String, Acknowledged> acknowledged() {
    return Map.copyOf(acknowledged);
  }

  int givenUp() {
    return givenUp.get();
  }

  /** Starts given up by the answer that ended them (a status or an error kind). */
  Map<String, Long> refusals() {
    return refusals.snapshot();
  }

  Instant startedAt() {
    return startedAt;
  }

  /** The last start's first attempt (or the load's start when none). */
  Instant lastTickAt() {
    return lastTickAt == null ? startedAt : lastTickAt;
  }

  private void startOne(int n) {
    String id = prefix + "-" + n;
    String body = body(id, n);
    Instant first = Instant.now();
    Instant giveUp = first.plus(RETRY_WINDOW);
    String last = "no attempt";
    while (Instant.now().isBefore(giveUp)) {
      URI node = nodes.get(Math.floorMod(roundRobin.getAndIncrement(), nodes.size()));
      Duration pause = RETRY_PAUSE;
      try {
        HttpResponse<String> r =
            http.send(
                HttpRequest.newBuilder(URI.create(node + "/api/v1/workflows"))
                    .timeout(START_TIMEOUT)
                    .header("Authorization", "Bearer " + token)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        int status = r.statusCode();
        if (status == 201 || status == 200) {
          Instant at = Instant.now();
          acknowledged.put(id, new Acknowledged(id, at, Duration.between(first, at)));
          return;
        }
        last = Integer.toString(status);
        if (status != 503 && status != 429) {
          refusals.increment(status + " " + LoadReport.oneLine(r.body()));
          givenUp.incrementAndGet();
          return;
        }
        pause =
            NodeHttp.retryAfter(r).compareTo(RETRY_PAUSE) > 0
                ? NodeHttp.retryAfter(r)
                : RETRY_PAUSE;
      } catch (IOException e) {
        // A node killed, stopped or starting: the next one.
        last = e.getClass().getSimpleName();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      try {
        Thread.sleep(pause.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    refusals.increment(
        "no acknowledgement within " + RETRY_WINDOW.toSeconds() + " s (last: " + last + ")");
    givenUp.incrementAndGet();
  }

  /** The start: reserve, a durable pause, charge, ship; each request step calls the counter. */
  private String body(String id, int n) {
    ObjectNode body = LoadReport.JSON.createObjectNode();
    body.put("workflow", "http-sequence");
    body.put("id", id);
    ArrayNode steps = body.putObject("input").putArray("steps");
    request(steps, "reserve").putObject("body").put("n", n);
    steps.addObject().put("name", "pause").put("sleep", "PT1S");
    request(steps, "charge");
    request(steps, "ship");
    return body.toString();
  }

  private ObjectNode request(ArrayNode steps, String name) {
    ObjectNode step = steps.addObject();
    step.put("name", name);
    ObjectNode request = step.putObject("request");
    request.put("method", "POST");
    request.put("url", counter.workUrl(STEP_DELAY_MS));
    request.put("timeoutSeconds", 30);
    return request;
  }
}
