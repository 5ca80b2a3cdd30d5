package dev.keel.http;

import static dev.keel.http.HttpApi.blankToNull;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.persistence.BadCursorException;
import dev.keel.persistence.RequestScope;
import dev.keel.persistence.grammar.Texts;
import dev.keel.registry.history.MetricHistory;
import dev.keel.registry.service.FieldProblem;
import dev.keel.registry.service.RegisteredService.HeartbeatReport;
import dev.keel.registry.service.RegisteredService.ServiceDefinition;
import dev.keel.registry.service.ServiceChanges;
import dev.keel.registry.service.ServiceReadModel;
import dev.keel.registry.service.ServiceReadModel.MetadataFilter;
import dev.keel.registry.service.ServiceRegistry;
import dev.keel.registry.service.ServiceRules;
import dev.keel.tenant.quota.Quota;
import dev.keel.tenant.quota.QuotaAdmission;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/** {@code /api/v1/services}: the service registry (API.md, Service registry); translation only. */
public final class ServiceRoutes {

  private static final Set<String> REGISTER_FIELDS =
      Set.of(
          "name",
          "type",
          "endpoint",
          "metadata",
          "ttlSeconds",
          "deregisterAfterSeconds",
          "tenantId");
  private static final Set<String> HEARTBEAT_FIELDS = Set.of("status", "metrics", "details");
  private static final Set<String> LIST_PARAMS =
      Set.of("type", "status", "metadata", "tenantId", "search", "limit", "cursor");

  /** A search longer than the longest name (256) could match nothing. */
  private static final int SEARCH_MAX_LENGTH = 256;

  private static final Set<String> COUNT_PARAMS = Set.of("type", "metadata", "tenantId", "search");

  /** What {@code GET /api/v1/services/{id}/health} answers: 200 when healthy, 503 otherwise. */
  public record Health(String id, String status, Instant lastHeartbeatAt) {}

  private final HttpApi api;
  private final ServiceRegistry registry;
  private final QuotaAdmission quotas;
  private final ServiceHistoryRoutes history;
  private final ServiceWatchRoutes watch;

  /** The registry's routes; {@code watch} the change stream's poll and keep-alive intervals. */
  public ServiceRoutes(
      HttpApi api,
      ServiceRegistry registry,
      QuotaAdmission quotas,
      MetricHistory history,
      ServiceChanges changes,
      WatchSettings watch,
      java.time.Clock clock) {
    this.api = api;
    this.registry = registry;
    this.quotas = quotas;
    this.history = new ServiceHistoryRoutes(api, registry, history, clock);
    this.watch =
        new ServiceWatchRoutes(
            api, changes, watch.pollInterval(), watch.keepAlive(), watch.maxDuration());
  }

  /** How often a watch reads the change table, and how long it may stay silent and last. */
  public record WatchSettings(
      java.time.Duration pollInterval,
      java.time.Duration keepAlive,
      java.time.Duration maxDuration) {}

  public Route routes(Caller caller) {
    String as = caller.tenantId();
    return api.concat(
        api.path(
            "service-counts",
            () -> api.get(() -> api.parameterMultiMap(params -> counts(caller, params)))),
        services(caller, as));
  }

  private Route services(Caller caller, String as) {
    return api.pathPrefix(
        "services",
        () ->
            api.concat(
                api.pathEndOrSingleSlash(
                    () -> api.get(() -> api.parameterMultiMap(params -> list(caller, params)))),
                api.path("events", () -> watch.events(caller)),
                api.pathPrefix(
                    PathMatchers.segment(),
                    rawId -> {
                      String id = HttpApi.requireId("id", rawId);
                      return api.concat(
                          api.pathEndOrSingleSlash(
                              () ->
                                  api.concat(
                                      api.put(
                                          () ->
                                              api.jsonBody(
                                                  false, body -> register(caller, id, body))),
                                      api.get(() -> api.answerOk(registry.get(id, as))),
                                      // A tenant's deregistration frees its slot before the answer,
                                      // so that its next
                                      // registration finds it free; the admin's frees it when the
                                      // entity reports it gone.
                                      api.delete(
                                          () ->
                                              api.answer(
                                                  registry
                                                      .deregister(id, as)
                                                      .thenCompose(
                                                          RequestScope.bound(
                                                              done ->
                                                                  quotas.release(
                                                                      as, Quota.SERVICES, id))),
                                                  done ->
                                                      HttpResponse.create()
                                                          .withStatus(StatusCodes.NO_CONTENT))))),
                          api.path("metrics", () -> history.metrics(caller, id)),
                          api.path(
                              "heartbeat",
                              () ->
                                  api.post(
                                      () ->
                                          api.jsonBody(true, body -> heartbeat(caller, id, body)))),
                          api.path(
                              "health",
                              () ->
                                  api.get(
                                      () ->
                                          api.answer(
                                              registry.get(id, as),
                                              view ->
                                                  api.json(
                                                      view.status().equals("healthy")
                                                          ? StatusCodes.OK
                                                          : StatusCodes.SERVICE_UNAVAILABLE,
                                                      new Health(
                                                          id,
                                                          view.status(),
                                                          view.lastHeartbeatAt()))))));
                    })));
  }

