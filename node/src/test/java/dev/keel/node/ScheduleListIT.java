package dev.keel.node;

import static dev.keel.node.NodeHttp.JSON;
import static dev.keel.node.NodeHttp.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.workflow.execution.NodeWorkflowRegistry;
import dev.keel.workflow.sdk.InputProblem;
import dev.keel.workflow.sdk.Workflow;
import dev.keel.workflow.sdk.WorkflowContext;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * {@code GET /api/v1/schedules} on a real node on the embedded H2: the list comes from the schedule
 * projection, so it is awaited, then paged, filtered and shrunk by a delete.
 */
class ScheduleListIT {

  private static final List<String> SUMMARY_FIELDS =
      List.of(
          "id",
          "workflow",
          "cron",
          "timezone",
          "paused",
          "tenantId",
          "nextRunAt",
          "lastRunWorkflowId",
          "lastRunAt",
          "createdAt",
          "updatedAt");

  @Test
  void listsPagesFiltersAndForgetsDeletedSchedules() throws Exception {
    Path dir = Files.createTempDirectory("keel-it-schedules");
    try (KeelNode node = NodeHttp.start(Map.of("keel.node.data-dir", dir.toString()))) {
      NodeHttp api = NodeHttp.ready(node);

      // Yearly ticks, so that none falls while the test runs.
      assertThat(
              api.send(
                      "PUT",
                      "/api/v1/schedules/list-a",
                      "{\"workflow\":\"example\",\"cron\":\"0 3 1 1"
                          + " *\",\"timezone\":\"Europe/Berlin\",\"input\":{\"userId\":\"a\",\"action\":\"x\"}}")
                  .statusCode())
          .isEqualTo(201);
      assertThat(
              api.send(
                      "PUT",
                      "/api/v1/schedules/list-b",
                      "{\"workflow\":\"example\",\"cron\":\"0 4 1 1"
                          + " *\",\"paused\":true,\"input\":{\"userId\":\"u-1\"}}")
                  .statusCode())
          .isEqualTo(201);
      assertThat(
              api.send(
                      "PUT",
                      "/api/v1/schedules/list-c",
                      "{\"workflow\":\"http-sequence\",\"cron\":\"0 5 1 1"
                          + " *\",\"timezone\":\"UTC\",\"input\":{\"steps\":[{\"name\":\"call\",\"request\":{\"method\":\"GET\",\"url\":\"https://example.com/\"}}]}}")
                  .statusCode())
          .isEqualTo(201);

      JsonNode all =
          api.await(
              "/api/v1/schedules", list -> list.get("items").size() == 3, "listed 3 schedules");
      assertThat(ids(all)).containsExactly("list-a", "list-b", "list-c");
      assertThat(all.get("nextCursor").isNull()).isTrue();
      // Each item shows what GET of the schedule shows (but the input).
      for (JsonNode item : all.get("items")) {
        JsonNode view =
            JSON.readTree(
                api.send("GET", "/api/v1/schedules/" + item.get("id").asText(), null).body());
        for (String field : SUMMARY_FIELDS) {
          assertThat(item.get(field)).as(item.get("id") + " " + field).isEqualTo(view.get(field));
        }
      }
      JsonNode a = all.get("items").get(0);
      assertThat(a.get("nextRunAt").asText())
          .matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
      assertThat(a.get("timezone").asText()).isEqualTo("Europe/Berlin");
      assertThat(all.get("items").get(1).get("paused").asBoolean()).isTrue();
      assertThat(all.get("items").get(1).get("nextRunAt").isNull()).isTrue();

      // Pages of two: the cursor leads to the rest, and the last page has none.
      JsonNode first = json(api.send("GET", "/api/v1/schedules?limit=2", null));
      assertThat(ids(first)).containsExactly("list-a", "list-b");
      String cursor = first.get("nextCursor").asText();
      assertThat(cursor).isNotBlank();
      JsonNode second = json(api.send("GET", "/api/v1/schedules?limit=2&cursor=" + cursor, null));
      assertThat(ids(second)).containsExactly("list-c");
      assertThat(second.get("nextCursor").isNull()).isTrue();

      assertThat(ids(json(api.send("GET", "/api/v1/schedules?workflow=http-sequence", null))))
          .containsExactly("list-c");
      assertThat(
              ids(
                  json(
                      api.send(
                          "GET",
                          "/api/v1/schedules?workflow=example&limit=1&cursor=" + cursor,
                          null))))
          .isEmpty();
      assertThat(ids(json(api.send("GET", "/api/v1/schedules?paused=true", null))))
          .containsExactly("list-b");
      assertThat(
              ids(json(api.send("GET", "/api/v1/schedules?paused=false&workflow=example", null))))
          .containsExactly("list-a");

      // A deleted schedule leaves the list once the projection has seen the delete.
      assertThat(api.send("DELETE", "/api/v1/schedules/list-b", null).statusCode()).isEqualTo(204);
      JsonNode afterDelete =
          api.await("/api/v1/schedules", list -> !ids(list).contains("list-b"), "dropped list-b");
      assertThat(ids(afterDelete)).containsExactly("list-a", "list-c");

      assertProblem(
          api.send("GET", "/api/v1/schedules?limit=501&paused=maybe&sort=id&cursor=***", null),
          400,
          "limit",
          "paused",
          "sort",
          "cursor");
      assertProblem(api.send("GET", "/api/v1/schedules?limit=ten", null), 400, "limit");
      assertProblem(api.sendAuth("GET", "/api/v1/schedules", null, null), 401);
      assertProblem(api.send("POST", "/api/v1/schedules", "{}"), 405);
    }
  }

