package dev.keel.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A stand-in for Keel on a local port ({@code com.sun.net.httpserver}): it records every request
 * and plays a small in-memory registry (register, heartbeat, get, list in pages, deregister) that
 * follows the wire format of API.md. Tests script other answers with {@link #answerNext} or {@link
 * #answerAll}, and take it down and up again with {@link #stop} and {@link #restart}.
 */
final class FakeKeel implements AutoCloseable {

  static final String TOKEN = "fake-token-0123456789abcdef";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern SERVICE =
      Pattern.compile("/api/v1/services/([^/?]+)(/heartbeat|/health)?");

  /** One request as the fake saw it. */
  record Request(
      String method, String path, String query, Map<String, List<String>> headers, String body) {
    JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (IOException e) {
        throw new AssertionError("not JSON: " + body, e);
      }
    }

    String header(String name) {
      for (Map.Entry<String, List<String>> e : headers.entrySet()) {
        if (e.getKey().equalsIgnoreCase(name)) return e.getValue().get(0);
      }
      return null;
    }
  }

  /** A scripted answer. */
  record Answer(int status, String contentType, String body, Map<String, String> headers) {
    static Answer json(int status, String body) {
      return new Answer(status, "application/json", body, Map.of());
    }

    static Answer problem(int status, String body) {
      return new Answer(status, "application/problem+json", body, Map.of());
    }
  }

  private record Script(String method, Pattern path, Answer answer, boolean once) {}

  final List<Request> requests = new CopyOnWriteArrayList<>();
  final Map<String, ObjectNode> services = new ConcurrentHashMap<>();
  private final Deque<Script> scripts = new ConcurrentLinkedDeque<>();
  private final AtomicReference<Answer> everything = new AtomicReference<>();
  private final int port;
  private HttpServer server;

  FakeKeel() throws IOException {
    server = bind(0);
    port = server.getAddress().getPort();
  }

  URI uri() {
    return URI.create("http://127.0.0.1:" + port);
  }

  int port() {
    return port;
  }

  KeelClient.Builder client() {
    return KeelClient.builder(name -> null)
        .endpoint(uri())
        .token(TOKEN)
        .timeout(Duration.ofSeconds(5));
  }

  /** The next request matching method and path gets {@code answer}, once. */
  void answerNext(String method, String pathRegex, Answer answer) {
    scripts.addLast(new Script(method, Pattern.compile(pathRegex), answer, true));
  }

  /** Every request gets {@code answer} until called with null. */
  void answerAll(Answer answer) {
    everything.set(answer);
  }

  /** Stops listening: connections are refused until {@link #restart}. */
  synchronized void stop() {
    server.stop(0);
  }

  synchronized void restart() throws IOException {
    IOException last = null;
    for (int i = 0; i < 50; i++) {
      try {
        server = bind(port);
        return;
      } catch (IOException e) {
        last = e; // the port may linger for a moment
        try {
          Thread.sleep(100);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw new IOException(ie);
        }
      }
    }
    throw last;
  }

  @Override
  public synchronized void close() {
    server.stop(0);
  }

  List<Request> requests(String method, String pathPrefix) {
    List<Request> out = new ArrayList<>();
    for (Request r : requests)
      if (r.method().equals(method) && r.path().startsWith(pathPrefix)) out.add(r);
    return out;
  }

  long count(Predicate<Request> which) {
    return requests.stream().filter(which).count();
  }

  static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (System.nanoTime() < deadline) {
      if (condition.getAsBoolean()) return;
      Thread.sleep(20);
    }
    throw new AssertionError("never " + what);
  }

  // ---------------------------------------------------------------- the server

  private HttpServer bind(int onPort) throws IOException {
    HttpServer s =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), onPort), 50);
    s.setExecutor(
        Executors.newCachedThreadPool(
            r -> {
              Thread t = new Thread(r, "fake-keel");
              t.setDaemon(true);
              return t;
            }));
    s.createContext("/", this::handle);
    s.start();
    return s;
  }

  private void handle(HttpExchange ex) throws IOException {
    try {
      String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      Request r =
          new Request(
              ex.getRequestMethod(),
              ex.getRequestURI().getRawPath(),
              ex.getRequestURI().getRawQuery(),
              Map.copyOf(new TreeMap<>(ex.getRequestHeaders())),
              body);
      requests.add(r);
      Answer answer = everything.get();
      if (answer == null) answer = scripted(r);
      if (answer == null) answer = registry(r);
      send(ex, answer);
    } finally {
      ex.close();
    }
  }

  private Answer scripted(Request r) {
    for (Script s : scripts) {
      if (s.method().equals(r.method()) && s.path().matcher(r.path()).matches()) {
        if (s.once()) scripts.remove(s);
        return s.answer();
      }
    }
    return null;
  }

  private static void send(HttpExchange ex, Answer a) throws IOException {
    a.headers().forEach((k, v) -> ex.getResponseHeaders().add(k, v));
    if (a.body() == null) {
      ex.sendResponseHeaders(a.status(), -1);
      return;
    }
    byte[] bytes = a.body().getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().add("Content-Type", a.contentType());
    ex.sendResponseHeaders(a.status(), bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  /** A registry that behaves like API.md says, enough for the client's paths. */
  private Answer registry(Request r) {
    if (!("Bearer " + TOKEN).equals(r.header("Authorization"))) {
      return Answer.problem(
          401,
          "{\"type\":\"https://keel.dev/problems/unauthorized\",\"title\":\"Unauthorized\",\"status\":401,\"detail\":\"no"
              + " or unknown token\"}");
    }
    Matcher m = SERVICE.matcher(r.path());
    String now = Instant.now().toString();
    if (m.matches()) {
      String id = m.group(1);
      String sub = m.group(2);
      ObjectNode known = services.get(id);
      if (sub == null && r.method().equals("PUT")) {
        ObjectNode view = r.json().deepCopy();
        view.put("id", id)
            .put("status", "healthy")
            .put("registeredAt", now)
            .put("lastHeartbeatAt", now);
        if (!view.has("ttlSeconds")) view.put("ttlSeconds", 30);
        view.putObject("metrics");
        view.putObject("details");
        services.put(id, view);
        return Answer.json(known == null ? 201 : 200, view.toString());
      }
      if (known == null)
        return notFound("service '" + id + "' is not registered; register it first");
      if (sub == null && r.method().equals("GET")) return Answer.json(200, known.toString());
      if (sub == null && r.method().equals("DELETE")) {
        services.remove(id);
        return new Answer(204, null, null, Map.of());
      }
      if ("/heartbeat".equals(sub) && r.method().equals("POST")) {
        JsonNode beat = r.json();
        known.put("status", beat.path("status").asText("healthy")).put("lastHeartbeatAt", now);
        known.set("metrics", beat.path("metrics"));
        known.set("details", beat.path("details"));
        return Answer.json(
            200,
            "{\"status\":\""
                + known.get("status").asText()
                + "\",\"ttlSeconds\":"
                + known.get("ttlSeconds").asInt()
                + ",\"nextHeartbeatBefore\":\""
                + now
                + "\",\"futureField\":1}");
      }
      if ("/health".equals(sub) && r.method().equals("GET")) {
        String status = known.get("status").asText();
        return Answer.json(
            status.equals("healthy") ? 200 : 503,
            "{\"id\":\""
                + id
                + "\",\"status\":\""
                + status
                + "\",\"lastHeartbeatAt\":\""
                + now
                + "\"}");
      }
    }
    if (r.path().equals("/api/v1/services") && r.method().equals("GET")) {
      Map<String, String> q = query(r.query());
      int limit = Integer.parseInt(q.getOrDefault("limit", "50"));
      int from = q.containsKey("cursor") ? Integer.parseInt(q.get("cursor")) : 0;
      List<String> ids = new ArrayList<>(new TreeMap<>(services).keySet());
      StringBuilder items = new StringBuilder();
      for (int i = from; i < Math.min(ids.size(), from + limit); i++) {
        if (items.length() > 0) items.append(',');
        items.append(services.get(ids.get(i)).toString());
      }
      String next = from + limit < ids.size() ? "\"" + (from + limit) + "\"" : "null";
      return Answer.json(200, "{\"items\":[" + items + "],\"nextCursor\":" + next + "}");
    }
    return notFound("no route " + r.method() + " " + r.path());
  }

  static Answer notFound(String detail) {
    return Answer.problem(
        404,
        "{\"type\":\"https://keel.dev/problems/not-found\",\"title\":\"Not"
            + " Found\",\"status\":404,\"detail\":\""
            + detail.replace("\"", "'")
            + "\"}");
  }

  static Map<String, String> query(String raw) {
    Map<String, String> q = new TreeMap<>();
    if (raw == null) return q;
    for (String pair : raw.split("&")) {
      int eq = pair.indexOf('=');
      q.put(
          java.net.URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
          java.net.URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
    }
    return q;
  }
}
