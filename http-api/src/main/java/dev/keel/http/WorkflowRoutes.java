package dev.keel.http;

import static dev.keel.http.HttpApi.blankToNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import dev.keel.persistence.BadCursorException;
import dev.keel.persistence.RequestScope;
import dev.keel.persistence.grammar.Ids;
import dev.keel.persistence.grammar.Instants;
import dev.keel.persistence.grammar.InvalidValueException;
import dev.keel.persistence.grammar.Texts;
import dev.keel.tenant.quota.Quota;
import dev.keel.tenant.quota.QuotaAdmission;
import dev.keel.workflow.builtin.BulkActionWorkflow;
import dev.keel.workflow.execution.ExecutionView;
import dev.keel.workflow.execution.WorkflowExecution;
import dev.keel.workflow.execution.WorkflowService;
import dev.keel.workflow.readmodel.WorkflowReadModel;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/** {@code /api/v1/workflows} and {@code /api/v1/workflow-definitions}: translation only. */
public final class WorkflowRoutes {

  private static final Set<String> START_FIELDS = Set.of("workflow", "id", "input", "tenantId");
  private static final Set<String> RERUN_FIELDS = Set.of("fromStep", "id");
  private static final Set<String> BULK_FIELDS = Set.of("filter", "reason");
  private static final List<String> BULK_FILTER_FIELDS =
      List.of("status", "workflow", "tenantId", "createdAfter", "createdBefore");
  private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
      new com.fasterxml.jackson.databind.ObjectMapper();
  private static final Set<String> LIST_PARAMS =
      Set.of("status", "workflow", "tenantId", "from", "to", "idPrefix", "limit", "cursor");
  private static final Set<String> COUNT_PARAMS =
      Set.of("workflow", "tenantId", "from", "to", "idPrefix");

  private final HttpApi api;
  private final WorkflowService workflows;
  private final WorkflowReadModel readModel;
  private final Duration longPollMax;
  private final QuotaAdmission quotas;

  public WorkflowRoutes(
      HttpApi api,
      WorkflowService workflows,
      WorkflowReadModel readModel,
      Duration longPollMax,
      QuotaAdmission quotas) {
    this.api = api;
    this.workflows = workflows;
    this.readModel = readModel;
    this.longPollMax = longPollMax;
    this.quotas = quotas;
  }

  public Route routes(Caller caller) {
    return api.concat(
        api.path(
            "workflow-definitions",
            () ->
                api.get(
                    () ->
                        api.complete(
                            api.json(StatusCodes.OK, Map.of("items", workflows.definitions()))))),
        api.path(
            "workflow-counts",
            () -> api.get(() -> api.parameterMap(params -> counts(caller, params)))),
        api.pathPrefix(
            "workflows",
            () ->
                api.concat(
                    api.pathEndOrSingleSlash(
                        () ->
                            api.concat(
                                api.post(
                                    () ->
                                        api.parameterOptional(
                                            "wait",
                                            wait -> {
                                              Optional<Duration> bounded =
                                                  wait.map(this::waitParameter);
                                              return api.jsonBody(
                                                  false, body -> start(caller, body, bounded));
                                            })),
                                api.get(() -> api.parameterMap(params -> list(caller, params))))),
                    // Before {id}: an execution named "bulk" is not reachable by these two paths.
                    api.path(
                        PathMatchers.segment("bulk").slash(PathMatchers.segment()),
                        action ->
                            api.post(
                                () -> api.jsonBody(false, body -> bulk(caller, action, body)))),
                    api.pathPrefix(
                        PathMatchers.segment(),
                        rawId -> {
                          String id = HttpApi.requirePathId(rawId);
                          return api.concat(
                              api.pathEnd(
                                  () ->
                                      api.get(
                                          () ->
                                              api.parameterOptional(
                                                  "wait", wait -> get(caller, id, wait)))),
                              api.path(
                                  "cancel",
                                  () ->
                                      api.post(
                                          () ->
                                              api.jsonBody(
                                                  true, body -> cancel(caller, id, body)))),
                              api.path(
                                  "retry",
                                  () ->
                                      api.post(
                                          () ->
                                              api.jsonBody(true, body -> retry(caller, id, body)))),
                              api.path(
                                  "rerun",
                                  () ->
                                      api.post(
                                          () ->
                                              api.jsonBody(
                                                  false, body -> rerun(caller, id, body)))),
                              api.path(
                                  "pause",
                                  () ->
                                      api.post(
                                          () ->
                                              api.answer(
                                                  visible(caller, id, () -> workflows.pause(id)),
                                                  v -> api.json(StatusCodes.ACCEPTED, v)))),
                              api.path(
                                  "resume",
                                  () ->
                                      api.post(
                                          () ->
                                              api.answer(
                                                  visible(caller, id, () -> workflows.resume(id)),
                                                  v -> api.json(StatusCodes.ACCEPTED, v)))),
                              api.path(
                                  PathMatchers.segment("signals").slash(PathMatchers.segment()),
                                  name ->
                                      api.post(
                                          () ->
                                              api.jsonBody(
                                                  true, body -> signal(caller, id, name, body)))),
                              api.path("history", () -> api.get(() -> history(caller, id))));
                        }))));
  }

