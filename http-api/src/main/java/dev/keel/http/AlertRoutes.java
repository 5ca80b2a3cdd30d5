package dev.keel.http;

import static dev.keel.http.HttpApi.blankToNull;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.persistence.BadCursorException;
import dev.keel.persistence.grammar.Ids;
import dev.keel.registry.alert.AlertReadModel;
import dev.keel.registry.alert.AlertRepair;
import dev.keel.registry.alert.AlertRule;
import dev.keel.registry.alert.AlertRule.AlertDefinition;
import dev.keel.registry.alert.AlertService;
import dev.keel.registry.service.FieldProblem;
import dev.keel.workflow.execution.WorkflowService;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code /api/v1/alerts} and {@code /api/v1/alerts/{id}}: alert rules (API.md, Service registry);
 * translation only.
 */
public final class AlertRoutes {

  private static final Set<String> FIELDS =
      Set.of("service", "condition", "webhook", "repair", "cooldownSeconds", "tenantId");
  private static final Set<String> REPAIR_FIELDS = Set.of("workflow", "input");
  private static final Set<String> LIST_PARAMS = Set.of("service", "tenantId", "limit", "cursor");

  private final HttpApi api;
  private final AlertService alerts;
  private final WorkflowService workflows;

  public AlertRoutes(HttpApi api, AlertService alerts, WorkflowService workflows) {
    this.api = api;
    this.alerts = alerts;
    this.workflows = workflows;
  }

  /** The routes as {@code caller} sees them: a tenant sees and changes only its own rules. */
  public Route routes(Caller caller) {
    String as = caller.tenantId();
    return api.pathPrefix(
        "alerts",
        () ->
            api.concat(
                api.pathEndOrSingleSlash(
                    () -> api.get(() -> api.parameterMap(params -> list(caller, params)))),
                api.path(
                    PathMatchers.segment(),
                    rawId ->
                        api.concat(
                            // A bad id is listed with the body's other bad fields.
                            api.put(() -> api.jsonBody(false, body -> put(caller, rawId, body))),
                            api.get(
                                () -> api.answerOk(alerts.get(HttpApi.requireId("id", rawId), as))),
                            api.delete(
                                () ->
                                    api.answer(
                                        alerts.delete(HttpApi.requireId("id", rawId), as),
                                        done ->
                                            HttpResponse.create()
                                                .withStatus(StatusCodes.NO_CONTENT)))))));
  }

  private Route put(Caller caller, String id, JsonNode body) {
    List<ApiProblem.FieldError> errors = new ArrayList<>();
    if (!Ids.PATTERN.matcher(id).matches()) {
      errors.add(new ApiProblem.FieldError("id", "must match " + Ids.PATTERN.pattern()));
    }
    BodyFields fields = new BodyFields(body, FIELDS, errors);
    // A tenant's rule watches only that tenant's services.
    String tenantId = HttpApi.owner(caller, fields.text("tenantId", false), errors);
    String service = fields.text("service", true);
    String condition = fields.text("condition", true);
    String webhook = fields.text("webhook", false);
    Integer cooldown = fields.integer("cooldownSeconds", AlertRule.DEFAULT_COOLDOWN_SECONDS);
    AlertRepair repair = repair(fields.node("repair"), tenantId, errors);
    AlertDefinition def =
        new AlertDefinition(service, condition, webhook, cooldown, tenantId, repair);
    for (FieldProblem p : alerts.problems(def)) {
      // A field the body reading already found missing or ill-typed is listed once.
      if (errors.stream().noneMatch(e -> e.field().equals(p.field())))
        errors.add(new ApiProblem.FieldError(p.field(), p.message()));
    }
    if (!errors.isEmpty()) throw ApiProblem.badRequest("the alert has invalid fields", errors);
    return api.answer(
        alerts.put(id, def, caller.tenantId()),
        result -> api.json(result.created() ? StatusCodes.CREATED : StatusCodes.OK, result.view()));
  }

  /**
   * {@code "repair": {"workflow": ..., "input": {...}}}: a workflow this node knows, and for a
   * tenant's rule one a tenant may start.
   */
  private AlertRepair repair(JsonNode node, String tenantId, List<ApiProblem.FieldError> errors) {
    if (node == null || node.isNull()) return null;
    if (!node.isObject()) {
      errors.add(new ApiProblem.FieldError("repair", "must be an object with workflow and input"));
      return null;
    }
    node.fieldNames()
        .forEachRemaining(
            f -> {
              if (!REPAIR_FIELDS.contains(f))
                errors.add(new ApiProblem.FieldError("repair." + f, "is not a known field"));
            });
    JsonNode workflow = node.get("workflow");
    if (workflow == null || !workflow.isTextual()) {
      errors.add(new ApiProblem.FieldError("repair.workflow", "is required: a workflow name"));
      return null;
    }
    String name = workflow.asText();
    if (workflows.definitions().stream().noneMatch(d -> d.name().equals(name)))
      errors.add(new ApiProblem.FieldError("repair.workflow", "is not a workflow of this node"));
    else if (tenantId != null && workflows.adminOnly(name))
      errors.add(
          new ApiProblem.FieldError(
              "repair.workflow", "is a workflow only the admin may start, not a tenant's rule"));
    return new AlertRepair(name, node.get("input"));
  }

  private Route list(Caller caller, Map<String, String> params) {
    List<ApiProblem.FieldError> errors = new ArrayList<>();
    int limit = HttpApi.pageLimit(params, LIST_PARAMS, errors);
    String service = blankToNull(params.get("service"));
    if (service != null
        && !service.equals(AlertRule.ANY_SERVICE)
        && !Ids.PATTERN.matcher(service).matches()) {
      errors.add(
          new ApiProblem.FieldError("service", "must be a service id or " + AlertRule.ANY_SERVICE));
    }
    String cursor = blankToNull(params.get("cursor"));
    if (cursor != null) {
      try {
        AlertReadModel.decodeCursor(cursor);
      } catch (BadCursorException e) {
        errors.add(new ApiProblem.FieldError("cursor", e.getMessage()));
      }
    }
    if (!errors.isEmpty())
      throw ApiProblem.badRequest("the list request has invalid parameters", errors);
    String tenantId =
        caller.clusterWide() ? blankToNull(params.get("tenantId")) : caller.tenantId();
    return api.answerOk(alerts.list(service, tenantId, limit, cursor));
  }
}
