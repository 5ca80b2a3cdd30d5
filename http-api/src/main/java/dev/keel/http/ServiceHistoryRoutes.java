package dev.keel.http;

import dev.keel.registry.history.HistoryQuery;
import dev.keel.registry.history.MetricHistory;
import dev.keel.registry.service.ServiceRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code GET /api/v1/services/{id}/metrics?since=PT1H&step=PT1M&name=lag}: a service's metric
 * history (API.md, Metric history); translation only. The service answers first, so that the
 * history is scoped exactly as the service is (404 for another tenant's).
 */
final class ServiceHistoryRoutes {

  private static final Set<String> PARAMS = Set.of("since", "step", "name");
  private static final Duration DEFAULT_SINCE = Duration.ofHours(1);
  private static final Pattern METRIC_NAME = Pattern.compile("^[A-Za-z_][A-Za-z0-9_.]{0,127}$");

  private final HttpApi api;
  private final ServiceRegistry registry;
  private final MetricHistory history;
  private final Clock clock;

  ServiceHistoryRoutes(HttpApi api, ServiceRegistry registry, MetricHistory history, Clock clock) {
    this.api = api;
    this.registry = registry;
    this.history = history;
    this.clock = clock;
  }

  Route metrics(Caller caller, String id) {
    return api.get(() -> api.parameterMap(params -> answer(caller, id, params)));
  }

  private Route answer(Caller caller, String id, Map<String, String> params) {
    List<ApiProblem.FieldError> errors = new ArrayList<>();
    for (String p : params.keySet())
      if (!PARAMS.contains(p)) errors.add(new ApiProblem.FieldError(p, "is not a known parameter"));
    Duration since = duration("since", params.get("since"), DEFAULT_SINCE, errors);
    Duration step = duration("step", params.get("step"), null, errors);
    String name = HttpApi.blankToNull(params.get("name"));
    if (name != null && !METRIC_NAME.matcher(name).matches())
      errors.add(new ApiProblem.FieldError("name", "is not a metric name"));
    HistoryQuery.Plan plan = null;
    if (errors.isEmpty()) {
      try {
        plan = HistoryQuery.plan(history.settings(), clock.instant(), since, step, name);
      } catch (IllegalArgumentException e) {
        int colon = e.getMessage().indexOf(": ");
        errors.add(
            new ApiProblem.FieldError(
                e.getMessage().substring(0, colon), e.getMessage().substring(colon + 2)));
      }
    }
    if (!errors.isEmpty())
      throw ApiProblem.badRequest("the metrics request has invalid parameters", errors);
    HistoryQuery.Plan chosen = plan;
    return api.answerOk(
        registry
            .get(id, caller.tenantId())
            .thenCompose(view -> history.query(id, view.tenantId(), chosen)));
  }

  private static Duration duration(
      String field, String value, Duration absent, List<ApiProblem.FieldError> errors) {
    if (value == null || value.isBlank()) return absent;
    try {
      Duration d = Duration.parse(value);
      if (d.isNegative() || d.isZero())
        errors.add(new ApiProblem.FieldError(field, "must be a positive duration"));
      return d;
    } catch (DateTimeParseException | ArithmeticException e) {
      errors.add(
          new ApiProblem.FieldError(field, "must be an ISO-8601 duration such as PT1H or P7D"));
      return absent;
    }
  }
}