  private Route register(Caller caller, String id, JsonNode body) {
    List<ApiProblem.FieldError> errors = new ArrayList<>();
    BodyFields fields = new BodyFields(body, REGISTER_FIELDS, errors);
    String tenantId = HttpApi.owner(caller, fields.text("tenantId", false), errors);
    String name = fields.text("name", false);
    String type = fields.text("type", true);
    String endpoint = fields.text("endpoint", false);
    Map<String, String> metadata = fields.stringMap("metadata");
    Integer ttl = fields.integer("ttlSeconds", registry.settings().defaultTtlSeconds());
    Integer deregisterAfter = fields.integer("deregisterAfterSeconds", null);
    // The name is what people read; without one the id is the name.
    ServiceDefinition def =
        new ServiceDefinition(
            name == null ? id : name, type, endpoint, metadata, ttl, deregisterAfter, tenantId);
    addDomainProblems(ServiceRules.problems(def), errors);
    if (!errors.isEmpty())
      throw ApiProblem.badRequest("the registration has invalid fields", errors);
    // A new service counts against the owning tenant's plan (429 over it); re-registering never
    // does.
    return api.answer(
        quotas.admit(
            tenantId,
            Quota.SERVICES,
            id,
            RequestScope.bound(() -> registry.register(id, def, caller.tenantId())),
            registered -> true),
        result -> api.json(result.created() ? StatusCodes.CREATED : StatusCodes.OK, result.view()));
  }

  private Route heartbeat(Caller caller, String id, JsonNode body) {
    List<ApiProblem.FieldError> errors = new ArrayList<>();
    HeartbeatReport report;
    if (body.isNull()) {
      report =
          new HeartbeatReport(null, Map.of(), Map.of()); // an empty heartbeat: alive and healthy
    } else {
      BodyFields fields = new BodyFields(body, HEARTBEAT_FIELDS, errors);
      report =
          new HeartbeatReport(
              fields.text("status", false),
              fields.numberMap("metrics"),
              fields.stringMap("details"));
      addDomainProblems(ServiceRules.problems(report), errors);
    }
    if (!errors.isEmpty()) throw ApiProblem.badRequest("the heartbeat has invalid fields", errors);
    return api.answerOk(registry.heartbeat(id, report, caller.tenantId()));
  }

  private Route list(Caller caller, Map<String, List<String>> params) {
    List<ApiProblem.FieldError> errors = new ArrayList<>();
    Map<String, String> single = singleValues(params, errors);
    int limit = HttpApi.pageLimit(single, LIST_PARAMS, errors);
    ServiceReadModel.Filter filter = filter(caller, single, params, errors);
    String cursor = blankToNull(single.get("cursor"));
    if (cursor != null) {
      try {
        ServiceReadModel.decodeCursor(cursor);
      } catch (BadCursorException e) {
        errors.add(new ApiProblem.FieldError("cursor", e.getMessage()));
      }
    }
    if (!errors.isEmpty())
      throw ApiProblem.badRequest("the list request has invalid parameters", errors);
    return api.answerOk(registry.list(filter, limit, cursor));
  }

  /**
   * Counts by status under the list's filters (all but {@code status}): the registry's health at a
   * glance.
   */
  private Route counts(Caller caller, Map<String, List<String>> params) {
    List<ApiProblem.FieldError> errors = new ArrayList<>();
    Map<String, String> single = singleValues(params, errors);
    for (String p : single.keySet()) {
      if (!COUNT_PARAMS.contains(p))
        errors.add(new ApiProblem.FieldError(p, "is not a known parameter"));
    }
    ServiceReadModel.Filter filter = filter(caller, single, params, errors);
    if (!errors.isEmpty())
      throw ApiProblem.badRequest("the count request has invalid parameters", errors);
    return api.answerOk(registry.countByStatus(filter));
  }

  private static Map<String, String> singleValues(
      Map<String, List<String>> params, List<ApiProblem.FieldError> errors) {
    Map<String, String> single = new java.util.HashMap<>();
    params.forEach(
        (k, v) -> {
          if (!v.isEmpty()) single.put(k, v.get(0));
          if (v.size() > 1 && !k.equals("metadata"))
            errors.add(new ApiProblem.FieldError(k, "is given more than once"));
        });
    return single;
  }

  /**
   * The list's filters; a tenant's key always filters by its own tenant (the admin's by the one it
   * names, if any).
   */
  private static ServiceReadModel.Filter filter(
      Caller caller,
      Map<String, String> single,
      Map<String, List<String>> params,
      List<ApiProblem.FieldError> errors) {
    String type = blankToNull(single.get("type"));
    String status = blankToNull(single.get("status"));
    if (status != null && !ServiceRules.STATUSES.contains(status)) {
      errors.add(
          new ApiProblem.FieldError(
              "status", "must be one of healthy, degraded, unhealthy, stale"));
    }
    List<MetadataFilter> metadata = new ArrayList<>();
    for (String m : params.getOrDefault("metadata", List.of())) {
      int eq = m.indexOf('=');
      if (eq <= 0) errors.add(new ApiProblem.FieldError("metadata", "must be key=value"));
      else metadata.add(new MetadataFilter(m.substring(0, eq), m.substring(eq + 1)));
    }
    String search = blankToNull(single.get("search"));
    if (search != null) {
      Texts.nameProblem(search, SEARCH_MAX_LENGTH)
          .ifPresent(p -> errors.add(new ApiProblem.FieldError("search", p)));
    }
    String tenantId =
        caller.clusterWide() ? blankToNull(single.get("tenantId")) : caller.tenantId();
    return new ServiceReadModel.Filter(type, status, metadata, tenantId, search);
  }

  /** Adds the registry's own checks, leaving out fields the body reading already found wrong. */
  private static void addDomainProblems(
      List<FieldProblem> problems, List<ApiProblem.FieldError> errors) {
    for (FieldProblem p : problems) {
      boolean known =
          errors.stream()
              .anyMatch(e -> e.field().equals(p.field()) || p.field().startsWith(e.field() + "."));
      if (!known) errors.add(new ApiProblem.FieldError(p.field(), p.message()));
    }
  }
}