  /**
   * Runs {@code action} when {@code caller} may see execution {@code id}; another tenant's
   * execution is a 404 exactly like one that does not exist, so that ids don't leak.
   */
  private <T> CompletionStage<T> visible(
      Caller caller, String id, Supplier<CompletionStage<T>> action) {
    return HttpApi.visible(
        caller, () -> workflows.get(id), ExecutionView::tenantId, action, () -> notFound(id));
  }

  private static ApiProblem notFound(String id) {
    return ApiProblem.notFound("workflow '" + id + "' does not exist");
  }

  /**
   * Starts an execution; with {@code wait}, answers once it is final or the wait runs out (the
   * execution as it is then), so that a caller that needs the result makes one request, not two.
   */
  private Route start(Caller caller, JsonNode body, Optional<Duration> wait) {
    List<ApiProblem.FieldError> errors = new ArrayList<>();
    BodyFields fields = new BodyFields(body, START_FIELDS, errors);
    String tenantId = HttpApi.owner(caller, fields.text("tenantId", false), errors);
    JsonNode workflow = body.get("workflow");
    if (workflow == null || workflow.isNull())
      errors.add(new ApiProblem.FieldError("workflow", "is required"));
    else if (!workflow.isTextual())
      errors.add(new ApiProblem.FieldError("workflow", "must be a string"));
    else if (!Ids.PATTERN.matcher(workflow.asText()).matches())
      errors.add(new ApiProblem.FieldError("workflow", "is not a workflow name"));
    JsonNode id = body.get("id");
    String executionId = null;
    if (id != null && !id.isNull()) {
      if (!id.isTextual()) errors.add(new ApiProblem.FieldError("id", "must be a string"));
      else if (!Ids.PATTERN.matcher(id.asText()).matches())
        errors.add(new ApiProblem.FieldError("id", "must match " + Ids.PATTERN.pattern()));
      else executionId = id.asText();
    }
    if (!errors.isEmpty())
      throw ApiProblem.badRequest("the start request has invalid fields", errors);
    HttpApi.requireMayStart(caller, workflows, workflow.asText());
    // Keel-chosen ids are opaque; a client that wants safe retries chooses its own.
    String chosenId = executionId != null ? executionId : "wf-" + UUID.randomUUID();
    JsonNode input = body.has("input") ? body.get("input") : NullNode.getInstance();
    // A new start counts against the owning tenant's plan (429 over it); an existing id is a retry.
    CompletionStage<WorkflowExecution.StartAccepted> journaled =
        quotas.admit(
            tenantId,
            Quota.WORKFLOW_STARTS,
            chosenId,
            RequestScope.bound(
                () -> workflows.startExecution(chosenId, workflow.asText(), input, tenantId)),
            WorkflowExecution.StartAccepted::created);
    CompletionStage<WorkflowExecution.StartAccepted> started =
        wait.filter(d -> !d.isZero())
            .map(d -> journaled.thenCompose(RequestScope.bound(a -> awaitFinal(caller, a, d))))
            .orElse(journaled);
    return api.answer(
        started,
        accepted -> {
          // The same id already started by someone else: its content is not this caller's to see.
          if (!accepted.created() && !caller.sees(accepted.execution().tenantId())) {
            throw ApiProblem.conflict(
                "workflow id '" + chosenId + "' is in use; choose another id");
          }
          return api.json(
              accepted.created() ? StatusCodes.CREATED : StatusCodes.OK, accepted.execution());
        });
  }

