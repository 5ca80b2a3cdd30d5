package dev.keel.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.persistence.Rejection;
import dev.keel.tenant.quota.QuotaExceededException;
import dev.keel.workflow.execution.InvalidInputException;
import dev.keel.workflow.execution.UnknownWorkflowException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RetryAfter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The one error mapper: façade failures and bad input become problem documents. Timeouts are 503
 * (the entity or journal did not answer), rejections 404/409/400; anything else is a bug, answered
 * as a bare 500 with no detail, and logged.
 */
public final class Problems {

  private static final Logger log = LoggerFactory.getLogger(Problems.class);
  public static final ContentType PROBLEM_JSON =
      MediaTypes.applicationWithFixedCharset("problem+json", HttpCharsets.UTF_8).toContentType();

  private final ObjectMapper mapper;

  public Problems(ObjectMapper mapper) {
    this.mapper = mapper;
  }

  public ApiProblem toProblem(Throwable failure) {
    Throwable t = unwrap(failure);
    if (t instanceof ApiProblem p) return p;
    if (t instanceof QuotaExceededException q) return quotaExceeded(q);
    if (t instanceof UnknownWorkflowException) return ApiProblem.notFound(t.getMessage());
    if (t instanceof InvalidInputException e) {
      return ApiProblem.badRequest(
          "the input does not fit the workflow",
          e.problems().stream()
              .map(p -> new ApiProblem.FieldError(p.field(), p.message()))
              .toList());
    }
    var rejection = Rejection.of(t);
    if (rejection.isPresent()) {
      return switch (rejection.get().kind()) {
        case NOT_FOUND -> ApiProblem.notFound(rejection.get().detail());
        case CONFLICT -> ApiProblem.conflict(rejection.get().detail());
        case INVALID -> ApiProblem.badRequest(rejection.get().detail(), java.util.List.of());
        case UNAVAILABLE -> ApiProblem.unavailable(rejection.get().detail(), 2);
      };
    }
    if (isTimeout(t)) {
      return ApiProblem.unavailable("the cluster did not answer in time; retry later", 2);
    }
    if (has(t, java.sql.SQLException.class)) {
      // The journal or read-model database is unreachable: the client's request was fine.
      log.warn("database unavailable while handling a request: {}", rootMessage(t));
      return ApiProblem.unavailable("the database does not answer; retry later", 5);
    }
    log.error("unexpected failure while handling a request", t);
    return new ApiProblem(
        500,
        "Internal Server Error",
        "an unexpected error occurred; it has been logged",
        java.util.List.of(),
        null);
  }

  /**
   * 429 naming the quota, its plan, limit and use; {@code Retry-After} when time lifts it (API.md,
   * Conventions).
   */
  static ApiProblem quotaExceeded(QuotaExceededException q) {
    Map<String, Object> members = new LinkedHashMap<>();
    members.put("quota", q.quota().key());
    members.put("plan", q.plan());
    members.put("limit", q.limit());
    members.put("used", q.used());
    Long retry = q.retryAfterSeconds();
    return new ApiProblem(
        429,
        "Too Many Requests",
        "quota-exceeded",
        q.getMessage(),
        java.util.List.of(),
        retry == null ? null : (int) Math.min(Integer.MAX_VALUE, retry),
        members);
  }

  public HttpResponse response(ApiProblem p) {
    ObjectNode body = mapper.createObjectNode();
    body.put("type", "https://keel.dev/problems/" + p.type());
    body.put("title", p.title());
    body.put("status", p.status());
    body.put("detail", p.detail());
    if (!p.errors().isEmpty()) {
      ArrayNode errors = body.putArray("errors");
      for (ApiProblem.FieldError e : p.errors())
        errors.addObject().put("field", e.field()).put("message", e.message());
    }
    p.extensions().forEach((name, value) -> body.set(name, mapper.valueToTree(value)));
    HttpResponse response;
    try {
      response =
          HttpResponse.create()
              .withStatus(StatusCodes.get(p.status()))
              .withEntity(PROBLEM_JSON, mapper.writeValueAsBytes(body));
    } catch (Exception e) {
      response = HttpResponse.create().withStatus(p.status());
    }
    if (p.retryAfterSeconds() != null)
      response = response.addHeader(RetryAfter.create(p.retryAfterSeconds().longValue()));
    return response;
  }

  public HttpResponse response(Throwable failure) {
    return response(toProblem(failure));
  }

  /** As {@link #response(Throwable)}, with any line it logs carrying the request's id. */
  public HttpResponse response(Throwable failure, Optional<String> requestId) {
    if (requestId.isEmpty()) return response(failure);
    MDC.put(HttpApi.REQUEST_ID_FIELD, requestId.get());
    try {
      return response(toProblem(failure));
    } finally {
      MDC.remove(HttpApi.REQUEST_ID_FIELD);
    }
  }

  private static Throwable unwrap(Throwable t) {
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  private static boolean has(Throwable t, Class<? extends Throwable> type) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (type.isInstance(c)) return true;
    }
    return false;
  }

  private static String rootMessage(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && c.getCause() != c) c = c.getCause();
    return c.getClass().getSimpleName() + ": " + c.getMessage();
  }

  private static boolean isTimeout(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof TimeoutException) return true;
    }
    return false;
  }
}
