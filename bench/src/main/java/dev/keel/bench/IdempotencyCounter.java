package dev.keel.bench;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The target of the workflows' request steps, in the bench's own process: {@code POST /work?ms=N}
 * answers 200 after N ms and records the call's {@code Idempotency-Key} and when it came, so that
 * {@link StepBodyRuns} can tell how often each step body ran.
 */
final class IdempotencyCounter implements AutoCloseable {

  private static final long MAX_DELAY_MS = 10_000;

  private final ConcurrentLinkedQueue<StepBodyRuns.Call> calls = new ConcurrentLinkedQueue<>();
  private final HttpServer server;
  private final ExecutorService executor =
      Executors.newCachedThreadPool(new DaemonThreads("fault-counter"));

  private IdempotencyCounter(HttpServer server) {
    this.server = server;
  }

  /** Listens on a free port of 127.0.0.1. */
  static IdempotencyCounter start() throws IOException {
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 200);
    IdempotencyCounter counter = new IdempotencyCounter(server);
    server.createContext("/work", counter::work);
    server.setExecutor(counter.executor);
    server.start();
    return counter;
  }

  /** The URL of the work endpoint, answering after {@code delayMs}. */
  String workUrl(long delayMs) {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/work?ms=" + delayMs;
  }

  /** The calls so far whose key starts with {@code prefix} (one repetition's workflows). */
  List<StepBodyRuns.Call> calls(String prefix) {
    return calls.stream().filter(c -> c.key().startsWith(prefix)).toList();
  }

  private void work(HttpExchange exchange) throws IOException {
    calls.add(
        new StepBodyRuns.Call(
            String.valueOf(exchange.getRequestHeaders().getFirst("Idempotency-Key")),
            Instant.now()));
    try (InputStream in = exchange.getRequestBody()) {
      in.readAllBytes();
    }
    try {
      Thread.sleep(delayMs(exchange.getRequestURI().getQuery()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    byte[] bytes = "{\"ok\":true}".getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    try {
      exchange.sendResponseHeaders(200, bytes.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    } catch (IOException callerGone) {
      // The node was killed while it waited: its call is counted all the same.
      exchange.close();
    }
  }

  static long delayMs(String query) {
    if (query == null || !query.startsWith("ms=")) return 0;
    try {
      return Math.max(0, Math.min(MAX_DELAY_MS, Long.parseLong(query.substring(3))));
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