  /**
   * A started execution, once final or when {@code wait} runs out; not waited for when not the
   * caller's to see.
   */
  private CompletionStage<WorkflowExecution.StartAccepted> awaitFinal(
      Caller caller, WorkflowExecution.StartAccepted accepted, Duration wait) {
    ExecutionView execution = accepted.execution();
    if (execution.isFinal() || !caller.sees(execution.tenantId()))
      return CompletableFuture.completedFuture(accepted);
    return workflows
        .awaitFinal(execution.id(), wait)
        .thenApply(finalView -> new WorkflowExecution.StartAccepted(accepted.created(), finalView));
  }

  private Route get(Caller caller, String id, Optional<String> wait) {
    Duration bounded = wait.map(this::waitParameter).orElse(Duration.ZERO);
    if (bounded.isZero()) return api.answerOk(visible(caller, id, () -> workflows.get(id)));
    return api.answerOk(visible(caller, id, () -> workflows.awaitFinal(id, bounded)));
  }

  /**
   * {@code ?wait=}: an ISO-8601 duration (or whole seconds), at most the long-poll maximum; a
   * longer one waits the maximum. A value no duration can hold is a 400, as any other bad value.
   */
  private Duration waitParameter(String wait) {
    Duration duration;
    try {
      duration =
          wait.matches("\\d{1,18}")
              ? Duration.ofSeconds(Long.parseLong(wait))
              : Duration.parse(wait);
    } catch (DateTimeParseException | ArithmeticException | NumberFormatException e) {
      throw ApiProblem.badRequest(
          "wait", "must be an ISO-8601 duration such as PT30S, or whole seconds");
    }
    if (duration.isNegative()) throw ApiProblem.badRequest("wait", "must not be negative");
    return duration.compareTo(longPollMax) > 0 ? longPollMax : duration;
  }

  private Route list(Caller caller, Map<String, String> params) {
    List<ApiProblem.FieldError> errors = new ArrayList<>();
    int limit = HttpApi.pageLimit(params, LIST_PARAMS, errors);
    String status = blankToNull(params.get("status"));
    if (status != null && !WorkflowReadModel.STATUSES.contains(status)) {
      errors.add(
          new ApiProblem.FieldError(
              "status",
              "must be one of "
                  + String.join(", ", new java.util.TreeSet<>(WorkflowReadModel.STATUSES))));
    }
    WorkflowReadModel.Filter filter = filter(caller, status, params, errors);
    if (!errors.isEmpty())
      throw ApiProblem.badRequest("the list request has invalid parameters", errors);
    try {
      return api.answerOk(readModel.list(filter, limit, blankToNull(params.get("cursor"))));
    } catch (BadCursorException e) {
      throw ApiProblem.badRequest("cursor", e.getMessage());
    }
  }

  /**
   * Counts by status under the list's filters (all but {@code status}), so a console can show them
   * beside the list.
   */
  private Route counts(Caller caller, Map<String, String> params) {
    List<ApiProblem.FieldError> errors = new ArrayList<>();
    for (String p : params.keySet()) {
      if (!COUNT_PARAMS.contains(p))
        errors.add(new ApiProblem.FieldError(p, "is not a known parameter"));
    }
    WorkflowReadModel.Filter filter = filter(caller, null, params, errors);
    if (!errors.isEmpty())
      throw ApiProblem.badRequest("the count request has invalid parameters", errors);
    return api.answerOk(readModel.countByStatus(filter));
  }

  /**
   * The list's filters; a tenant's key always filters by its own tenant (the admin's by the one it
   * names, if any).
   */
  private static WorkflowReadModel.Filter filter(
      Caller caller,
      String status,
      Map<String, String> params,
      List<ApiProblem.FieldError> errors) {
    String workflow = blankToNull(params.get("workflow"));
    String tenantId =
        caller.clusterWide() ? blankToNull(params.get("tenantId")) : caller.tenantId();
    java.time.Instant from = instant(params, "from", errors);
    java.time.Instant to = instant(params, "to", errors);
    String idPrefix = blankToNull(params.get("idPrefix"));
    if (idPrefix != null && Ids.workflowIdProblem(idPrefix).isPresent()) {
      errors.add(
          new ApiProblem.FieldError(
              "idPrefix",
              "must be the start of a workflow id: letters, digits and . _ : - @ +, "
                  + "starting with a letter or digit, at most "
                  + Ids.MAX_WORKFLOW_ID_LENGTH
                  + " characters"));
    }
    return new WorkflowReadModel.Filter(status, workflow, tenantId, from, to, idPrefix);
  }