  @Test
  void inputThatDoesNotBindIsRefusedAndATickThatCannotStartShowsWhy() throws Exception {
    Path dir = Files.createTempDirectory("keel-it-schedule-errors");
    PickyWorkflow picky = new PickyWorkflow();
    try (KeelNode node =
        NodeHttp.start(
            Map.of("keel.node.data-dir", dir.toString(), "keel.schedules.tick-retry-backoff", "2s"),
            new NodeWorkflowRegistry().register(picky))) {
      NodeHttp api = NodeHttp.ready(node);

      // Input is checked as a start of the workflow would check it, and nothing is defined.
      assertProblem(
          api.send(
              "PUT",
              "/api/v1/schedules/minutely",
              "{\"workflow\":\"example\",\"cron\":\"* * * * *\"," + "\"input\":{\"userId\":7}}"),
          400,
          "input.userId");
      assertProblem(
          api.send(
              "PUT",
              "/api/v1/schedules/minutely",
              "{\"workflow\":\"example\",\"cron\":\"* * * * *\"}"),
          400,
          "input");
      assertThat(api.send("GET", "/api/v1/schedules/minutely", null).statusCode()).isEqualTo(404);

      // A good schedule whose workflow then refuses its input (as a plug-in upgraded with a
      // stricter input would): every tick's start fails, and GET says why.
      HttpResponse<String> put =
          api.send(
              "PUT",
              "/api/v1/schedules/minutely",
              "{\"workflow\":\"picky\",\"cron\":\"* * * * *\",\"input\":{\"userId\":\"u-1\"}}");
      assertThat(put.statusCode()).as(put.body()).isEqualTo(201);
      assertThat(JSON.readTree(put.body()).get("lastError").isNull()).isTrue();
      picky.strict.set(true);

      JsonNode failing = null;
      long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
      while (System.nanoTime() < deadline) {
        failing = JSON.readTree(api.send("GET", "/api/v1/schedules/minutely", null).body());
        if (failing.get("failedStarts").asInt() >= 2) break;
        Thread.sleep(500);
      }
      assertThat(failing.get("failedStarts").asInt())
          .as(failing.toString())
          .isGreaterThanOrEqualTo(2);
      assertThat(failing.get("lastError").asText())
          .isEqualTo("the input does not fit the workflow: input.userId must start with 'user-'");
      Instant lastErrorAt = Instant.parse(failing.get("lastErrorAt").asText());
      assertThat(Instant.parse(failing.get("nextRetryAt").asText())).isAfter(lastErrorAt);
      assertThat(failing.get("lastRunWorkflowId").isNull()).isTrue();
      assertThat(api.sendAuth("GET", "/metrics", null, null).body())
          .containsPattern("keel_schedules_tick_failures_total(\\{[^}]*\\})? [2-9]");

      // A new input that binds is tried at once.
      HttpResponse<String> fixed =
          api.send(
              "PUT",
              "/api/v1/schedules/minutely",
              "{\"workflow\":\"picky\",\"cron\":\"* * * * *\",\"input\":{\"userId\":\"user-1\"}}");
      assertThat(fixed.statusCode()).as(fixed.body()).isEqualTo(200);
      JsonNode started =
          api.await(
              "/api/v1/schedules/minutely",
              s -> !s.get("lastRunWorkflowId").isNull(),
              "started a tick");
      assertThat(started.get("lastError").isNull()).isTrue();
      assertThat(started.get("failedStarts").asInt()).isZero();
    }
  }

  /** Takes any {@code userId} until {@code strict}, then only those starting with {@code user-}. */
  static final class PickyWorkflow implements Workflow<PickyWorkflow.Input, String> {
    record Input(String userId) {}

    final AtomicBoolean strict = new AtomicBoolean();

    @Override
    public String name() {
      return "picky";
    }

    @Override
    public Class<Input> inputType() {
      return Input.class;
    }

    @Override
    public List<InputProblem> validate(Input input) {
      if (input == null) return List.of(new InputProblem("input", "required"));
      if (strict.get() && (input.userId() == null || !input.userId().startsWith("user-"))) {
        return List.of(new InputProblem("userId", "must start with 'user-'"));
      }
      return List.of();
    }

    @Override
    public String run(WorkflowContext ctx, Input input) {
      return input.userId();
    }
  }

  private static JsonNode json(HttpResponse<String> response) throws Exception {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    return JSON.readTree(response.body());
  }

  private static List<String> ids(JsonNode list) {
    List<String> ids = new ArrayList<>();
    for (JsonNode item : list.get("items")) ids.add(item.get("id").asText());
    return ids;
  }
}
