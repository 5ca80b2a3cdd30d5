package dev.keel.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.keel.persistence.DatabaseSettings;
import dev.keel.persistence.TestDatabases;
import dev.keel.workflow.execution.WorkflowRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * A real node in this JVM, driven over HTTP the way another service would, on the embedded H2 and
 * on PostgreSQL: the happy path, restarts, and bad input that must answer 4xx and change nothing.
 */
class WorkflowApiIT {

  private static final String TOKEN = "it-admin-token-0123456789";
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @Test
  void onEmbeddedH2() throws Exception {
    Path dir = Files.createTempDirectory("keel-it-h2");
    exercise(Map.of("keel.node.data-dir", dir.toString()), DatabaseSettings.embedded(dir));
  }

  @Test
  void onPostgres() throws Exception {
    try (TestDatabases.FreshPostgres pg = TestDatabases.freshPostgres()) {
      Path dir = Files.createTempDirectory("keel-it-pg");
      exercise(Map.of("keel.node.data-dir", dir.toString(), "keel.database.url", pg.settings().url(),
          "keel.database.user", pg.settings().user()), pg.settings());
    }
  }

  private void exercise(Map<String, String> db, DatabaseSettings dbSettings) throws Exception {
    String base;
    try (KeelNode node = start(db)) {
      base = "http://127.0.0.1:" + node.httpPort();
      awaitReady(base);

      // A start is acknowledged once journaled; the same start again is idempotent.
      String start = "{\"workflow\":\"example\",\"id\":\"it-1\",\"input\":{\"userId\":\"u-1\",\"action\":\"signup\"}}";
      assertThat(send(base, "POST", "/api/v1/workflows", start).statusCode()).isEqualTo(201);
      assertThat(send(base, "POST", "/api/v1/workflows", start).statusCode()).isEqualTo(200);
      HttpResponse<String> done = send(base, "GET", "/api/v1/workflows/it-1?wait=PT30S", null);
      JsonNode execution = JSON.readTree(done.body());
      assertThat(execution.get("status").asText()).isEqualTo("completed");
      assertThat(execution.get("output").get("summary").asText()).isEqualTo("signup done for u-1");
      assertThat(execution.get("steps")).hasSize(3);
      assertThat(execution.get("createdAt").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");

      // A step that rejects its input fails the workflow with the error recorded.
      send(base, "POST", "/api/v1/workflows", "{\"workflow\":\"example\",\"id\":\"it-bad-user\",\"input\":{\"userId\":\"\",\"action\":\"x\"}}");
      JsonNode failed = JSON.readTree(send(base, "GET", "/api/v1/workflows/it-bad-user?wait=PT30S", null).body());
      assertThat(failed.get("status").asText()).isEqualTo("failed");
      assertThat(failed.get("error").asText()).contains("validate").contains("userId");

      JsonNode history = JSON.readTree(send(base, "GET", "/api/v1/workflows/it-1/history", null).body());
      assertThat(history.get(0).get("type").asText()).isEqualTo("WorkflowStarted");
      assertThat(history.get(history.size() - 1).get("type").asText()).isEqualTo("WorkflowCompleted");
      long stepsCompleted = 0;
      for (JsonNode e : history) if (e.get("type").asText().equals("StepCompleted")) stepsCompleted++;
      assertThat(stepsCompleted).isEqualTo(3);

      // The list comes from the projection: eventually consistent, within a few seconds.
      JsonNode list = awaitList(base, "/api/v1/workflows?status=completed&workflow=example", 1);
      assertThat(list.get("items").get(0).get("id").asText()).isEqualTo("it-1");

      // Schedules: a good one is stored with its next run, a bad cron is a 400 naming the field.
      HttpResponse<String> schedule = send(base, "PUT", "/api/v1/schedules/nightly",
          "{\"workflow\":\"example\",\"cron\":\"0 3 * * *\",\"timezone\":\"Europe/Berlin\",\"input\":{\"userId\":\"s\",\"action\":\"nightly\"}}");
      assertThat(schedule.statusCode()).isEqualTo(201);
      assertThat(JSON.readTree(schedule.body()).get("nextRunAt").isNull()).isFalse();

      long eventsBefore = journalEvents(dbSettings);
      assertProblem(send(base, "POST", "/api/v1/workflows", "{\"workflow\":"), 400, "body");
      assertProblem(send(base, "POST", "/api/v1/workflows", "{\"workflow\":42,\"id\":\"bad id!\",\"extra\":1}"), 400, "workflow", "id", "extra");
      assertProblem(send(base, "POST", "/api/v1/workflows", "{\"workflow\":\"example\",\"input\":{\"userId\":[1]}}"), 400, "input.userId");
      assertProblem(send(base, "POST", "/api/v1/workflows", "{\"workflow\":\"no-such-workflow\"}"), 404);
      assertProblem(send(base, "POST", "/api/v1/workflows", start.replace("signup", "other")), 409);
      assertProblem(send(base, "POST", "/api/v1/workflows", "{\"workflow\":\"example\",\"input\":{\"userId\":\"" + "x".repeat(1_100_000) + "\"}}"), 413);
      assertProblem(sendTyped(base, "POST", "/api/v1/workflows", "workflow=example", "text/plain"), 415);
      assertProblem(sendAuth(base, "GET", "/api/v1/workflows/it-1", null, null), 401);
      assertProblem(sendAuth(base, "GET", "/api/v1/workflows/it-1", null, "wrong-token"), 401);
      assertProblem(send(base, "GET", "/api/v1/workflows/does-not-exist", null), 404);
      assertProblem(send(base, "GET", "/api/v1/workflows?status=bogus&limit=9999", null), 400, "status", "limit");
      assertProblem(send(base, "GET", "/api/v1/workflows/it-1?wait=forever", null), 400, "wait");
      assertProblem(send(base, "POST", "/api/v1/workflows/it-1/cancel", "{\"reason\":\"late\"}"), 409);
      assertProblem(send(base, "PUT", "/api/v1/schedules/s1", "{\"workflow\":\"example\",\"cron\":\"0 25 * * *\"}"), 400, "cron");
      assertProblem(send(base, "PUT", "/api/v1/schedules/s1", "{\"workflow\":\"example\",\"cron\":\"* * * * *\",\"timezone\":\"Mars/Base\"}"), 400, "timezone");
      assertProblem(send(base, "DELETE", "/api/v1/workflows", null), 405);
      assertThat(journalEvents(dbSettings)).as("bad requests write nothing").isEqualTo(eventsBefore);
    }

    // A restarted node on the same database has every acknowledged write.
    try (KeelNode again = start(db)) {
      String base2 = "http://127.0.0.1:" + again.httpPort();
      awaitReady(base2);
      JsonNode execution = JSON.readTree(send(base2, "GET", "/api/v1/workflows/it-1", null).body());
      assertThat(execution.get("status").asText()).isEqualTo("completed");
      assertThat(JSON.readTree(send(base2, "GET", "/api/v1/schedules/nightly", null).body()).get("cron").asText()).isEqualTo("0 3 * * *");
      assertThat(send(base2, "DELETE", "/api/v1/schedules/nightly", null).statusCode()).isEqualTo(204);
      assertProblem(send(base2, "GET", "/api/v1/schedules/nightly", null), 404);
    }
  }

  private static KeelNode start(Map<String, String> db) {
    Map<String, Object> overrides = new HashMap<>(db);
    overrides.put("keel.http.port", 0);
    overrides.put("keel.cluster.port", 0);
    overrides.put("keel.node.admin-token", TOKEN);
    Config config = ConfigFactory.parseMap(overrides);
    return KeelNode.start(config, new WorkflowRegistry());
  }

  private void awaitReady(String base) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      try {
        if (http.send(HttpRequest.newBuilder(URI.create(base + "/ready")).build(), HttpResponse.BodyHandlers.ofString()).statusCode() == 200) return;
      } catch (java.io.IOException ignored) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    throw new AssertionError("node at " + base + " never became ready");
  }

