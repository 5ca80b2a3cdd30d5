package dev.keel.http;

import static dev.keel.http.HttpApi.blankToNull;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.persistence.BadCursorException;
import dev.keel.persistence.grammar.Texts;
import dev.keel.tenant.Tenant.TenantView;
import dev.keel.tenant.TenantReadModel;
import dev.keel.tenant.TenantRules;
import dev.keel.tenant.TenantService;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code /api/v1/tenants} (API.md, Tenants): creating, listing, suspending and deleting tenants is
 * the admin's; a tenant may read itself, rotate its own key and manage its own domains. Another
 * tenant's id is a 404 to a tenant key. Translation only.
 */
public final class TenantRoutes {

  private static final Set<String> CREATE_FIELDS = Set.of("slug", "name", "plan");
  private static final Set<String> LIST_PARAMS = Set.of("status", "plan", "limit", "cursor");
  private static final Set<String> STATUSES =
      Set.of("provisioning", "active", "suspended", "deleting");

  /** The answer to a create or a key rotation: the tenant and its key, shown this once. */
  public record TenantWithKey(
      String id,
      String slug,
      String name,
      String plan,
      String status,
      String defaultDomain,
      String apiKey,
      String lifecycleWorkflowId,
      Instant keyRotatedAt,
      Instant createdAt,
      Instant updatedAt) {
    static TenantWithKey of(TenantService.CreatedTenant created) {
      TenantView v = created.tenant();
      return new TenantWithKey(
          v.id(),
          v.slug(),
          v.name(),
          v.plan(),
          v.status(),
          v.defaultDomain(),
          created.apiKey(),
          v.lifecycleWorkflowId(),
          v.keyRotatedAt(),
          v.createdAt(),
          v.updatedAt());
    }
  }

  private final HttpApi api;
  private final TenantService tenants;

  /**
   * Routes under {@code /tenants/{id}/} for the tenant {@code id}, once the caller may act for it
   * (domains).
   */
  private final Function<String, Route> perTenant;

  public TenantRoutes(HttpApi api, TenantService tenants, Function<String, Route> perTenant) {
    this.api = api;
    this.tenants = tenants;
    this.perTenant = perTenant;
  }

  public Route routes(Caller caller) {
    return api.pathPrefix(
        "tenants",
        () ->
            api.concat(
                api.pathEndOrSingleSlash(
                    () ->
                        api.concat(
                            api.post(
                                () ->
                                    api.adminOnly(caller, () -> api.jsonBody(false, this::create))),
                            api.get(
                                () -> api.adminOnly(caller, () -> api.parameterMap(this::list))))),
                api.pathPrefix(
                    PathMatchers.segment(),
                    rawId -> {
                      String id = HttpApi.requirePathId(rawId);
                      if (!caller.sees(id)) {
                        // Another tenant: as if it did not exist.
                        throw ApiProblem.notFound("tenant '" + id + "' does not exist");
                      }
                      return api.concat(
                          api.pathEndOrSingleSlash(
                              () ->
                                  api.concat(
                                      api.get(() -> api.answerOk(tenants.get(id))),
                                      api.delete(
                                          () ->
                                              api.adminOnly(
                                                  caller,
                                                  () ->
                                                      api.answer(
                                                          tenants.delete(id),
                                                          v ->
                                                              api.json(
                                                                  StatusCodes.ACCEPTED, v)))))),
                          api.path(
                              "suspend",
                              () ->
                                  api.post(
                                      () ->
                                          api.adminOnly(
                                              caller,
                                              () ->
                                                  api.jsonBody(true, body -> suspend(id, body))))),
                          api.path(
                              "reactivate",
                              () ->
                                  api.post(
                                      () ->
                                          api.adminOnly(
                                              caller, () -> api.answerOk(tenants.reactivate(id))))),
                          api.path(
                              "api-keys",
                              () ->
                                  api.post(
                                      () ->
                                          api.answer(
                                              tenants.rotateKey(id),
                                              created ->
                                                  api.json(
                                                      StatusCodes.CREATED,
                                                      TenantWithKey.of(created))))),
                          perTenant.apply(id));
                    })));
  }

  private Route create(JsonNode body) {
    List<ApiProblem.FieldError> errors = new ArrayList<>();
    BodyFields fields = new BodyFields(body, CREATE_FIELDS, errors);
    String slug = fields.text("slug", false);
    String name = fields.text("name", false);
    String plan = fields.text("plan", false);
    for (TenantRules.Problem p : tenants.problems(slug, name, plan)) {
      if (errors.stream().noneMatch(e -> e.field().equals(p.field())))
        errors.add(new ApiProblem.FieldError(p.field(), p.message()));
    }
    if (!errors.isEmpty()) throw ApiProblem.badRequest("the tenant has invalid fields", errors);
    return api.answer(
        tenants.create(slug, name, plan),
        created -> api.json(StatusCodes.CREATED, TenantWithKey.of(created)));
  }

  private Route suspend(String id, JsonNode body) {
    String reason = null;
    if (!body.isNull()) {
      List<ApiProblem.FieldError> errors = new ArrayList<>();
      reason = new BodyFields(body, Set.of("reason"), errors).text("reason", false);
      Texts.freeTextProblem(reason, Texts.MAX_REASON_LENGTH)
          .ifPresent(p -> errors.add(new ApiProblem.FieldError("reason", p)));
      if (!errors.isEmpty())
        throw ApiProblem.badRequest("the suspension has invalid fields", errors);
    }
    return api.answerOk(tenants.suspend(id, reason));
  }

  private Route list(Map<String, String> params) {
    List<ApiProblem.FieldError> errors = new ArrayList<>();
    int limit = HttpApi.pageLimit(params, LIST_PARAMS, errors);
    String status = blankToNull(params.get("status"));
    if (status != null && !STATUSES.contains(status)) {
      errors.add(
          new ApiProblem.FieldError(
              "status", "must be one of provisioning, active, suspended, deleting"));
    }
    String plan = blankToNull(params.get("plan"));
    String cursor = blankToNull(params.get("cursor"));
    if (cursor != null) {
      try {
        TenantReadModel.decodeCursor(cursor);
      } catch (BadCursorException e) {
        errors.add(new ApiProblem.FieldError("cursor", e.getMessage()));
      }
    }
    if (!errors.isEmpty())
      throw ApiProblem.badRequest("the list request has invalid parameters", errors);
    return api.answerOk(tenants.list(status, plan, limit, cursor));
  }
}
