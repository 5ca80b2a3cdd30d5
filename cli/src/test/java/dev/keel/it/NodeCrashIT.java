package dev.keel.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.keel.persistence.TestDatabases;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The crash test of durable workflows: a node's JVM is killed with SIGKILL while the second step of
 * an {@code http-sequence} workflow is in flight, and a new node on the same database finishes the
 * workflow by itself. The first step's body must have run exactly once, and every step must be
 * recorded exactly once in the journal.
 *
 * <p>Nodes are real {@code java -jar keel.jar server} child processes (system property {@code
 * keel.jar}, set by failsafe; {@code target/keel.jar} otherwise). Their output goes to {@code
 * target/crash-it/*.log}, and the tail of each log is part of every failure message.
 *
 * <p>Node B gets no request for the workflow before the blocked step has been called again: that
 * proves the execution was restarted by sharding's remembered entities, not woken by a GET.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class NodeCrashIT {

  private static final String TOKEN = "crash-it-admin-token-0123456789";
  private static final String WORKFLOW_ID = "crash-1";
  private static final Duration READY_DEADLINE = Duration.ofSeconds(60);
  private static final Duration BLOCK_CALL_DEADLINE = Duration.ofSeconds(30);
  private static final Duration RESUME_DEADLINE = Duration.ofSeconds(60);
  private static final Duration COMPLETE_DEADLINE = Duration.ofSeconds(90);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path LOG_DIR = Path.of("target", "crash-it").toAbsolutePath();

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final List<Node> nodes = new CopyOnWriteArrayList<>();
  private final List<String> timings = new ArrayList<>();
  private final Thread killChildrenOnExit = new Thread(this::killAll, "kill-keel-children");
  private Stub stub;
  private Path tempDir;
  private TestDatabases.FreshPostgres postgres;

  @BeforeEach
  void setUp() throws IOException {
    Runtime.getRuntime().addShutdownHook(killChildrenOnExit);
    Files.createDirectories(LOG_DIR);
    tempDir = Files.createTempDirectory("keel-crash-it-");
    stub = Stub.start();
  }

  @AfterEach
  void tearDown() {
    killAll();
    try {
      Runtime.getRuntime().removeShutdownHook(killChildrenOnExit);
    } catch (IllegalStateException shuttingDown) {
      // The hook runs anyway.
    }
    if (stub != null) stub.stop();
    if (postgres != null) postgres.close();
    deleteQuietly(tempDir);
    if (!timings.isEmpty())
      System.out.println("[NodeCrashIT] timings: " + String.join(", ", timings));
  }

  @Test
  void h2_workflowSurvivesKillMinus9_andFinishesOnNewNodeOnSameDataDir() throws Exception {
    Path dataDir = tempDir.resolve("data");
    crashAndRecover("h2", dataDir, dataDir, List.of());
  }

  @Test
  void postgres_workflowSurvivesKillMinus9_andFinishesOnNewNodeOnSameDatabase() throws Exception {
    postgres = TestDatabases.freshPostgres();
    List<String> db =
        new ArrayList<>(
            List.of(
                "--database-url", postgres.settings().url(),
                "--database-user", postgres.settings().user()));
    if (!postgres.settings().password().isEmpty()) {
      db.addAll(List.of("--database-password", postgres.settings().password()));
    }
    // Separate data dirs: everything node B needs must come from the database.
    crashAndRecover("postgres", tempDir.resolve("data-a"), tempDir.resolve("data-b"), db);
  }

  private void crashAndRecover(
      String variant, Path dataDirA, Path dataDirB, List<String> databaseArgs) throws Exception {
    // ---- node A: start the workflow and let its second step hang
    Instant t0 = Instant.now();
    Node a = startNode(variant + "-A", dataDirA, databaseArgs);
    awaitReady(a);
    timings.add(variant + " A ready " + ms(t0));

    HttpResponse<String> started =
        send(a, "POST", "/api/v1/workflows", startBody(), Duration.ofSeconds(15));
    assertThat(started.statusCode())
        .as(context("start on node A: " + started.body()))
        .isEqualTo(201);

    Instant t1 = Instant.now();
    assertThat(stub.firstBlockCall.await(BLOCK_CALL_DEADLINE.toSeconds(), TimeUnit.SECONDS))
        .as(
            context(
                "/block got no call within "
                    + BLOCK_CALL_DEADLINE
                    + "; execution on A: "
                    + safeGet(a, "/api/v1/workflows/" + WORKFLOW_ID)))
        .isTrue();
    timings.add(variant + " start->ship in flight " + ms(t1));
    assertThat(stub.chargeCalls.get()).as(context("/charge calls before the kill")).isEqualTo(1);
    JsonNode historyOnA =
        json(
            send(
                a,
                "GET",
                "/api/v1/workflows/" + WORKFLOW_ID + "/history",
                null,
                Duration.ofSeconds(15)));
    assertThat(count(historyOnA, "StepCompleted", "charge"))
        .as(context("charge is journaled before the kill: " + historyOnA))
        .isEqualTo(1);
    assertThat(count(historyOnA, "StepCompleted", "ship"))
        .as(context("ship is still in flight"))
        .isZero();

    // ---- kill -9
    Instant t2 = Instant.now();
    a.process.destroyForcibly();
    assertThat(a.process.waitFor(30, TimeUnit.SECONDS))
        .as(context("node A died after SIGKILL"))
        .isTrue();
    assertThat(a.process.isAlive()).isFalse();
    assertThat(a.process.exitValue())
        .as(context("node A exit code (128 + SIGKILL)"))
        .isEqualTo(137);
    timings.add(variant + " kill " + ms(t2));

    // ---- node B: same database, no command for the workflow
    Instant t3 = Instant.now();
    Node b = startNode(variant + "-B", dataDirB, databaseArgs);
    awaitReady(b);
    timings.add(variant + " B ready " + ms(t3));

    // No request for crash-1 goes to node B until the blocked step was called again: a GET would
    // start the entity on demand and hide a failure of remembered entities.
    Instant t4 = Instant.now();
    boolean resumed = stub.secondBlockCall.await(RESUME_DEADLINE.toSeconds(), TimeUnit.SECONDS);
    if (!resumed) {
      String before = "/block calls: " + stub.blockCalls.get();
      String onDemand = safeGet(b, "/api/v1/workflows/" + WORKFLOW_ID + "?wait=PT15S");
      throw new AssertionError(
          context(
              "node B did not resume "
                  + WORKFLOW_ID
                  + " by itself within "
                  + RESUME_DEADLINE
                  + " after ready (remembered entities); "
                  + before
                  + "; after a GET (starts the entity on demand): "
                  + onDemand
                  + "; /block calls now: "
                  + stub.blockCalls.get()));
    }
    timings.add(variant + " B ready->ship called again " + ms(t4));

    JsonNode execution = awaitFinal(b, t3.plus(COMPLETE_DEADLINE));
    timings.add(variant + " B start->completed " + ms(t3));
    timings.add(variant + " total " + ms(t0));

    JsonNode history =
        json(
            send(
                b,
                "GET",
                "/api/v1/workflows/" + WORKFLOW_ID + "/history",
                null,
                Duration.ofSeconds(15)));
    String shown =
        "\nexecution: "
            + execution
            + "\nhistory on B: "
            + types(history)
            + "\nhistory on A before the kill: "
            + types(historyOnA)
            + "\nfull history on B: "
            + history;
    System.out.println(
        "[NodeCrashIT] "
            + variant
            + ": /charge calls="
            + stub.chargeCalls.get()
            + ", /block calls="
            + stub.blockCalls.get()
            + ", history on A before the kill="
            + types(historyOnA)
            + ", history on B="
            + types(history));

    // ---- exactly once
    assertThat(execution.path("status").asText())
        .as(context("final status" + shown))
        .isEqualTo("completed");
    assertThat(stub.chargeCalls.get())
        .as(context("/charge calls: the first step's body ran exactly once" + shown))
        .isEqualTo(1);
    assertThat(stub.chargeKeys)
        .as(context("Idempotency-Key of /charge" + shown))
        .containsOnly(WORKFLOW_ID + "/charge");
    assertThat(stub.blockKeys)
        .as(context("Idempotency-Key of each /block call, stable across the crash" + shown))
        .isNotEmpty()
        .allMatch((WORKFLOW_ID + "/ship")::equals);
    assertThat(JSON.readTree(stub.chargeBodies.get(0)).path("amount").asInt())
        .as("/charge body")
        .isEqualTo(5);

    JsonNode charge = step(execution, "charge");
    assertThat(charge.path("status").asText())
        .as(context("charge step" + shown))
        .isEqualTo("completed");
    assertThat(charge.path("attempts").asInt())
        .as(context("charge step attempts" + shown))
        .isEqualTo(1);
    JsonNode ship = step(execution, "ship");
    assertThat(ship.path("status").asText())
        .as(context("ship step" + shown))
        .isEqualTo("completed");
    assertThat(execution.path("output").path("charge").path("status").asInt())
        .as(context("output.charge" + shown))
        .isEqualTo(200);
    assertThat(execution.path("output").path("ship").path("status").asInt())
        .as(context("output.ship" + shown))
        .isEqualTo(200);

    assertThat(count(history, "StepCompleted", "charge"))
        .as(context("StepCompleted charge" + shown))
        .isEqualTo(1);
    assertThat(count(history, "StepCompleted", "ship"))
        .as(context("StepCompleted ship" + shown))
        .isEqualTo(1);
    assertThat(count(history, "WorkflowCompleted", null))
        .as(context("WorkflowCompleted" + shown))
        .isEqualTo(1);
    assertThat(count(history, "WorkflowStarted", null))
        .as(context("WorkflowStarted" + shown))
        .isEqualTo(1);
    assertThat(count(history, "StepStarted", "charge"))
        .as(context("StepStarted charge" + shown))
        .isEqualTo(1);
    assertThat(count(history, "WorkflowFailed", null))
        .as(context("WorkflowFailed" + shown))
        .isZero();
    List<Long> seqs = new ArrayList<>();
    history.forEach(e -> seqs.add(e.path("seq").asLong()));
    assertThat(seqs)
        .as(context("history seq numbers ascend without duplicates" + shown))
        .isSorted()
        .doesNotHaveDuplicates();

    System.out.println(
        "[NodeCrashIT] " + variant + ": ship attempts=" + ship.path("attempts").asInt());
  }

  // ---------------------------------------------------------------- the workflow

  private String startBody() {
    ObjectNode body = JSON.createObjectNode();
    body.put("workflow", "http-sequence");
    body.put("id", WORKFLOW_ID);
    ArrayNode steps = body.putObject("input").putArray("steps");
    ObjectNode charge = steps.addObject();
    charge.put("name", "charge");
    ObjectNode chargeRequest = charge.putObject("request");
    chargeRequest.put("method", "POST");
    chargeRequest.put("url", stub.url("/charge"));
    chargeRequest.putObject("body").put("amount", 5);
    chargeRequest.put("timeoutSeconds", 5);
    ObjectNode ship = steps.addObject();
    ship.put("name", "ship");
    ObjectNode shipRequest = ship.putObject("request");
    shipRequest.put("method", "POST");
    shipRequest.put("url", stub.url("/block"));
    shipRequest.put("timeoutSeconds", 120);
    return body.toString();
  }

  private JsonNode awaitFinal(Node node, Instant deadline) throws Exception {
    JsonNode last = null;
    while (Instant.now().isBefore(deadline)) {
      HttpResponse<String> r =
          send(
              node,
              "GET",
              "/api/v1/workflows/" + WORKFLOW_ID + "?wait=PT30S",
              null,
              Duration.ofSeconds(45));
      assertThat(r.statusCode())
          .as(context("long poll on node " + node.name + ": " + r.body()))
          .isEqualTo(200);
      last = JSON.readTree(r.body());
      String status = last.path("status").asText();
      if (status.equals("completed") || status.equals("failed") || status.equals("cancelled"))
        return last;
      node.assertAlive(this);
    }
    throw new AssertionError(context("execution not final by the deadline; last seen: " + last));
  }

  private static JsonNode step(JsonNode execution, String name) {
    for (JsonNode s : execution.path("steps")) {
      if (name.equals(s.path("name").asText())) return s;
    }
    throw new AssertionError("no step '" + name + "' in " + execution);
  }

  private static long count(JsonNode history, String type, String stepName) {
    long n = 0;
    for (JsonNode e : history) {
      if (!type.equals(e.path("type").asText())) continue;
      if (stepName == null || stepName.equals(e.path("data").path("name").asText())) n++;
    }
    return n;
  }

  private static List<String> types(JsonNode history) {
    List<String> out = new ArrayList<>();
    for (JsonNode e : history) {
      String name = e.path("data").path("name").asText("");
      out.add(e.path("type").asText() + (name.isEmpty() ? "" : "(" + name + ")"));
    }
    return out;
  }

  // ---------------------------------------------------------------- child nodes

  private Node startNode(String name, Path dataDir, List<String> databaseArgs) throws IOException {
    Path jar = keelJar();
    int port = freePort();
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command =
        new ArrayList<>(
            List.of(
                java,
                "-jar",
                jar.toString(),
                "server",
                "--http-port",
                Integer.toString(port),
                "--cluster-port",
                "0",
                "--data-dir",
                dataDir.toString(),
                "--admin-token",
                TOKEN));
    command.addAll(databaseArgs);
    Path log = LOG_DIR.resolve(name + ".log");
    ProcessBuilder pb =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.to(log.toFile()));
    // Only the flags configure the child, never the environment of whoever runs the build.
    pb.environment().keySet().removeIf(k -> k.startsWith("KEEL_"));
    Node node = new Node(name, pb.start(), port, log);
    nodes.add(node);
    return node;
  }

  private static Path keelJar() {
    Path jar = Path.of(System.getProperty("keel.jar", "target/keel.jar")).toAbsolutePath();
    if (!Files.isRegularFile(jar)) {
      throw new AssertionError(
          "no node jar at "
              + jar
              + "; build it with mvn -DskipTests package (or pass -Dkeel.jar=...)");
    }
    return jar;
  }

  private void awaitReady(Node node) throws Exception {
    Instant deadline = Instant.now().plus(READY_DEADLINE);
    String last = "no answer";
    while (Instant.now().isBefore(deadline)) {
      node.assertAlive(this);
      try {
        HttpResponse<String> r =
            http.send(
                HttpRequest.newBuilder(node.uri("/ready"))
                    .timeout(Duration.ofSeconds(5))
                    .GET()
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) return;
        last = r.statusCode() + " " + r.body();
      } catch (IOException notListeningYet) {
        last = notListeningYet.toString();
      }
      Thread.sleep(200);
    }
    throw new AssertionError(
        context(
            "node "
                + node.name
                + " not ready within "
                + READY_DEADLINE
                + "; last /ready: "
                + last));
  }

  private HttpResponse<String> send(
      Node node, String method, String path, String body, Duration timeout) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(node.uri(path))
            .timeout(timeout)
            .header("Authorization", "Bearer " + TOKEN);
    if (body == null) {
      b.method(method, HttpRequest.BodyPublishers.noBody());
    } else {
      b.header("Content-Type", "application/json")
          .method(method, HttpRequest.BodyPublishers.ofString(body));
    }
    try {
      return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new AssertionError(
          context(method + " " + path + " on node " + node.name + " failed: " + e), e);
    }
  }

  private JsonNode json(HttpResponse<String> r) throws IOException {
    assertThat(r.statusCode())
        .as(context(r.request().method() + " " + r.uri() + ": " + r.body()))
        .isEqualTo(200);
    return JSON.readTree(r.body());
  }

  /** For failure messages: never throws. */
  private String safeGet(Node node, String path) {
    try {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(node.uri(path))
                  .timeout(Duration.ofSeconds(30))
                  .header("Authorization", "Bearer " + TOKEN)
                  .GET()
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      return r.statusCode() + " " + r.body();
    } catch (Exception e) {
      return "(GET " + path + " failed: " + e + ")";
    }
  }

  /** The message plus the stub's counters and the tail of every child's log. */
  private String context(String message) {
    StringBuilder sb = new StringBuilder(message);
    if (stub != null) {
      sb.append("\n/charge calls=")
          .append(stub.chargeCalls.get())
          .append(", /block calls=")
          .append(stub.blockCalls.get());
    }
    for (Node node : nodes) {
      sb.append("\n----- node ")
          .append(node.name)
          .append(" (port ")
          .append(node.port)
          .append(", ")
          .append(node.process.isAlive() ? "alive" : "exited " + node.process.exitValue())
          .append("), tail of ")
          .append(node.log)
          .append(" -----\n")
          .append(tail(node.log, 60));
    }
    return sb.toString();
  }

  private static String tail(Path file, int lines) {
    try {
      List<String> all = Files.readAllLines(file, StandardCharsets.UTF_8);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException | UncheckedIOException e) {
      return "(cannot read: " + e + ")";
    }
  }

  private void killAll() {
    for (Node node : nodes) {
      ProcessHandle handle = node.process.toHandle();
      handle.descendants().forEach(ProcessHandle::destroyForcibly);
      node.process.destroyForcibly();
      try {
        node.process.waitFor(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  private static String ms(Instant since) {
    return Duration.between(since, Instant.now()).toMillis() + " ms";
  }

  private static void deleteQuietly(Path dir) {
    if (dir == null || !Files.exists(dir)) return;
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | UncheckedIOException e) {
      // Temp files: the OS cleans up.
    }
  }

  private record Node(String name, Process process, int port, Path log) {
    URI uri(String path) {
      return URI.create("http://127.0.0.1:" + port + path);
    }

    void assertAlive(NodeCrashIT test) {
      if (!process.isAlive()) {
        throw new AssertionError(
            test.context("node " + name + " exited with " + process.exitValue()));
      }
    }
  }

  // ---------------------------------------------------------------- the services the workflow
  // calls

  /** {@code /charge} answers at once; {@code /block} holds its first call until {@link #stop}. */
  private static final class Stub {
    final AtomicInteger chargeCalls = new AtomicInteger();
    final AtomicInteger blockCalls = new AtomicInteger();
    final List<String> chargeKeys = new CopyOnWriteArrayList<>();
    final List<String> chargeBodies = new CopyOnWriteArrayList<>();
    final List<String> blockKeys = new CopyOnWriteArrayList<>();
    final CountDownLatch firstBlockCall = new CountDownLatch(1);
    final CountDownLatch secondBlockCall = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    private final HttpServer server;
    private final ExecutorService executor;

    private Stub(HttpServer server, ExecutorService executor) {
      this.server = server;
      this.executor = executor;
    }

    static Stub start() throws IOException {
      HttpServer server =
          HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
      ExecutorService executor =
          Executors.newCachedThreadPool(
              r -> {
                Thread t = new Thread(r, "crash-it-stub");
                t.setDaemon(true);
                return t;
              });
      Stub stub = new Stub(server, executor);
      server.createContext("/charge", stub::charge);
      server.createContext("/block", stub::block);
      server.setExecutor(executor);
      server.start();
      return stub;
    }

    String url(String path) {
      return "http://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    private void charge(HttpExchange exchange) throws IOException {
      chargeBodies.add(readBody(exchange));
      chargeKeys.add(String.valueOf(exchange.getRequestHeaders().getFirst("Idempotency-Key")));
      chargeCalls.incrementAndGet();
      respond(exchange, "{\"chargeId\":\"ch_1\",\"amount\":5}");
    }

    private void block(HttpExchange exchange) throws IOException {
      readBody(exchange);
      blockKeys.add(String.valueOf(exchange.getRequestHeaders().getFirst("Idempotency-Key")));
      int n = blockCalls.incrementAndGet();
      if (n == 1) {
        firstBlockCall.countDown();
        try {
          release.await(10, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        // The caller was killed meanwhile; nobody reads this answer.
        try {
          respond(exchange, "{\"shipped\":\"late\"}");
        } catch (IOException callerGone) {
          exchange.close();
        }
        return;
      }
      secondBlockCall.countDown();
      respond(exchange, "{\"shipped\":true}");
    }

    private static String readBody(HttpExchange exchange) throws IOException {
      try (InputStream in = exchange.getRequestBody()) {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
    }

    private static void respond(HttpExchange exchange, String json) throws IOException {
      byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "application/json");
      exchange.sendResponseHeaders(200, bytes.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    }

    void stop() {
      release.countDown();
      server.stop(0);
      executor.shutdownNow();
    }
  }
}
