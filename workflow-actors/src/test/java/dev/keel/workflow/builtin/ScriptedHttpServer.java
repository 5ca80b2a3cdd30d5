package dev.keel.workflow.builtin;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Collectors;

/**
 * A local HTTP server for tests: each path answers from a script, one answer per request, the last
 * one repeating; every request is recorded.
 */
public final class ScriptedHttpServer implements AutoCloseable {

  public record Received(String method, String path, Headers headers, byte[] body) {
    public String header(String name) {
      return headers.getFirst(name);
    }

    public String bodyText() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  public record Answer(int status, String contentType, byte[] body, Duration delay) {
    public static Answer json(int status, String json) {
      return new Answer(
          status, "application/json", json.getBytes(StandardCharsets.UTF_8), Duration.ZERO);
    }

    public static Answer text(int status, String text) {
      return new Answer(
          status,
          "text/plain; charset=utf-8",
          text.getBytes(StandardCharsets.UTF_8),
          Duration.ZERO);
    }

    public static Answer empty(int status) {
      return new Answer(status, null, new byte[0], Duration.ZERO);
    }

    public Answer after(Duration delay) {
      return new Answer(status, contentType, body, delay);
    }
  }

  private final HttpServer server;
  private final ExecutorService executor = Executors.newCachedThreadPool();
  private final Map<String, Deque<Answer>> scripts = new ConcurrentHashMap<>();
  private final List<Received> received = new CopyOnWriteArrayList<>();

  public ScriptedHttpServer() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.setExecutor(executor); // a slow answer must not hold up the retry that follows it
    server.createContext("/", this::handle);
    server.start();
  }

  public ScriptedHttpServer script(String path, Answer... answers) {
    scripts.put(path, new ArrayDeque<>(List.of(answers)));
    return this;
  }

  public URI url(String path) {
    return URI.create(
        "http://"
            + server.getAddress().getAddress().getHostAddress()
            + ":"
            + server.getAddress().getPort()
            + path);
  }

  public List<Received> received(String path) {
    return received.stream().filter(r -> r.path().equals(path)).collect(Collectors.toList());
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      byte[] body;
      try (InputStream in = exchange.getRequestBody()) {
        body = in.readAllBytes();
      }
      String path = exchange.getRequestURI().getPath();
      received.add(
          new Received(exchange.getRequestMethod(), path, exchange.getRequestHeaders(), body));
      Answer answer = next(path);
      sleep(answer.delay());
      if (answer.contentType() != null)
        exchange.getResponseHeaders().set("Content-Type", answer.contentType());
      boolean empty = answer.body().length == 0 || "HEAD".equals(exchange.getRequestMethod());
      exchange.sendResponseHeaders(answer.status(), empty ? -1 : answer.body().length);
      if (!empty) {
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(answer.body());
        }
      }
    } catch (IOException clientGone) {
      // The client timed out and closed the connection; nothing to answer.
    }
  }

  private Answer next(String path) {
    Deque<Answer> script = scripts.get(path);
    if (script == null) return Answer.text(404, "no script for " + path);
    synchronized (script) {
      return script.size() > 1 ? script.poll() : script.peek();
    }
  }

  private static void sleep(Duration delay) {
    if (delay.isZero()) return;
    try {
      Thread.sleep(delay.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
