package dev.keel.it;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The service that {@code http-sequence} steps call in fault tests: {@code /work?ms=N} answers 200
 * after N ms and counts the calls of each {@code Idempotency-Key}. A step body's attempts share one
 * key, so a key called twice is a body that ran twice (allowed only for an attempt in flight at a
 * failure).
 */
final class CallCountingService implements AutoCloseable {

  private final Map<String, AtomicInteger> callsPerKey = new ConcurrentHashMap<>();
  private final HttpServer server;
  private final ExecutorService executor =
      Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "call-counting-service");
            t.setDaemon(true);
            return t;
          });

  /** Listens on {@code address} (an address the nodes reach), on a free port. */
  CallCountingService(String address) throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getByName(address), 0), 100);
    server.createContext("/work", this::work);
    server.setExecutor(executor);
    server.start();
  }

  String url(String path) {
    return "http://"
        + server.getAddress().getAddress().getHostAddress()
        + ":"
        + server.getAddress().getPort()
        + path;
  }

  int calls() {
    return callsPerKey.values().stream().mapToInt(AtomicInteger::get).sum();
  }

  /** Keys called more than once, with their counts: step bodies that ran more than once. */
  Map<String, Integer> repeatedKeys() {
    Map<String, Integer> repeated = new java.util.TreeMap<>();
    callsPerKey.forEach(
        (key, n) -> {
          if (n.get() > 1) repeated.put(key, n.get());
        });
    return repeated;
  }

  private void work(HttpExchange exchange) throws IOException {
    String key = String.valueOf(exchange.getRequestHeaders().getFirst("Idempotency-Key"));
    callsPerKey.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
    try (InputStream in = exchange.getRequestBody()) {
      in.readAllBytes();
    }
    String query = exchange.getRequestURI().getQuery();
    long ms = query != null && query.startsWith("ms=") ? Long.parseLong(query.substring(3)) : 0;
    try {
      Thread.sleep(ms);
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
      exchange.close();
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
