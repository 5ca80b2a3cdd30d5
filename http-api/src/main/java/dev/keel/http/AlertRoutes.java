package dev.keel.http;

import static dev.keel.http.HttpApi.blankToNull;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.registry.alert.AlertReadModel;
import dev.keel.registry.alert.AlertRule;
import dev.keel.registry.alert.AlertRule.AlertDefinition;
import dev.keel.registry.alert.AlertService;
import dev.keel.registry.service.FieldProblem;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/** {@code /api/v1/alerts} and {@code /api/v1/alerts/{id}}: alert rules (API.md, Service registry); translation only. */
public final class AlertRoutes {

  private static final Set<String> FIELDS = Set.of("service", "condition", "webhook", "cooldownSeconds");
  private static final Set<String> LIST_PARAMS = Set.of("service", "limit", "cursor");

  private final HttpApi api;
  private final AlertService alerts;

  public AlertRoutes(HttpApi api, AlertService alerts) {
    this.api = api;
    this.alerts = alerts;
  }

  public Route routes() {
    return api.pathPrefix("alerts", () -> api.concat(
        api.pathEndOrSingleSlash(() -> api.get(() -> api.parameterMap(this::list))),
        api.path(PathMatchers.segment(), rawId -> api.concat(
            // A bad id is listed with the body's other bad fields.
            api.put(() -> api.jsonBody(false, body -> put(rawId, body))),
            api.get(() -> api.answerOk(alerts.get(HttpApi.requireId("id", rawId)))),
            api.delete(() -> api.answer(alerts.delete(HttpApi.requireId("id", rawId)),
                done -> HttpResponse.create().withStatus(StatusCodes.NO_CONTENT)))))));
  }

  private Route put(String id, JsonNode body) {
    List<ApiProblem.FieldError> errors = new ArrayList<>();
    if (!HttpApi.CLIENT_ID.matcher(id).matches()) {
      errors.add(new ApiProblem.FieldError("id", "must match " + HttpApi.CLIENT_ID.pattern()));
    }
    BodyFields fields = new BodyFields(body, FIELDS, errors);
    String service = fields.text("service", true);
    String condition = fields.text("condition", true);
    String webhook = fields.text("webhook", true);
    Integer cooldown = fields.integer("cooldownSeconds", AlertRule.DEFAULT_COOLDOWN_SECONDS);
    AlertDefinition def = new AlertDefinition(service, condition, webhook, cooldown, null);
    for (FieldProblem p : alerts.problems(def)) {
      // A field the body reading already found missing or ill-typed is listed once.
      if (errors.stream().noneMatch(e -> e.field().equals(p.field()))) errors.add(new ApiProblem.FieldError(p.field(), p.message()));
    }
    if (!errors.isEmpty()) throw ApiProblem.badRequest("the alert has invalid fields", errors);
    return api.answer(alerts.put(id, def),
        result -> api.json(result.created() ? StatusCodes.CREATED : StatusCodes.OK, result.view()));
  }

  private Route list(Map<String, String> params) {
    List<ApiProblem.FieldError> errors = new ArrayList<>();
    int limit = HttpApi.pageLimit(params, LIST_PARAMS, errors);
    String service = blankToNull(params.get("service"));
    if (service != null && !service.equals(AlertRule.ANY_SERVICE) && !HttpApi.CLIENT_ID.matcher(service).matches()) {
      errors.add(new ApiProblem.FieldError("service", "must be a service id or " + AlertRule.ANY_SERVICE));
    }
    String cursor = blankToNull(params.get("cursor"));
    if (cursor != null) {
      try {
        AlertReadModel.decodeCursor(cursor);
      } catch (AlertReadModel.BadCursorException e) {
        errors.add(new ApiProblem.FieldError("cursor", e.getMessage()));
      }
    }
    if (!errors.isEmpty()) throw ApiProblem.badRequest("the list request has invalid parameters", errors);
    return api.answerOk(alerts.list(service, null, limit, cursor));
  }
}