  private static java.time.Instant instant(
      Map<String, String> params, String name, List<ApiProblem.FieldError> errors) {
    String value = blankToNull(params.get(name));
    if (value == null) return null;
    try {
      return Instants.parse(value);
    } catch (InvalidValueException e) {
      errors.add(new ApiProblem.FieldError(name, e.getMessage()));
      return null;
    }
  }

  private Route cancel(Caller caller, String id, JsonNode body) {
    String why = reason(body);
    return api.answer(
        visible(caller, id, () -> workflows.cancel(id, why)),
        v -> api.json(StatusCodes.ACCEPTED, v));
  }

  private Route retry(Caller caller, String id, JsonNode body) {
    String why = reason(body);
    return api.answer(
        visible(caller, id, () -> workflows.retry(id, why)),
        v -> api.json(StatusCodes.ACCEPTED, v));
  }

  /**
   * A new execution from step {@code fromStep} of {@code id}; it belongs to the original's tenant
   * and counts against that tenant's starts, as any start.
   */
  private Route rerun(Caller caller, String id, JsonNode body) {
    List<ApiProblem.FieldError> errors = new ArrayList<>();
    BodyFields fields = new BodyFields(body, RERUN_FIELDS, errors);
    String fromStep = fields.text("fromStep", true);
    String newId = fields.text("id", false);
    if (fromStep != null && Ids.workflowIdProblem(fromStep).isPresent())
      errors.add(new ApiProblem.FieldError("fromStep", "is not a step name"));
    if (newId != null && !Ids.PATTERN.matcher(newId).matches())
      errors.add(new ApiProblem.FieldError("id", "must match " + Ids.PATTERN.pattern()));
    if (!errors.isEmpty())
      throw ApiProblem.badRequest("the rerun request has invalid fields", errors);
    String chosenId = newId != null ? newId : "wf-" + UUID.randomUUID();
    CompletionStage<WorkflowExecution.StartAccepted> started =
        visible(caller, id, () -> workflows.rerunSource(id, fromStep))
            .exceptionallyCompose(
                RequestScope.bound(
                    error -> {
                      Throwable t =
                          error instanceof java.util.concurrent.CompletionException
                              ? error.getCause()
                              : error;
                      if (t instanceof dev.keel.workflow.execution.InvalidInputException e)
                        return CompletableFuture.failedFuture(
                            ApiProblem.badRequest(
                                "the rerun request has invalid fields",
                                e.problems().stream()
                                    .map(p -> new ApiProblem.FieldError(p.field(), p.message()))
                                    .toList()));
                      return CompletableFuture.failedFuture(error);
                    }))
            .thenCompose(
                RequestScope.bound(
                    source ->
                        quotas.admit(
                            source.tenantId(),
                            Quota.WORKFLOW_STARTS,
                            chosenId,
                            RequestScope.bound(
                                () -> workflows.rerun(id, fromStep, chosenId, source)),
                            WorkflowExecution.StartAccepted::created)));
    return api.answer(
        started,
        accepted ->
            api.json(
                accepted.created() ? StatusCodes.CREATED : StatusCodes.OK, accepted.execution()));
  }

