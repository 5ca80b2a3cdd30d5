package dev.keel.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * A light, steady workflow load for fault tests: starts at a fixed rate, alternately {@code
 * example} and an {@code http-sequence} that calls a {@link CallCountingService} (a step in flight,
 * a durable sleep, another call), sent round-robin to the nodes in rotation. A start answered 503
 * or not answered at all is retried with the same id, on the next node, so each id is acknowledged
 * at most once; an acknowledged start (201 or 200) must complete.
 *
 * <p>Every answer is checked on the way: a 5xx other than 503, or a 503 that is not a problem
 * document with {@code Retry-After}, is a breach ({@link #breaches}). {@link #verify} then checks
 * that each acknowledged workflow completed with each step recorded once in its history.
 */
final class WorkflowLoad implements AutoCloseable {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(20);
  private static final Duration START_RETRY_WINDOW = Duration.ofSeconds(120);

  /** Acknowledged starts: id to workflow name. */
  final Map<String, String> acknowledged = new ConcurrentHashMap<>();

  /** Instants of 503 answers (any request of the load). */
  final ConcurrentLinkedQueue<Instant> unavailableAnswers = new ConcurrentLinkedQueue<>();

  final ConcurrentLinkedQueue<String> breaches = new ConcurrentLinkedQueue<>();
  final AtomicInteger notAcknowledged = new AtomicInteger();
  final AtomicInteger startRetries = new AtomicInteger();

  /**
   * When each completed workflow's {@code WorkflowCompleted} was journaled (filled by {@link
   * #verify}).
   */
  final Map<String, Instant> completedAt = new ConcurrentHashMap<>();

  private final String token;
  private final String idPrefix;
  private final double startsPerSecond;
  private final Supplier<List<KeelChildProcess>> inRotation;
  private final CallCountingService target;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
  private final AtomicBoolean starting = new AtomicBoolean(true);
  private final AtomicInteger next = new AtomicInteger();
  private final AtomicInteger roundRobin = new AtomicInteger();
  private final ScheduledExecutorService ticks =
      Executors.newSingleThreadScheduledExecutor(daemon("load-tick"));
  private final ExecutorService workers = Executors.newFixedThreadPool(16, daemon("load-start"));
  private ScheduledFuture<?> tick;

  WorkflowLoad(
      String token,
      String idPrefix,
      double startsPerSecond,
      Supplier<List<KeelChildProcess>> inRotation,
      CallCountingService target) {
    this.token = token;
    this.idPrefix = idPrefix;
    this.startsPerSecond = startsPerSecond;
    this.inRotation = inRotation;
    this.target = target;
  }

  void start() {
    tick =
        ticks.scheduleAtFixedRate(
            () -> {
              if (starting.get()) workers.execute(this::startOne);
            },
            0,
            (long) (1_000_000 / startsPerSecond),
            TimeUnit.MICROSECONDS);
  }

  /** No more starts; returns once every start under way is acknowledged or given up. */
  void stopStarting() throws InterruptedException {
    starting.set(false);
    if (tick != null) tick.cancel(false);
    workers.shutdown();
    if (!workers.awaitTermination(START_RETRY_WINDOW.toSeconds() + 30, TimeUnit.SECONDS)) {
      throw new AssertionError("starts under way did not end");
    }
  }

  @Override
  public void close() {
    starting.set(false);
    ticks.shutdownNow();
    workers.shutdownNow();
  }

  /**
   * Acknowledged starts numbered {@code firstNumber} or later (numbers follow the order of
   * sending).
   */
  long acknowledgedSince(int firstNumber) {
    return acknowledged.keySet().stream().filter(id -> number(id) >= firstNumber).count();
  }

  /** The number the next start will get. */
  int nextNumber() {
    return next.get();
  }

  static int number(String id) {
    return Integer.parseInt(id.substring(id.lastIndexOf('-') + 1));
  }

  // ---------------------------------------------------------------- checking the outcome

  /**
   * Long-polls every acknowledged workflow until it is final, then reads its history: one problem
   * line per workflow that did not complete, or recorded a step (or its start, or its end) more
   * than once. Empty when all is well.
   */
  List<String> verify(Instant until) throws Exception {
    List<String> problems = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(6, daemon("load-verify"));
    try {
      List<Future<String>> checks = new ArrayList<>();
      for (Map.Entry<String, String> w : acknowledged.entrySet()) {
        checks.add(pool.submit(() -> check(w.getKey(), w.getValue(), until)));
      }
      for (Future<String> c : checks) {
        String problem =
            c.get(
                Duration.between(Instant.now(), until).toMillis() + 60_000, TimeUnit.MILLISECONDS);
        if (problem != null) problems.add(problem);
      }
    } finally {
      pool.shutdownNow();
    }
    java.util.Collections.sort(problems);
    return problems;
  }

  private String check(String id, String workflow, Instant until) throws Exception {
    String status = "no answer";
    while (Instant.now().isBefore(until)) {
      try {
        HttpResponse<String> r =
            send("GET", "/api/v1/workflows/" + id + "?wait=PT15S", null, Duration.ofSeconds(30));
        if (r.statusCode() == 200) {
          status = JSON.readTree(r.body()).path("status").asText();
          if (status.equals("completed") || status.equals("failed") || status.equals("cancelled"))
            break;
        } else {
          status = r.statusCode() + " " + r.body();
        }
      } catch (IOException retry) {
        status = retry.toString();
      }
      Thread.sleep(200);
    }
    if (!status.equals("completed")) return id + ": " + status;
    HttpResponse<String> r =
        send("GET", "/api/v1/workflows/" + id + "/history", null, Duration.ofSeconds(30));
    if (r.statusCode() != 200) return id + ": history answered " + r.statusCode();
    Map<String, Integer> recorded = new TreeMap<>();
    for (JsonNode e : JSON.readTree(r.body())) {
      String type = e.path("type").asText();
      String name = e.path("data").path("name").asText();
      if (type.equals("StepCompleted")
          || type.equals("TimerStarted")
          || type.equals("TimerFired")) {
        recorded.merge(type + ":" + name, 1, Integer::sum);
      }
      if (type.equals("WorkflowStarted") || type.equals("WorkflowCompleted"))
        recorded.merge(type, 1, Integer::sum);
      if (type.equals("WorkflowCompleted"))
        completedAt.put(id, Instant.parse(e.path("at").asText()));
    }
    List<String> expected =
        workflow.equals("example")
            ? List.of(
                "StepCompleted:process",
                "StepCompleted:summarize",
                "StepCompleted:validate",
                "WorkflowCompleted",
                "WorkflowStarted")
            : List.of(
                "StepCompleted:reserve",
                "StepCompleted:ship",
                "TimerFired:pause",
                "TimerStarted:pause",
                "WorkflowCompleted",
                "WorkflowStarted");
    if (!recorded.keySet().equals(new java.util.TreeSet<>(expected))
        || recorded.values().stream().anyMatch(n -> n != 1)) {
      return id + ": recorded " + recorded;
    }
    return null;
  }

  // ---------------------------------------------------------------- sending

  private void startOne() {
    int n = next.getAndIncrement();
    boolean example = n % 2 == 0;
    String id = idPrefix + "-" + n;
    String body = example ? exampleBody(id, n) : sequenceBody(id, n);
    Instant giveUp = Instant.now().plus(START_RETRY_WINDOW);
    boolean first = true;
    while (first || Instant.now().isBefore(giveUp)) {
      if (!first) startRetries.incrementAndGet();
      first = false;
      try {
        HttpResponse<String> r = send("POST", "/api/v1/workflows", body, REQUEST_TIMEOUT);
        if (r.statusCode() == 201 || r.statusCode() == 200) {
          acknowledged.put(id, example ? "example" : "http-sequence");
          return;
        }
        if (r.statusCode() != 503) {
          breaches.add("start " + id + " answered " + r.statusCode() + ": " + r.body());
          break;
        }
      } catch (IOException retry) {
        // Not answered (node gone, partition, timeout): the next node, same id.
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      try {
        Thread.sleep(300);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    notAcknowledged.incrementAndGet();
  }

  /** Sends to the next node in rotation and checks the answer's contract. */
  private HttpResponse<String> send(String method, String path, String body, Duration timeout)
      throws IOException, InterruptedException {
    List<KeelChildProcess> nodes = inRotation.get();
    KeelChildProcess node = nodes.get(Math.floorMod(roundRobin.getAndIncrement(), nodes.size()));
    HttpRequest.Builder b =
        HttpRequest.newBuilder(node.uri(path))
            .timeout(timeout)
            .header("Authorization", "Bearer " + token);
    if (body == null) {
      b.method(method, HttpRequest.BodyPublishers.noBody());
    } else {
      b.header("Content-Type", "application/json")
          .method(method, HttpRequest.BodyPublishers.ofString(body));
    }
    HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    checkContract(method + " " + path + " on " + node.name, r, breaches, unavailableAnswers);
    return r;
  }

  /**
   * A 5xx other than 503, or a 503 that is not a problem document with Retry-After, is a breach.
   */
  static void checkContract(
      String what,
      HttpResponse<String> r,
      java.util.Collection<String> breaches,
      java.util.Collection<Instant> unavailable) {
    int status = r.statusCode();
    if (status >= 500 && status != 503)
      breaches.add(what + " answered " + status + ": " + r.body());
    if (status != 503) return;
    unavailable.add(Instant.now());
    if (r.headers().firstValue("Retry-After").isEmpty())
      breaches.add(what + ": 503 without Retry-After");
    if (!r.headers().firstValue("Content-Type").orElse("").startsWith("application/problem+json")) {
      breaches.add(what + ": 503 that is not a problem document: " + r.body());
    }
  }

  private static String exampleBody(String id, int n) {
    ObjectNode body = JSON.createObjectNode();
    body.put("workflow", "example");
    body.put("id", id);
    body.putObject("input").put("userId", "u-" + n).put("action", "fault-test");
    return body.toString();
  }

  private String sequenceBody(String id, int n) {
    ObjectNode body = JSON.createObjectNode();
    body.put("workflow", "http-sequence");
    body.put("id", id);
    ArrayNode steps = body.putObject("input").putArray("steps");
    ObjectNode reserve = steps.addObject();
    reserve.put("name", "reserve");
    ObjectNode reserveRequest = reserve.putObject("request");
    reserveRequest.put("method", "POST");
    reserveRequest.put("url", target.url("/work?ms=300"));
    reserveRequest.putObject("body").put("n", n);
    reserveRequest.put("timeoutSeconds", 30);
    steps.addObject().put("name", "pause").put("sleep", "PT1S");
    ObjectNode ship = steps.addObject();
    ship.put("name", "ship");
    ObjectNode shipRequest = ship.putObject("request");
    shipRequest.put("method", "POST");
    shipRequest.put("url", target.url("/work?ms=500"));
    shipRequest.put("timeoutSeconds", 30);
    return body.toString();
  }

  static java.util.concurrent.ThreadFactory daemon(String name) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
