package dev.keel.http;

import static dev.keel.http.HttpApi.blankToNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import dev.keel.workflow.execution.WorkflowService;
import dev.keel.workflow.readmodel.WorkflowReadModel.BadCursorException;
import dev.keel.workflow.schedule.InvalidCronException;
import dev.keel.workflow.schedule.Schedule;
import dev.keel.workflow.schedule.ScheduleReadModel;
import dev.keel.workflow.schedule.ScheduleService;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/** {@code /api/v1/schedules} and {@code /api/v1/schedules/{id}}: translation only. */
public final class ScheduleRoutes {

  private static final Set<String> FIELDS = Set.of("workflow", "cron", "timezone", "input", "paused");
  private static final Set<String> LIST_PARAMS = Set.of("workflow", "paused", "limit", "cursor");

  private final HttpApi api;
  private final ScheduleService schedules;
  private final ScheduleReadModel readModel;
  private final WorkflowService workflows;

  public ScheduleRoutes(HttpApi api, ScheduleService schedules, WorkflowService workflows, ScheduleReadModel readModel) {
    this.api = api;
    this.schedules = schedules;
    this.workflows = workflows;
    this.readModel = readModel;
  }

  public Route routes() {
    return api.pathPrefix("schedules", () -> api.concat(
        api.pathEndOrSingleSlash(() -> api.get(() -> api.parameterMap(this::list))),
        api.path(PathMatchers.segment(), rawId -> {
          String id = HttpApi.requireId("id", rawId);
          return api.concat(
              api.put(() -> api.jsonBody(false, body -> put(id, body))),
              api.get(() -> api.answerOk(schedules.get(id))),
              api.delete(() -> api.answer(schedules.delete(id), done -> HttpResponse.create().withStatus(StatusCodes.NO_CONTENT))));
        })));
  }

  private Route list(Map<String, String> params) {
    List<ApiProblem.FieldError> errors = new ArrayList<>();
    int limit = HttpApi.pageLimit(params, LIST_PARAMS, errors);
    String workflow = blankToNull(params.get("workflow"));
    Boolean paused = null;
    String pausedParam = blankToNull(params.get("paused"));
    if (pausedParam != null) {
      if (pausedParam.equals("true") || pausedParam.equals("false")) paused = Boolean.valueOf(pausedParam);
      else errors.add(new ApiProblem.FieldError("paused", "must be true or false"));
    }
    String cursor = blankToNull(params.get("cursor"));
    if (cursor != null) {
      try {
        ScheduleReadModel.decodeCursor(cursor);
      } catch (BadCursorException e) {
        errors.add(new ApiProblem.FieldError("cursor", e.getMessage()));
      }
    }
    if (!errors.isEmpty()) throw ApiProblem.badRequest("the list request has invalid parameters", errors);
    return api.answerOk(readModel.list(workflow, paused, null, limit, cursor));
  }

  private Route put(String id, JsonNode body) {
    List<ApiProblem.FieldError> errors = new ArrayList<>();
    BodyFields fields = new BodyFields(body, FIELDS, errors);
    String workflow = fields.text("workflow", true);
    String cron = fields.text("cron", true);
    String timezone = fields.text("timezone", false);
    boolean paused = fields.bool("paused", false);
    if (workflow != null && workflows.definitions().stream().noneMatch(d -> d.name().equals(workflow))) {
      errors.add(new ApiProblem.FieldError("workflow", "no workflow named '" + workflow + "' is registered"));
    }
    Schedule.ScheduleDefinition definition = new Schedule.ScheduleDefinition(workflow, cron, timezone == null ? "UTC" : timezone,
        body.has("input") ? body.get("input") : NullNode.getInstance(), paused, null);
    if (cron != null && errors.stream().noneMatch(e -> e.field().equals("timezone"))) {
      try {
        schedules.validate(definition);
      } catch (InvalidCronException e) {
        errors.add(new ApiProblem.FieldError(e.field(), e.getMessage()));
      }
    }
    if (!errors.isEmpty()) throw ApiProblem.badRequest("the schedule has invalid fields", errors);
    return api.answer(schedules.put(id, definition),
        result -> api.json(result.created() ? StatusCodes.CREATED : StatusCodes.OK, result.view()));
  }
}
