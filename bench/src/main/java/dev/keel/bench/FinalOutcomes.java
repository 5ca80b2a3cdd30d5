package dev.keel.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What became of every acknowledged start: each is long-polled ({@code GET
 * /api/v1/workflows/{id}?wait=PT30S}, node after node) until it is final or the deadline passes,
 * then its journal is read for steps recorded twice.
 *
 * @param completed ended {@code completed}
 * @param failed ended {@code failed} or {@code cancelled}
 * @param lost answered 404 (three times, a second apart), or not final by the deadline
 * @param recordedTwice steps recorded more than once, over all executions
 * @param examples up to five ids of lost executions or of executions with a step recorded twice
 */
record FinalOutcomes(
    int completed, int failed, int lost, int recordedTwice, List<String> examples) {

  private static final Set<String> FINAL = Set.of("completed", "failed", "cancelled");
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(45);
  private static final int NOT_FOUND_ANSWERS = 3;
  private static final int POLLERS = 8;

  static FinalOutcomes await(
      Collection<String> ids, List<URI> nodes, String token, Duration deadline)
      throws InterruptedException {
    Instant until = Instant.now().plus(deadline);
    HttpClient http = NodeHttp.client();
    AtomicInteger roundRobin = new AtomicInteger();
    AtomicInteger completed = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    AtomicInteger lost = new AtomicInteger();
    AtomicInteger twice = new AtomicInteger();
    List<String> examples = java.util.Collections.synchronizedList(new ArrayList<>());
    ExecutorService pool = Executors.newFixedThreadPool(POLLERS, new DaemonThreads("fault-final"));
    try {
      List<Future<?>> polls = new ArrayList<>();
      for (String id : ids) {
        polls.add(
            pool.submit(
                () -> {
                  Poller poller = new Poller(http, nodes, token, roundRobin);
                  JsonNode execution = poller.awaitFinal(id, until);
                  if (execution == null) {
                    lost.incrementAndGet();
                    if (examples.size() < 5) examples.add(id + " lost");
                    return null;
                  }
                  (execution.path("status").asText().equals("completed") ? completed : failed)
                      .incrementAndGet();
                  JsonNode history = poller.get("/api/v1/workflows/" + id + "/history", until);
                  int steps = history == null ? 0 : StepRecords.recordedTwice(history);
                  twice.addAndGet(steps);
                  if (steps > 0 && examples.size() < 5)
                    examples.add(id + " has a step recorded twice");
                  return null;
                }));
      }
      for (Future<?> poll : polls) {
        try {
          poll.get();
        } catch (java.util.concurrent.ExecutionException e) {
          throw new IllegalStateException("a poll failed: " + e.getCause(), e.getCause());
        }
      }
    } finally {
      pool.shutdownNow();
      pool.awaitTermination(10, TimeUnit.SECONDS);
    }
    return new FinalOutcomes(
        completed.get(), failed.get(), lost.get(), twice.get(), List.copyOf(examples));
  }

  /**
   * One thread's requests, each to the next node in turn; I/O errors and 5xx are asked again
   * elsewhere.
   */
  private record Poller(HttpClient http, List<URI> nodes, String token, AtomicInteger roundRobin) {

    /**
     * The execution once final; null when it answers 404 repeatedly or the deadline passes first.
     */
    JsonNode awaitFinal(String id, Instant until) throws InterruptedException {
      int notFound = 0;
      while (Instant.now().isBefore(until)) {
        HttpResponse<String> r = send("/api/v1/workflows/" + id + "?wait=PT30S");
        if (r != null && r.statusCode() == 200) {
          JsonNode execution = parse(r.body());
          if (execution != null && FINAL.contains(execution.path("status").asText()))
            return execution;
        } else if (r != null && r.statusCode() == 404 && ++notFound >= NOT_FOUND_ANSWERS) {
          return null;
        }
        Thread.sleep(1000);
      }
      return null;
    }

    /** The body of a 200 for {@code path}, asked until the deadline; null if none came. */
    JsonNode get(String path, Instant until) throws InterruptedException {
      do {
        HttpResponse<String> r = send(path);
        if (r != null && r.statusCode() == 200) return parse(r.body());
        Thread.sleep(1000);
      } while (Instant.now().isBefore(until));
      return null;
    }

    private HttpResponse<String> send(String path) throws InterruptedException {
      URI node = nodes.get(Math.floorMod(roundRobin.getAndIncrement(), nodes.size()));
      try {
        return http.send(
            HttpRequest.newBuilder(URI.create(node + path))
                .timeout(REQUEST_TIMEOUT)
                .header("Authorization", "Bearer " + token)
                .GET()
                .build(),
            HttpResponse.BodyHandlers.ofString());
      } catch (IOException e) {
        return null;
      }
    }

    private static JsonNode parse(String body) {
      try {
        return LoadReport.JSON.readTree(body);
      } catch (IOException e) {
        return null;
      }
    }
  }
}