  /**
   * Starts the built-in {@code workflows-bulk} over the executions {@code filter} matches: 202 with
   * that execution, whose id is the bulk operation's. A tenant's key reaches only its own.
   */
  private Route bulk(Caller caller, String action, JsonNode body) {
    if (!BulkActionWorkflow.ACTIONS.contains(action))
      throw ApiProblem.notFound("no bulk action '" + action + "': cancel, pause, resume or retry");
    List<ApiProblem.FieldError> errors = new ArrayList<>();
    BodyFields fields = new BodyFields(body, BULK_FIELDS, errors);
    String reason = fields.text("reason", false);
    if (reason != null)
      Texts.freeTextProblem(reason, Texts.MAX_REASON_LENGTH)
          .ifPresent(p -> errors.add(new ApiProblem.FieldError("reason", p)));
    JsonNode filter = fields.node("filter");
    com.fasterxml.jackson.databind.node.ObjectNode bounded = JSON.createObjectNode();
    if (filter == null || filter.isNull()) {
      errors.add(new ApiProblem.FieldError("filter", "is required"));
    } else if (!filter.isObject()) {
      errors.add(new ApiProblem.FieldError("filter", "must be a JSON object"));
    } else {
      filter
          .fieldNames()
          .forEachRemaining(
              name -> {
                if (!BULK_FILTER_FIELDS.contains(name))
                  errors.add(new ApiProblem.FieldError("filter." + name, "is not a known field"));
              });
      for (String name : BULK_FILTER_FIELDS) {
        JsonNode v = filter.get(name);
        if (v == null || v.isNull()) continue;
        if (!v.isTextual()) {
          errors.add(new ApiProblem.FieldError("filter." + name, "must be a string"));
          continue;
        }
        if (name.startsWith("created")) {
          try {
            Instants.parse(v.asText());
          } catch (InvalidValueException e) {
            errors.add(new ApiProblem.FieldError("filter." + name, e.getMessage()));
            continue;
          }
        }
        bounded.put(name, v.asText());
      }
    }
    String status = bounded.path("status").asText(null);
    if (status != null && !WorkflowReadModel.STATUSES.contains(status))
      errors.add(
          new ApiProblem.FieldError(
              "filter.status",
              "must be one of "
                  + String.join(", ", new java.util.TreeSet<>(WorkflowReadModel.STATUSES))));
    String named = bounded.path("tenantId").asText(null);
    if (!caller.admin() && named != null && !named.equals(caller.tenantId()))
      errors.add(
          new ApiProblem.FieldError(
              "filter.tenantId", "only the admin token may name another tenant"));
    if (!errors.isEmpty())
      throw ApiProblem.badRequest("the bulk request has invalid fields", errors);
    // A tenant's operation is its own and covers only its own executions.
    if (!caller.admin()) bounded.put("tenantId", caller.tenantId());
    com.fasterxml.jackson.databind.node.ObjectNode input = JSON.createObjectNode();
    input.put("action", action);
    input.set("filter", bounded);
    if (reason != null) input.put("reason", reason);
    String id = "bulk-" + UUID.randomUUID();
    String owner = caller.admin() ? null : caller.tenantId();
    return api.answer(
        RequestScope.bound(
                () -> workflows.startExecution(id, BulkActionWorkflow.NAME, input, owner))
            .get(),
        accepted -> api.json(StatusCodes.ACCEPTED, accepted.execution()));
  }

  /** The optional {@code {"reason": ...}} body of cancel and retry. */
  private static String reason(JsonNode body) {
    String reason = null;
    if (!body.isNull()) {
      if (!body.isObject()) throw ApiProblem.badRequest("body", "must be a JSON object");
      JsonNode r = body.get("reason");
      if (r != null && !r.isNull() && !r.isTextual())
        throw ApiProblem.badRequest("reason", "must be a string");
      if (r != null && r.isTextual()) {
        Texts.freeTextProblem(r.asText(), Texts.MAX_REASON_LENGTH)
            .ifPresent(
                p -> {
                  throw ApiProblem.badRequest("reason", p);
                });
        reason = r.asText();
      }
    }
    return reason;
  }

  private Route signal(Caller caller, String id, String name, JsonNode body) {
    HttpApi.requireId("name", name);
    return api.answer(
        visible(caller, id, () -> workflows.signal(id, name, body)),
        done -> api.json(StatusCodes.ACCEPTED, Map.of("workflowId", id, "signal", name)));
  }

  private Route history(Caller caller, String id) {
    return api.answer(
        visible(caller, id, () -> workflows.history(id))
            .thenCompose(
                entries -> {
                  if (entries.isEmpty())
                    return CompletableFuture.failedFuture(
                        ApiProblem.notFound("workflow '" + id + "' does not exist"));
                  return CompletableFuture.completedFuture(
                      entries.stream()
                          .map(e -> new HistoryEntry(e.seq(), e.at(), e.type(), e.data()))
                          .toList());
                }),
        entries -> api.json(StatusCodes.OK, entries));
  }

  /** One journaled event as {@code /history} shows it. */
  public record HistoryEntry(long seq, java.time.Instant at, String type, JsonNode data) {}
}