  private JsonNode awaitList(String base, String path, int atLeast) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    JsonNode last = null;
    while (System.nanoTime() < deadline) {
      last = JSON.readTree(send(base, "GET", path, null).body());
      if (last.get("items").size() >= atLeast) return last;
      Thread.sleep(200);
    }
    throw new AssertionError("list " + path + " never had " + atLeast + " items: " + last);
  }

  private HttpResponse<String> send(String base, String method, String path, String body) throws Exception {
    return sendTyped(base, method, path, body, "application/json");
  }

  private HttpResponse<String> sendTyped(String base, String method, String path, String body, String type) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60))
        .header("Authorization", "Bearer " + TOKEN)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) b.header("Content-Type", type);
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> sendAuth(String base, String method, String path, String body, String token) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    Optional.ofNullable(token).ifPresent(t -> b.header("Authorization", "Bearer " + t));
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static void assertProblem(HttpResponse<String> response, int status, String... fields) throws Exception {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
    assertThat(response.headers().firstValue("Content-Type").orElse("")).startsWith("application/problem+json");
    JsonNode problem = JSON.readTree(response.body());
    assertThat(problem.get("status").asInt()).isEqualTo(status);
    assertThat(problem.get("title").asText()).isNotBlank();
    assertThat(response.body()).doesNotContain("Exception").doesNotContain("\tat ").doesNotContain(TOKEN);
    for (String field : fields) {
      boolean listed = false;
      for (JsonNode e : problem.path("errors")) listed |= e.get("field").asText().equals(field);
      assertThat(listed).as("field " + field + " listed in " + response.body()).isTrue();
    }
  }

  private static long journalEvents(DatabaseSettings db) throws Exception {
    try (Connection c = DriverManager.getConnection(db.url(), db.user(), db.password());
        ResultSet rs = c.createStatement().executeQuery(
            // Entity journals only: sharding's own remember-entities bookkeeping is not a Keel event.
            db.kind() == DatabaseSettings.Kind.H2
                ? "SELECT COUNT(*) FROM \"event_journal\" WHERE \"persistence_id\" LIKE 'workflow|%' OR \"persistence_id\" LIKE 'schedule|%'"
                : "SELECT COUNT(*) FROM event_journal WHERE persistence_id LIKE 'workflow|%' OR persistence_id LIKE 'schedule|%'")) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
