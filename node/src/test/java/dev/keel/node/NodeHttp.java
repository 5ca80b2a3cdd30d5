package dev.keel.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.keel.workflow.execution.NodeWorkflowRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * A real node in this JVM, driven over HTTP the way another service would: boots it with the admin
 * token on free ports, waits for {@code /ready}, sends requests and checks problem documents.
 */
final class NodeHttp {

  static final String TOKEN = "it-admin-token-0123456789";
  static final ObjectMapper JSON = new ObjectMapper();

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final String base;

  private NodeHttp(String base) {
    this.base = base;
  }

  /** Starts a node with {@code db} (data dir and database settings) on free ports. */
  static KeelNode start(Map<String, String> db) {
    return start(db, new NodeWorkflowRegistry());
  }

  /**
   * As {@link #start(Map)}, with the test's own workflows in {@code registry} beside the built-ins.
   */
  static KeelNode start(Map<String, String> db, NodeWorkflowRegistry registry) {
    Map<String, Object> overrides = new HashMap<>(db);
    // Tests that count schedules see only their own, unless they ask for the built-in one.
    overrides.putIfAbsent("keel.tenants.quota-check-schedule", false);
    overrides.putIfAbsent("keel.http.port", 0);
    overrides.put("keel.cluster.port", 0);
    overrides.put("keel.node.admin-token", TOKEN);
    Config config = ConfigFactory.parseMap(overrides);
    return KeelNode.start(config, registry);
  }

  /** A client of {@code node}, once it answers {@code /ready}. */
  static NodeHttp ready(KeelNode node) throws Exception {
    NodeHttp client = new NodeHttp("http://127.0.0.1:" + node.httpPort());
    client.awaitReady();
    return client;
  }

  private void awaitReady() throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      try {
        if (http.send(
                    HttpRequest.newBuilder(URI.create(base + "/ready")).build(),
                    HttpResponse.BodyHandlers.ofString())
                .statusCode()
            == 200) return;
      } catch (java.io.IOException ignored) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    throw new AssertionError("node at " + base + " never became ready");
  }

  /**
   * GETs {@code path} until its JSON body satisfies {@code until}: read models trail their
   * entities.
   */
  JsonNode await(String path, Predicate<JsonNode> until, String what) throws Exception {
    return awaitAuth(path, TOKEN, until, what);
  }

  /** As {@link #await}, waiting up to {@code timeout} instead of 20 s (e.g. for a cron tick). */
  JsonNode await(String path, Predicate<JsonNode> until, String what, Duration timeout)
      throws Exception {
    return awaitAuth(path, TOKEN, until, what, timeout);
  }

  /**
   * As {@link #await}, with {@code token} (a tenant's key) instead of the admin token. A 404 is
   * waited out too: a resource an outbox starts (a tenant's lifecycle workflow) may not exist yet.
   */
  JsonNode awaitAuth(String path, String token, Predicate<JsonNode> until, String what)
      throws Exception {
    return awaitAuth(path, token, until, what, Duration.ofSeconds(20));
  }

  private JsonNode awaitAuth(
      String path, String token, Predicate<JsonNode> until, String what, Duration timeout)
      throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    JsonNode last = null;
    while (System.nanoTime() < deadline) {
      HttpResponse<String> response = sendAuth("GET", path, null, token);
      if (response.statusCode() == 404) {
        last = JSON.readTree(response.body());
        Thread.sleep(200);
        continue;
      }
      assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
      last = JSON.readTree(response.body());
      if (until.test(last)) return last;
      Thread.sleep(200);
    }
    throw new AssertionError(path + " never " + what + ": " + last);
  }

  /** Sends with the admin token and, when there is a body, as JSON. */
  HttpResponse<String> send(String method, String path, String body) throws Exception {
    return sendTyped(method, path, body, "application/json");
  }

  HttpResponse<String> sendTyped(String method, String path, String body, String type)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(base + path))
            .timeout(Duration.ofSeconds(60))
            .header("Authorization", "Bearer " + TOKEN)
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) b.header("Content-Type", type);
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /**
   * Sends with {@code token} instead of the admin token, or with none when it is null; a body as
   * JSON.
   */
  HttpResponse<String> sendAuth(String method, String path, String body, String token)
      throws Exception {
    return sendNamed(method, path, body, token, null);
  }

  /**
   * As {@link #sendAuth}, naming the request {@code requestId} (X-Request-Id) when it is not null.
   */
  HttpResponse<String> sendNamed(
      String method, String path, String body, String token, String requestId) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(base + path))
            .timeout(Duration.ofSeconds(30))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    Optional.ofNullable(token).ifPresent(t -> b.header("Authorization", "Bearer " + t));
    Optional.ofNullable(requestId).ifPresent(id -> b.header("X-Request-Id", id));
    if (body != null) b.header("Content-Type", "application/json");
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** A problem document with {@code status}, leaking nothing, that lists each of {@code fields}. */
  static void assertProblem(HttpResponse<String> response, int status, String... fields)
      throws Exception {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
    assertThat(response.headers().firstValue("Content-Type").orElse(""))
        .startsWith("application/problem+json");
    JsonNode problem = JSON.readTree(response.body());
    assertThat(problem.get("status").asInt()).isEqualTo(status);
    assertThat(problem.get("title").asText()).isNotBlank();
    assertThat(response.body())
        .doesNotContain("Exception")
        .doesNotContain("\tat ")
        .doesNotContain(TOKEN);
    for (String field : fields) {
      boolean listed = false;
      for (JsonNode e : problem.path("errors")) listed |= e.get("field").asText().equals(field);
      assertThat(listed).as("field " + field + " listed in " + response.body()).isTrue();
    }
  }

  /**
   * Events in the journals of {@code entityTypes} (not sharding's own remember-entities
   * bookkeeping).
   */
  static long journalEvents(dev.keel.persistence.DatabaseSettings db, String... entityTypes)
      throws Exception {
    boolean h2 = db.kind() == dev.keel.persistence.DatabaseSettings.Kind.H2;
    // H2's journal tables have quoted lower-case names (V1__journal.sql).
    String table = h2 ? "\"event_journal\"" : "event_journal";
    String column = h2 ? "\"persistence_id\"" : "persistence_id";
    StringBuilder sql = new StringBuilder("SELECT COUNT(*) FROM " + table + " WHERE 1 = 0");
    for (String type : entityTypes)
      sql.append(" OR ").append(column).append(" LIKE '").append(type).append("|%'");
    try (java.sql.Connection c =
            java.sql.DriverManager.getConnection(db.url(), db.user(), db.password());
        java.sql.ResultSet rs = c.createStatement().executeQuery(sql.toString())) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
