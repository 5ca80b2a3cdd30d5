package dev.keel.http;

import static dev.keel.http.HttpApi.blankToNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import dev.keel.workflow.execution.ExecutionView;
import dev.keel.workflow.execution.WorkflowService;
import dev.keel.workflow.readmodel.WorkflowReadModel;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/** {@code /api/v1/workflows} and {@code /api/v1/workflow-definitions}: translation only. */
public final class WorkflowRoutes {

  private static final Set<String> START_FIELDS = Set.of("workflow", "id", "input");
  private static final Set<String> LIST_PARAMS = Set.of("status", "workflow", "limit", "cursor");

  private final HttpApi api;
  private final WorkflowService workflows;
  private final WorkflowReadModel readModel;
  private final Duration longPollMax;

  public WorkflowRoutes(HttpApi api, WorkflowService workflows, WorkflowReadModel readModel, Duration longPollMax) {
    this.api = api;
    this.workflows = workflows;
    this.readModel = readModel;
    this.longPollMax = longPollMax;
  }

  public Route routes() {
    return api.concat(
        api.path("workflow-definitions", () -> api.get(() ->
            api.complete(api.json(StatusCodes.OK, Map.of("items", workflows.definitions()))))),
        api.pathPrefix("workflows", () -> api.concat(
            api.pathEndOrSingleSlash(() -> api.concat(
                api.post(() -> api.jsonBody(false, this::start)),
                api.get(() -> api.parameterMap(this::list)))),
            api.pathPrefix(PathMatchers.segment(), rawId -> {
              String id = HttpApi.requirePathId(rawId);
              return api.concat(
                  api.pathEnd(() -> api.get(() -> api.parameterOptional("wait", wait -> get(id, wait)))),
                  api.path("cancel", () -> api.post(() -> api.jsonBody(true, body -> cancel(id, body)))),
                  api.path("pause", () -> api.post(() -> api.answer(workflows.pause(id), v -> api.json(StatusCodes.ACCEPTED, v)))),
                  api.path("resume", () -> api.post(() -> api.answer(workflows.resume(id), v -> api.json(StatusCodes.ACCEPTED, v)))),
                  api.path(PathMatchers.segment("signals").slash(PathMatchers.segment()), name ->
                      api.post(() -> api.jsonBody(true, body -> signal(id, name, body)))),
                  api.path("history", () -> api.get(() -> history(id))));
            }))));
  }

  private Route start(JsonNode body) {
    if (!body.isObject()) throw ApiProblem.badRequest("body", "must be a JSON object");
    List<ApiProblem.FieldError> errors = new ArrayList<>();
    for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
      String field = it.next();
      if (!START_FIELDS.contains(field)) errors.add(new ApiProblem.FieldError(field, "is not a known field"));
    }
    JsonNode workflow = body.get("workflow");
    if (workflow == null || workflow.isNull()) errors.add(new ApiProblem.FieldError("workflow", "is required"));
    else if (!workflow.isTextual()) errors.add(new ApiProblem.FieldError("workflow", "must be a string"));
    else if (!HttpApi.CLIENT_ID.matcher(workflow.asText()).matches()) errors.add(new ApiProblem.FieldError("workflow", "is not a workflow name"));
    JsonNode id = body.get("id");
    String executionId = null;
    if (id != null && !id.isNull()) {
      if (!id.isTextual()) errors.add(new ApiProblem.FieldError("id", "must be a string"));
      else if (!HttpApi.CLIENT_ID.matcher(id.asText()).matches()) errors.add(new ApiProblem.FieldError("id", "must match " + HttpApi.CLIENT_ID.pattern()));
      else executionId = id.asText();
    }
    if (!errors.isEmpty()) throw ApiProblem.badRequest("the start request has invalid fields", errors);
    // Keel-chosen ids are opaque; a client that wants safe retries chooses its own.
    String chosenId = executionId != null ? executionId : "wf-" + UUID.randomUUID();
    JsonNode input = body.has("input") ? body.get("input") : NullNode.getInstance();
    return api.answer(workflows.startExecution(chosenId, workflow.asText(), input, null),
        accepted -> api.json(accepted.created() ? StatusCodes.CREATED : StatusCodes.OK, accepted.execution()));
  }

  private Route get(String id, Optional<String> wait) {
    if (wait.isEmpty()) return api.answerOk(workflows.get(id));
    Duration duration;
    try {
      duration = wait.get().matches("\\d+") ? Duration.ofSeconds(Long.parseLong(wait.get())) : Duration.parse(wait.get());
    } catch (DateTimeParseException | ArithmeticException e) {
      throw ApiProblem.badRequest("wait", "must be an ISO-8601 duration such as PT30S");
    }
    if (duration.isNegative()) throw ApiProblem.badRequest("wait", "must not be negative");
    if (duration.compareTo(longPollMax) > 0) duration = longPollMax;
    if (duration.isZero()) return api.answerOk(workflows.get(id));
    return api.answerOk(workflows.awaitFinal(id, duration));
  }

  private Route list(Map<String, String> params) {
    List<ApiProblem.FieldError> errors = new ArrayList<>();
    int limit = HttpApi.pageLimit(params, LIST_PARAMS, errors);
    String status = blankToNull(params.get("status"));
    if (status != null && !WorkflowReadModel.STATUSES.contains(status)) {
      errors.add(new ApiProblem.FieldError("status", "must be one of " + String.join(", ", new java.util.TreeSet<>(WorkflowReadModel.STATUSES))));
    }
    String workflow = blankToNull(params.get("workflow"));
    if (!errors.isEmpty()) throw ApiProblem.badRequest("the list request has invalid parameters", errors);
    try {
      return api.answerOk(readModel.list(status, workflow, null, limit, blankToNull(params.get("cursor"))));
    } catch (WorkflowReadModel.BadCursorException e) {
      throw ApiProblem.badRequest("cursor", e.getMessage());
    }
  }

  private Route cancel(String id, JsonNode body) {
    String reason = null;
    if (!body.isNull()) {
      if (!body.isObject()) throw ApiProblem.badRequest("body", "must be a JSON object");
      JsonNode r = body.get("reason");
      if (r != null && !r.isNull() && !r.isTextual()) throw ApiProblem.badRequest("reason", "must be a string");
      if (r != null && r.isTextual()) {
        if (r.asText().length() > 1000) throw ApiProblem.badRequest("reason", "must be at most 1000 characters");
        reason = r.asText();
      }
    }
    return api.answer(workflows.cancel(id, reason), v -> api.json(StatusCodes.ACCEPTED, v));
  }

  private Route signal(String id, String name, JsonNode body) {
    HttpApi.requireId("name", name);
    return api.answer(workflows.signal(id, name, body), done -> api.json(StatusCodes.ACCEPTED, Map.of("workflowId", id, "signal", name)));
  }

  private Route history(String id) {
    return api.answer(workflows.history(id).thenCompose(entries -> {
      if (entries.isEmpty()) return CompletableFuture.failedFuture(ApiProblem.notFound("workflow '" + id + "' does not exist"));
      return CompletableFuture.completedFuture(entries.stream()
          .map(e -> new HistoryEntry(e.seq(), e.at(), e.type(), e.data())).toList());
    }), entries -> api.json(StatusCodes.OK, entries));
  }

  /** One journaled event as {@code /history} shows it. */
  public record HistoryEntry(long seq, java.time.Instant at, String type, JsonNode data) {}


}
