package dev.keel.http;

import dev.keel.persistence.AuditLog;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code /api/v1/audit/{entityType}/{id}/events} and {@code .../state?asOf=} (admin only): any
 * entity's journal, and its state at a past instant rebuilt through its own event handler, in the
 * JSON shape of the live resource. Translation only.
 */
public final class AuditRoutes {

  private static final Set<String> EVENT_PARAMS = Set.of("from", "to");
  private static final Set<String> STATE_PARAMS = Set.of("asOf");

  private final HttpApi api;
  private final AuditLog audit;

  public AuditRoutes(HttpApi api, AuditLog audit) {
    this.api = api;
    this.audit = audit;
  }

  public Route routes(Caller caller) {
    return api.pathPrefix(
        "audit",
        () ->
            api.adminOnly(
                caller,
                () ->
                    api.pathPrefix(
                        PathMatchers.segment().slash(PathMatchers.segment()),
                        (type, rawId) -> {
                          if (!audit.entityTypes().contains(type)) {
                            throw ApiProblem.notFound(
                                "no entity type '"
                                    + type
                                    + "'; known: "
                                    + String.join(
                                        ", ", new java.util.TreeSet<>(audit.entityTypes())));
                          }
                          String id = HttpApi.requirePathId(rawId);
                          return api.concat(
                              api.path(
                                  "events",
                                  () ->
                                      api.get(
                                          () ->
                                              api.parameterMap(
                                                  params -> events(type, id, params)))),
                              api.path(
                                  "state",
                                  () ->
                                      api.get(
                                          () ->
                                              api.parameterMap(
                                                  params -> state(type, id, params)))));
                        })));
  }

  private Route events(String type, String id, Map<String, String> params) {
    List<ApiProblem.FieldError> errors = new ArrayList<>();
    known(params, EVENT_PARAMS, errors);
    Instant from = instant(params, "from", false, errors);
    Instant to = instant(params, "to", false, errors);
    if (!errors.isEmpty())
      throw ApiProblem.badRequest("the audit request has invalid parameters", errors);
    return api.answer(
        audit.events(type, id, from, to),
        entries ->
            api.json(
                StatusCodes.OK,
                entries.stream()
                    .map(e -> new WorkflowRoutes.HistoryEntry(e.seq(), e.at(), e.type(), e.data()))
                    .toList()));
  }

  private Route state(String type, String id, Map<String, String> params) {
    List<ApiProblem.FieldError> errors = new ArrayList<>();
    known(params, STATE_PARAMS, errors);
    Instant asOf = instant(params, "asOf", true, errors);
    if (!errors.isEmpty())
      throw ApiProblem.badRequest("the audit request has invalid parameters", errors);
    return api.answer(
        audit
            .stateAsOf(type, id, asOf)
            .thenCompose(
                past ->
                    past.state().isPresent()
                        ? CompletableFuture.completedFuture(past.state().get())
                        : CompletableFuture.failedFuture(
                            ApiProblem.notFound(type + " '" + id + "' did not exist at " + asOf))),
        view -> api.json(StatusCodes.OK, view));
  }

  private static void known(
      Map<String, String> params, Set<String> known, List<ApiProblem.FieldError> errors) {
    for (String p : params.keySet()) {
      if (!known.contains(p)) errors.add(new ApiProblem.FieldError(p, "is not a known parameter"));
    }
  }

  private static Instant instant(
      Map<String, String> params,
      String name,
      boolean required,
      List<ApiProblem.FieldError> errors) {
    String value = HttpApi.blankToNull(params.get(name));
    if (value == null) {
      if (required)
        errors.add(
            new ApiProblem.FieldError(
                name, "is required (an ISO-8601 instant such as 2026-11-22T09:00:00.000Z)"));
      return null;
    }
    try {
      return Instant.parse(value);
    } catch (DateTimeParseException e) {
      errors.add(
          new ApiProblem.FieldError(
              name, "must be an ISO-8601 instant such as 2026-11-22T09:00:00.000Z"));
      return null;
    }
  }
}
