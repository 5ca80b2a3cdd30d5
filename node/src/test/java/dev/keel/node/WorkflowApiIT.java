package dev.keel.node;

import static dev.keel.node.NodeHttp.JSON;
import static dev.keel.node.NodeHttp.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.persistence.DatabaseSettings;
import dev.keel.persistence.TestDatabases;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A real node in this JVM, driven over HTTP the way another service would, on the embedded H2 and
 * on PostgreSQL: the happy path, restarts, and bad input that must answer 4xx and change nothing.
 */
class WorkflowApiIT {

  @Test
  void onEmbeddedH2() throws Exception {
    Path dir = Files.createTempDirectory("keel-it-h2");
    exercise(Map.of("keel.node.data-dir", dir.toString()), DatabaseSettings.embedded(dir));
  }

  @Test
  void onPostgres() throws Exception {
    try (TestDatabases.FreshPostgres pg = TestDatabases.freshPostgres()) {
      Path dir = Files.createTempDirectory("keel-it-pg");
      exercise(
          Map.of(
              "keel.node.data-dir",
              dir.toString(),
              "keel.database.url",
              pg.settings().url(),
              "keel.database.user",
              pg.settings().user()),
          pg.settings());
    }
  }

  private void exercise(Map<String, String> db, DatabaseSettings dbSettings) throws Exception {
    try (KeelNode node = NodeHttp.start(db)) {
      NodeHttp api = NodeHttp.ready(node);

      // A start is acknowledged once journaled; the same start again is idempotent.
      String start =
          "{\"workflow\":\"example\",\"id\":\"it-1\",\"input\":{\"userId\":\"u-1\",\"action\":\"signup\"}}";
      assertThat(api.send("POST", "/api/v1/workflows", start).statusCode()).isEqualTo(201);
      assertThat(api.send("POST", "/api/v1/workflows", start).statusCode()).isEqualTo(200);
      HttpResponse<String> done = api.send("GET", "/api/v1/workflows/it-1?wait=PT30S", null);
      JsonNode execution = JSON.readTree(done.body());
      assertThat(execution.get("status").asText()).isEqualTo("completed");
      assertThat(execution.get("output").get("summary").asText()).isEqualTo("signup done for u-1");
      assertThat(execution.get("steps")).hasSize(3);
      assertThat(execution.get("createdAt").asText())
          .matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");

      // Start and wait in one request: answered once final, with the start's status code.
      HttpResponse<String> startedAndDone =
          api.send("POST", "/api/v1/workflows?wait=PT30S", start.replace("it-1", "it-2"));
      assertThat(startedAndDone.statusCode()).isEqualTo(201);
      assertThat(JSON.readTree(startedAndDone.body()).get("status").asText())
          .isEqualTo("completed");
      assertThat(JSON.readTree(startedAndDone.body()).get("output").get("summary").asText())
          .isEqualTo("signup done for u-1");
      // When the wait runs out first, the answer is the execution as it is then.
      String awaitsSignal =
          "{\"workflow\":\"http-sequence\",\"id\":\"it-waits\",\"input\":{\"steps\":"
              + "[{\"name\":\"approval\",\"signal\":\"approve\",\"timeout\":\"P3D\"}]}}";
      HttpResponse<String> notYet = api.send("POST", "/api/v1/workflows?wait=PT1S", awaitsSignal);
      assertThat(notYet.statusCode()).isEqualTo(201);
      assertThat(JSON.readTree(notYet.body()).get("status").asText()).isEqualTo("waiting");
      HttpResponse<String> again = api.send("POST", "/api/v1/workflows?wait=PT1S", awaitsSignal);
      assertThat(again.statusCode()).isEqualTo(200);
      assertThat(JSON.readTree(again.body()).get("status").asText()).isEqualTo("waiting");
      // Cancelled while it waits: the wait ends as cancelled too, not waiting for ever.
      assertThat(
              api.send("POST", "/api/v1/workflows/it-waits/cancel", "{\"reason\":\"withdrawn\"}")
                  .statusCode())
          .isEqualTo(202);
      JsonNode cancelled =
          JSON.readTree(api.send("GET", "/api/v1/workflows/it-waits", null).body());
      assertThat(cancelled.get("status").asText()).isEqualTo("cancelled");
      assertThat(cancelled.get("steps").get(0).get("status").asText()).isEqualTo("cancelled");
      assertThat(cancelled.get("steps").get(0).get("dueAt").isNull()).isTrue();

      // A step that rejects its input fails the workflow with the error recorded.
      api.send(
          "POST",
          "/api/v1/workflows",
          "{\"workflow\":\"example\",\"id\":\"it-bad-user\",\"input\":{\"userId\":\"\",\"action\":\"x\"}}");
      JsonNode failed =
          JSON.readTree(api.send("GET", "/api/v1/workflows/it-bad-user?wait=PT30S", null).body());
      assertThat(failed.get("status").asText()).isEqualTo("failed");
      assertThat(failed.get("error").asText()).contains("validate").contains("userId");

      JsonNode history =
          JSON.readTree(api.send("GET", "/api/v1/workflows/it-1/history", null).body());
      assertThat(history.get(0).get("type").asText()).isEqualTo("WorkflowStarted");
      assertThat(history.get(history.size() - 1).get("type").asText())
          .isEqualTo("WorkflowCompleted");
      long stepsCompleted = 0;
      for (JsonNode e : history)
        if (e.get("type").asText().equals("StepCompleted")) stepsCompleted++;
      assertThat(stepsCompleted).isEqualTo(3);

      // The list comes from the projection: eventually consistent, within a few seconds.
      JsonNode list =
          api.await(
              "/api/v1/workflows?status=completed&workflow=example",
              n -> n.get("items").size() >= 2,
              "listed the completed executions");
      assertThat(list.get("items").findValuesAsText("id"))
          .containsExactlyInAnyOrder("it-1", "it-2");

      // Schedules: a good one is stored with its next run, a bad cron is a 400 naming the field.
      HttpResponse<String> schedule =
          api.send(
              "PUT",
              "/api/v1/schedules/nightly",
              "{\"workflow\":\"example\",\"cron\":\"0 3 * *"
                  + " *\",\"timezone\":\"Europe/Berlin\",\"input\":{\"userId\":\"s\",\"action\":\"nightly\"}}");
      assertThat(schedule.statusCode()).isEqualTo(201);
      assertThat(JSON.readTree(schedule.body()).get("nextRunAt").isNull()).isFalse();

      long eventsBefore = NodeHttp.journalEvents(dbSettings, "workflow", "schedule");
      assertProblem(api.send("POST", "/api/v1/workflows", "{\"workflow\":"), 400, "body");
      assertProblem(
          api.send("POST", "/api/v1/workflows", "{\"workflow\":42,\"id\":\"bad id!\",\"extra\":1}"),
          400,
          "workflow",
          "id",
          "extra");
      assertProblem(
          api.send(
              "POST", "/api/v1/workflows", "{\"workflow\":\"example\",\"input\":{\"userId\":[1]}}"),
          400,
          "input.userId");
      // A scalar of another type is not converted: 7 is not the string "7", 1.5 not the integer 1.
      assertProblem(
          api.send(
              "POST", "/api/v1/workflows", "{\"workflow\":\"example\",\"input\":{\"userId\":7}}"),
          400,
          "input.userId");
      assertProblem(
          api.send(
              "POST",
              "/api/v1/workflows",
              "{\"workflow\":\"http-sequence\",\"input\":{\"steps\":[{\"name\":\"call\","
                  + "\"request\":{\"method\":\"GET\",\"url\":\"http://127.0.0.1:1/\",\"timeoutSeconds\":1.5}}]}}"),
          400,
          "input.steps[0].request.timeoutSeconds");
      assertProblem(
          api.send("POST", "/api/v1/workflows", "{\"workflow\":\"no-such-workflow\"}"), 404);
      assertProblem(api.send("POST", "/api/v1/workflows", start.replace("signup", "other")), 409);
      assertProblem(
          api.send(
              "POST",
              "/api/v1/workflows",
              "{\"workflow\":\"example\",\"input\":{\"userId\":\""
                  + "x".repeat(1_100_000)
                  + "\"}}"),
          413);
      assertProblem(
          api.sendTyped("POST", "/api/v1/workflows", "workflow=example", "text/plain"), 415);
      assertProblem(api.sendAuth("GET", "/api/v1/workflows/it-1", null, null), 401);
      assertProblem(api.sendAuth("GET", "/api/v1/workflows/it-1", null, "wrong-token"), 401);
      assertProblem(api.send("GET", "/api/v1/workflows/does-not-exist", null), 404);
      assertProblem(
          api.send("GET", "/api/v1/workflows?status=bogus&limit=9999", null),
          400,
          "status",
          "limit");
      assertProblem(api.send("GET", "/api/v1/workflows/it-1?wait=forever", null), 400, "wait");
      assertProblem(
          api.send("POST", "/api/v1/workflows?wait=forever", start.replace("it-1", "it-never")),
          400,
          "wait");
      assertProblem(
          api.send("POST", "/api/v1/workflows?wait=-PT1S", start.replace("it-1", "it-never")),
          400,
          "wait");
      assertProblem(
          api.send("POST", "/api/v1/workflows/it-1/cancel", "{\"reason\":\"late\"}"), 409);
      assertProblem(
          api.send(
              "PUT", "/api/v1/schedules/s1", "{\"workflow\":\"example\",\"cron\":\"0 25 * * *\"}"),
          400,
          "cron");
      assertProblem(
          api.send(
              "PUT",
              "/api/v1/schedules/s1",
              "{\"workflow\":\"example\",\"cron\":\"* * * * *\",\"timezone\":\"Mars/Base\"}"),
          400,
          "timezone");
      assertProblem(api.send("DELETE", "/api/v1/workflows", null), 405);
      assertThat(NodeHttp.journalEvents(dbSettings, "workflow", "schedule"))
          .as("bad requests write nothing")
          .isEqualTo(eventsBefore);
    }

    // A restarted node on the same database has every acknowledged write.
    try (KeelNode again = NodeHttp.start(db)) {
      NodeHttp api2 = NodeHttp.ready(again);
      JsonNode execution = JSON.readTree(api2.send("GET", "/api/v1/workflows/it-1", null).body());
      assertThat(execution.get("status").asText()).isEqualTo("completed");
      assertThat(
              JSON.readTree(api2.send("GET", "/api/v1/workflows/it-waits", null).body())
                  .get("steps")
                  .get(0)
                  .get("status")
                  .asText())
          .isEqualTo("cancelled");
      assertThat(
              JSON.readTree(api2.send("GET", "/api/v1/schedules/nightly", null).body())
                  .get("cron")
                  .asText())
          .isEqualTo("0 3 * * *");
      assertThat(api2.send("DELETE", "/api/v1/schedules/nightly", null).statusCode())
          .isEqualTo(204);
      assertProblem(api2.send("GET", "/api/v1/schedules/nightly", null), 404);
    }
  }
}
