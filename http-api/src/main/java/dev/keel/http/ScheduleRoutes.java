package dev.keel.http;

import static dev.keel.http.HttpApi.blankToNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import dev.keel.persistence.BadCursorException;
import dev.keel.persistence.RequestScope;
import dev.keel.workflow.execution.InvalidInputException;
import dev.keel.workflow.execution.WorkflowService;
import dev.keel.workflow.schedule.InvalidCronException;
import dev.keel.workflow.schedule.Schedule;
import dev.keel.workflow.schedule.ScheduleReadModel;
import dev.keel.workflow.schedule.ScheduleService;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/** {@code /api/v1/schedules} and {@code /api/v1/schedules/{id}}: translation only. */
public final class ScheduleRoutes {

  private static final Set<String> FIELDS =
      Set.of("workflow", "cron", "timezone", "input", "paused", "tenantId");
  private static final Set<String> LIST_PARAMS =
      Set.of("workflow", "paused", "tenantId", "limit", "cursor");

  private final HttpApi api;
  private final ScheduleService schedules;
  private final ScheduleReadModel readModel;
  private final WorkflowService workflows;

  public ScheduleRoutes(
      HttpApi api,
      ScheduleService schedules,
      WorkflowService workflows,
      ScheduleReadModel readModel) {
    this.api = api;
    this.schedules = schedules;
    this.workflows = workflows;
    this.readModel = readModel;
  }

  public Route routes(Caller caller) {
    return api.pathPrefix(
        "schedules",
        () ->
            api.concat(
                api.pathEndOrSingleSlash(
                    () -> api.get(() -> api.parameterMap(params -> list(caller, params)))),
                api.path(
                    PathMatchers.segment(),
                    rawId -> {
                      String id = HttpApi.requireId("id", rawId);
                      return api.concat(
                          api.put(() -> api.jsonBody(false, body -> put(caller, id, body))),
                          api.get(() -> api.answerOk(visible(caller, id, () -> schedules.get(id)))),
                          api.delete(
                              () ->
                                  api.answer(
                                      visible(caller, id, () -> schedules.delete(id)),
                                      done ->
                                          HttpResponse.create()
                                              .withStatus(StatusCodes.NO_CONTENT))));
                    })));
  }

  private <T> CompletionStage<T> visible(
      Caller caller, String id, Supplier<CompletionStage<T>> action) {
    return HttpApi.visible(
        caller,
        () -> schedules.get(id),
        Schedule.ScheduleView::tenantId,
        action,
        () -> ApiProblem.notFound("schedule '" + id + "' does not exist"));
  }

  private Route list(Caller caller, Map<String, String> params) {
    List<ApiProblem.FieldError> errors = new ArrayList<>();
    int limit = HttpApi.pageLimit(params, LIST_PARAMS, errors);
    String workflow = blankToNull(params.get("workflow"));
    Boolean paused = null;
    String pausedParam = blankToNull(params.get("paused"));
    if (pausedParam != null) {
      if (pausedParam.equals("true") || pausedParam.equals("false"))
        paused = Boolean.valueOf(pausedParam);
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
    if (!errors.isEmpty())
      throw ApiProblem.badRequest("the list request has invalid parameters", errors);
    String tenantId =
        caller.clusterWide() ? blankToNull(params.get("tenantId")) : caller.tenantId();
    return api.answerOk(readModel.list(workflow, paused, tenantId, limit, cursor));
  }

  private Route put(Caller caller, String id, JsonNode body) {
    List<ApiProblem.FieldError> errors = new ArrayList<>();
    BodyFields fields = new BodyFields(body, FIELDS, errors);
    String namedTenant = fields.text("tenantId", false);
    String tenantId = HttpApi.owner(caller, namedTenant, errors);
    String workflow = fields.text("workflow", true);
    String cron = fields.text("cron", true);
    String timezone = fields.text("timezone", false);
    boolean paused = fields.bool("paused", false);
    if (workflow != null
        && workflows.definitions().stream().noneMatch(d -> d.name().equals(workflow))) {
      errors.add(
          new ApiProblem.FieldError(
              "workflow", "no workflow named '" + workflow + "' is registered"));
    }
    Schedule.ScheduleDefinition definition =
        new Schedule.ScheduleDefinition(
            workflow,
            cron,
            timezone == null ? "UTC" : timezone,
            body.has("input") ? body.get("input") : NullNode.getInstance(),
            paused,
            tenantId);
    if (cron != null && errors.stream().noneMatch(e -> e.field().equals("timezone"))) {
      try {
        schedules.validate(definition);
      } catch (InvalidCronException e) {
        errors.add(new ApiProblem.FieldError(e.field(), e.getMessage()));
      }
    }
    // A workflow the caller may not start is a 403 below, whatever its input.
    if (workflow != null
        && errors.stream().noneMatch(e -> e.field().equals("workflow"))
        && (caller.admin() || !workflows.adminOnly(workflow))) {
      try {
        schedules.checkInput(definition);
      } catch (InvalidInputException e) {
        e.problems().forEach(p -> errors.add(new ApiProblem.FieldError(p.field(), p.message())));
      }
    }
    if (!errors.isEmpty()) throw ApiProblem.badRequest("the schedule has invalid fields", errors);
    HttpApi.requireMayStart(caller, workflows, workflow);
    return api.answer(
        putAs(caller, id, definition, namedTenant),
        result -> api.json(result.created() ? StatusCodes.CREATED : StatusCodes.OK, result.view()));
  }

  /**
   * Puts the schedule unless it is another tenant's (409: the id is in use). The admin redefining a
   * tenant's schedule without naming a tenant keeps its owner.
   */
  private CompletionStage<Schedule.PutResult> putAs(
      Caller caller, String id, Schedule.ScheduleDefinition definition, String namedTenant) {
    return schedules
        .get(id)
        .handle(
            (existing, failure) -> java.util.Optional.ofNullable(failure == null ? existing : null))
        .thenCompose(
            RequestScope.bound(
                existing -> {
                  if (existing.isPresent() && !caller.sees(existing.get().tenantId())) {
                    return CompletableFuture.<Schedule.PutResult>failedFuture(
                        ApiProblem.conflict(
                            "schedule id '" + id + "' is in use; choose another id"));
                  }
                  Schedule.ScheduleDefinition owned = definition;
                  if (caller.admin() && namedTenant == null && existing.isPresent()) {
                    Schedule.ScheduleDefinition d = definition;
                    owned =
                        new Schedule.ScheduleDefinition(
                            d.workflow(),
                            d.cron(),
                            d.timezone(),
                            d.input(),
                            d.paused(),
                            existing.get().tenantId());
                  }
                  return schedules.put(id, owned);
                }));
  }
}
