package dev.keel.node;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Predicate;

/**
 * A real local HTTP server standing in for an alert webhook: each path answers from a script of
 * status codes, one per request, the last one repeating (200 when unscripted); every request is
 * recorded with what it was answered.
 */
public final class WebhookReceiver implements AutoCloseable {

  /** One request as received, and the status it was answered with. */
  public record Received(
      String path,
      String query,
      String idempotencyKey,
      String contentType,
      String body,
      int answered,
      Instant at) {}

  private final HttpServer server;
  private final ExecutorService executor =
      Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "webhook-receiver");
            t.setDaemon(true);
            return t;
          });
  private final Map<String, Deque<Integer>> scripts = new ConcurrentHashMap<>();
  private final List<Received> received = new CopyOnWriteArrayList<>();

  public WebhookReceiver() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.setExecutor(executor);
    server.createContext("/", this::handle);
    server.start();
  }

  /** {@code path} answers these statuses in order, then the last one forever. */
  public WebhookReceiver script(String path, Integer... statuses) {
    scripts.put(path, new ArrayDeque<>(List.of(statuses)));
    return this;
  }

  /** {@code http://127.0.0.1:<port><pathAndQuery>} */
  public String url(String pathAndQuery) {
    return "http://127.0.0.1:" + server.getAddress().getPort() + pathAndQuery;
  }

  public List<Received> received(String path) {
    return received.stream().filter(r -> r.path().equals(path)).toList();
  }

  /** Waits until the requests to {@code path} satisfy {@code until}; fails after {@code within}. */
  public List<Received> await(
      String path, Predicate<List<Received>> until, Duration within, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    while (System.nanoTime() < deadline) {
      List<Received> now = received(path);
      if (until.test(now)) return now;
      Thread.sleep(50);
    }
    throw new AssertionError(
        path + " never " + what + " within " + within + "; received: " + received(path));
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String body;
      try (InputStream in = exchange.getRequestBody()) {
        body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      String path = exchange.getRequestURI().getPath();
      int status = next(path);
      received.add(
          new Received(
              path,
              exchange.getRequestURI().getRawQuery(),
              exchange.getRequestHeaders().getFirst("Idempotency-Key"),
              exchange.getRequestHeaders().getFirst("Content-Type"),
              body,
              status,
              Instant.now()));
      exchange.sendResponseHeaders(status, -1);
    } catch (IOException callerGone) {
      // The caller timed out or died; nothing to answer.
    }
  }

  private int next(String path) {
    Deque<Integer> script = scripts.get(path);
    if (script == null) return 200;
    synchronized (script) {
      return script.size() > 1 ? script.poll() : script.peek();
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
