package dev.keel.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import dev.keel.persistence.RequestScope;
import dev.keel.persistence.TraceParent;
import dev.keel.persistence.grammar.Ids;
import dev.keel.tenant.TenantService;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpMethod;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaType;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.Allow;
import org.apache.pekko.http.javadsl.model.headers.HttpChallenge;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.model.headers.RawRequestURI;
import org.apache.pekko.http.javadsl.model.headers.WWWAuthenticate;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.MethodRejection;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.server.directives.RouteAdapter;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Directives every route shares: the admin-token check, JSON bodies within the size limit, JSON
 * answers, and the problem-document handlers for rejections and exceptions.
 */
public class HttpApi extends AllDirectives {

  /** The header that names a request in both directions, and the log field that carries it. */
  public static final String REQUEST_ID = "X-Request-Id";

  public static final String REQUEST_ID_FIELD = "requestId";

  /** A client's request id is kept only when it is short and safe to put in a log line. */
  private static final Pattern REQUEST_ID_VALUE = Pattern.compile("^[A-Za-z0-9._:-]{1,128}$");

  /** One line per request: DEBUG when it succeeded, INFO for a 4xx, WARN for a 5xx. */
  private static final Logger access = LoggerFactory.getLogger("dev.keel.http.access");

  protected final ObjectMapper mapper;
  protected final Problems problems;
  private final AdminToken adminToken;
  private final Function<String, CompletionStage<TenantService.Authentication>> tenantKeys;
  private final long maxBodyBytes;
  private final ExceptionHandler exceptions;
  private final RejectionHandler rejections;

  /** An API that knows only the admin token (tests of routes that tenants never reach). */
  public HttpApi(ObjectMapper mapper, AdminToken adminToken, long maxBodyBytes) {
    this(
        mapper,
        adminToken,
        key ->
            java.util.concurrent.CompletableFuture.completedFuture(
                new TenantService.Refused(401, "the token is not known")),
        maxBodyBytes);
  }

  /**
   * {@code tenantKeys} tells who a token that is not the admin token is ({@link
   * TenantService#authenticate}).
   */
  public HttpApi(
      ObjectMapper mapper,
      AdminToken adminToken,
      Function<String, CompletionStage<TenantService.Authentication>> tenantKeys,
      long maxBodyBytes) {
    this.mapper = mapper;
    this.problems = new Problems(mapper);
    this.adminToken = adminToken;
    this.tenantKeys = tenantKeys;
    this.maxBodyBytes = maxBodyBytes;
    this.exceptions = exceptionHandler();
    this.rejections = rejectionHandler();
  }

  /**
   * Wraps a route tree so that every failure answers with a problem document. The tree is built
   * here, once: a directive's inner supplier is evaluated again for every request that reaches it,
   * so building the node's tree inside one rebuilt it per request (the OpenAPI document parsed from
   * YAML, Swagger UI's files read from the jar: a third of the node's CPU under workflow load).
   */
  public Route withProblemHandling(Supplier<Route> inner) {
    Route tree = inner.get();
    return handleExceptions(exceptions, () -> handleRejections(rejections, () -> tree));
  }

  // Built once: the 404 answer is a serialized document, and the handlers wrap every request.
  private ExceptionHandler exceptionHandler() {
    return ExceptionHandler.newBuilder()
        .match(ApiProblem.class, p -> complete(problems.response(p)))
        .match(EntityStreamSizeException.class, e -> complete(problems.response(tooLarge())))
        .matchAny(
            e -> extractRequest(request -> complete(problems.response(e, requestIdOf(request)))))
        .build();
  }

  /**
   * {@code inner} for {@code method} only: any other method is a 405 here rather than passed on to
   * the routes after this one (a literal path beside a {@code {id}} one, such as {@code
   * /services/events}).
   */
  public Route exclusively(HttpMethod method, Supplier<Route> inner) {
    return handleRejections(rejectionHandler(), () -> method(method, inner));
  }

  private RejectionHandler rejectionHandler() {
    return RejectionHandler.newBuilder()
        .handleAll(
            MethodRejection.class,
            rs -> {
              List<HttpMethod> allowed = rs.stream().map(MethodRejection::supported).toList();
              String names = String.join(", ", allowed.stream().map(HttpMethod::name).toList());
              return complete(
                  problems
                      .response(
                          new ApiProblem(
                              405,
                              "Method Not Allowed",
                              "this resource answers " + names,
                              List.of(),
                              null))
                      .addHeader(Allow.create(allowed.toArray(HttpMethod[]::new))));
            })
        .handle(
            org.apache.pekko.http.javadsl.server.MalformedRequestContentRejection.class,
            r ->
                complete(
                    problems.response(
                        r.getCause() instanceof EntityStreamSizeException
                            ? tooLarge()
                            : ApiProblem.badRequest("body", "cannot be read"))))
        .handle(
            org.apache.pekko.http.javadsl.server.AuthorizationFailedRejection.class,
            r ->
                complete(
                    problems.response(
                        new ApiProblem(
                            403,
                            "Forbidden",
                            "these credentials may not do this",
                            List.of(),
                            null))))
        .handle(
            org.apache.pekko.http.javadsl.server.UnsupportedRequestContentTypeRejection.class,
            r ->
                complete(
                    problems.response(
                        new ApiProblem(
                            415,
                            "Unsupported Media Type",
                            "send the body as application/json",
                            List.of(),
                            null))))
        .handleNotFound(complete(problems.response(ApiProblem.notFound("no such resource"))))
        .handle(
            org.apache.pekko.http.javadsl.server.Rejection.class,
            r ->
                complete(
                    problems.response(
                        ApiProblem.badRequest(
                            "the request was not understood ("
                                + r.getClass().getSimpleName().replace("Rejection", "")
                                + ")",
                            List.of()))))
        .build();
  }

  /**
   * Wraps the whole route tree: names the request ({@code X-Request-Id}, the client's when it is
   * valid, else a new UUID) in the request seen by inner routes and in the answer, counts it in
   * {@code metrics} by route template and status, and logs its access line carrying the id.
   */
  public Route observed(HttpMetrics metrics, Supplier<Route> inner) {
    return observed(metrics, RequestTracing.OFF, inner);
  }

  /**
   * As {@link #observed(HttpMetrics, Supplier)}, and with traces on, each request in a span of its
   * own ({@link RequestTracing}) that the inner routes work in.
   */
  public Route observed(HttpMetrics metrics, RequestTracing tracing, Supplier<Route> inner) {
    // Built once; the directives inside it still evaluate per request.
    Route tree = inner.get();
    return extractRequest(
        request -> {
          long start = System.nanoTime();
          String requestId = requestId(request.getHeader(REQUEST_ID).map(h -> h.value()));
          String method = request.method().name();
          String path = request.getUri().path();
          RawHeader header = RawHeader.create(REQUEST_ID, requestId);
          Optional<Span> span = tracing.start(request, method, path);
          Optional<RawHeader> spanHeader =
              span.map(
                  s -> RawHeader.create(TraceParent.HEADER, TraceParent.of(s.getSpanContext())));
          Optional<String> rawTarget =
              request.getHeader(RawRequestURI.class).map(RawRequestURI::uri);
          Optional<ApiProblem> badTarget = rawTarget.flatMap(RequestTarget::problem);
          // The log shows the path as sent (still encoded), not as Pekko resolved it.
          String loggedPath = loggable(rawTarget.map(RequestTarget::path).orElse(path));
          return mapRequest(
              r -> withOwnHeaders(r, header, spanHeader),
              () ->
                  respondWithHeader(
                      header,
                      () ->
                          mapResponse(
                              response -> {
                                long nanos = System.nanoTime() - start;
                                String route = RouteTemplate.of(path);
                                int status = response.status().intValue();
                                metrics.record(method, route, status, nanos);
                                if (span.isEmpty()) {
                                  logAccess(requestId, method, loggedPath, route, status, nanos);
                                } else {
                                  // The access line names the request's span too.
                                  RequestScope.inSpan(
                                      span.get().getSpanContext(),
                                      () -> {
                                        logAccess(
                                            requestId, method, loggedPath, route, status, nanos);
                                        return null;
                                      });
                                  RequestTracing.end(span.get(), method, route, status);
                                }
                                return response;
                              },
                              () ->
                                  withRequestTimeoutResponse(
                                      timedOut ->
                                          problems
                                              .response(
                                                  ApiProblem.unavailable(
                                                      "the node did not answer in time; retry"
                                                          + " later",
                                                      2))
                                              .addHeader(header),
                                      () ->
                                          badTarget
                                              .<Route>map(p -> complete(problems.response(p)))
                                              .orElseGet(
                                                  () ->
                                                      inRequestScope(
                                                          requestId,
                                                          span.map(Span::getSpanContext)
                                                              .orElse(SpanContext.getInvalid()),
                                                          () -> tree))))));
        });
  }

  /**
   * The request as the inner routes see it: with the id {@link #observed} gave it, and the span it
   * made as its {@code traceparent} (without traces, no traceparent: a client's is not followed).
   */
  private static org.apache.pekko.http.javadsl.model.HttpRequest withOwnHeaders(
      org.apache.pekko.http.javadsl.model.HttpRequest request,
      RawHeader requestId,
      Optional<RawHeader> span) {
    org.apache.pekko.http.javadsl.model.HttpRequest r =
        request.removeHeader(REQUEST_ID).addHeader(requestId);
    if (span.isPresent()) return r.removeHeader(TraceParent.HEADER).addHeader(span.get());
    return r.getHeader(TraceParent.HEADER).isPresent() ? r.removeHeader(TraceParent.HEADER) : r;
  }

  /** {@code path} with control characters escaped, so that a client cannot forge log lines. */
  static String loggable(String path) {
    StringBuilder out = new StringBuilder(path.length());
    path.codePoints()
        .forEach(
            c -> {
              if (Character.isISOControl(c)) out.append(String.format("%%%02X", c));
              else out.appendCodePoint(c);
            });
    return out.toString();
  }

  /**
   * {@code inner}, built and run with the request's id in the logging MDC ({@link RequestScope}):
   * the façades it calls send their commands on behalf of the request. Wraps every continuation
   * that may run on another thread (after the body or the tenant key is read).
   */
  private Route inRequestScope(Supplier<Route> inner) {
    return extractRequest(
        request ->
            requestIdOf(request)
                .map(id -> inRequestScope(id, RequestTracing.spanOf(request), inner))
                .orElseGet(inner));
  }

  private static Route inRequestScope(String requestId, SpanContext span, Supplier<Route> inner) {
    Optional<String> scope = Optional.of(requestId);
    // The route tree is built as it is evaluated, request by request: both happen in the call
    // below.
    if (!span.isValid())
      return RouteAdapter.asJava(
          ctx -> RequestScope.within(scope, () -> inner.get().asScala().apply(ctx)));
    return RouteAdapter.asJava(
        ctx ->
            RequestScope.within(
                scope, () -> RequestScope.inSpan(span, () -> inner.get().asScala().apply(ctx))));
  }

  /**
   * The id {@link #observed} gave the request (absent outside it, e.g. in route tests of one
   * route).
   */
  static Optional<String> requestIdOf(org.apache.pekko.http.javadsl.model.HttpRequest request) {
    return request.getHeader(REQUEST_ID).map(h -> h.value());
  }

  static String requestId(Optional<String> given) {
    return given
        .filter(id -> REQUEST_ID_VALUE.matcher(id).matches())
        .orElseGet(() -> java.util.UUID.randomUUID().toString());
  }

  private static void logAccess(
      String requestId, String method, String path, String route, int status, long nanos) {
    boolean enabled =
        status >= 500
            ? access.isWarnEnabled()
            : status >= 400 ? access.isInfoEnabled() : access.isDebugEnabled();
    if (!enabled) return;
    MDC.put(REQUEST_ID_FIELD, requestId);
    try {
      String format = "http request method={} path={} route={} status={} millis={}";
      Object[] args = {method, path, route, status, nanos / 1_000_000};
      if (status >= 500) access.warn(format, args);
      else if (status >= 400) access.info(format, args);
      else access.debug(format, args);
    } finally {
      MDC.remove(REQUEST_ID_FIELD);
    }
  }

  private ApiProblem tooLarge() {
    return new ApiProblem(
        413,
        "Content Too Large",
        "the body is larger than " + maxBodyBytes + " bytes",
        List.of(),
        null);
  }

  /**
   * Requires a known token: the admin token, or the API key of a tenant that is not suspended or
   * being deleted (403 with a problem saying which). The token never appears in an answer or a log.
   */
  public Route authenticated(Function<Caller, Route> inner) {
    return extractRequest(
        request ->
            optionalHeaderValueByName(
                "Authorization",
                header -> {
                  // Two Authorization headers: which one counts would depend on who reads them (a
                  // proxy, Keel).
                  long authorizations =
                      java.util.stream.StreamSupport.stream(
                              request.getHeaders().spliterator(), false)
                          .filter(h -> h.is("authorization"))
                          .count();
                  if (authorizations > 1) return unauthorized("send one Authorization header");
                  Optional<String> token =
                      header
                          .filter(h -> h.regionMatches(true, 0, "Bearer ", 0, 7))
                          .map(h -> h.substring(7).trim());
                  if (token.isEmpty()) return unauthorized("send Authorization: Bearer <token>");
                  if (adminToken.matches(token.get())) return inner.apply(Caller.ADMIN);
                  return onSuccess(
                      tenantKeys.apply(token.get()),
                      auth -> {
                        if (auth instanceof TenantService.AuthenticatedTenant t)
                          return inRequestScope(
                              () -> inner.apply(new Caller(t.tenantId(), t.role())));
                        if (auth instanceof TenantService.AuthenticatedCluster c)
                          return inRequestScope(() -> inner.apply(new Caller(null, c.role())));
                        TenantService.Refused refused = (TenantService.Refused) auth;
                        if (refused.status() == 403) {
                          return complete(
                              problems.response(
                                  new ApiProblem(
                                      403, "Forbidden", refused.detail(), List.of(), null)));
                        }
                        return unauthorized(refused.detail());
                      });
                }));
  }

  /**
   * Lets {@code inner} answer when {@link AccessPolicy} gives {@code caller} the request's route,
   * 403 naming the role and what the route needs otherwise. A request no rule covers is no route
   * either (every route has a rule: {@code AccessPolicyTest}; the route table is the tree: {@code
   * HostileInputIT}), so it goes on to its 404 or 405.
   */
  public Route authorized(Caller caller, Supplier<Route> inner) {
    return extractRequest(
        request -> {
          Optional<AccessPolicy.Permission> rule =
              AccessPolicy.ruleFor(request.method().name(), request.getUri().path());
          if (rule.isEmpty() || AccessPolicy.allows(caller, rule.get())) return inner.get();
          String who =
              caller.admin()
                  ? "the admin token"
                  : (caller.clusterWide() ? "a cluster " : "a ") + caller.role().wire() + " key";
          String detail = who + " may not do this (needs " + needs(rule.get()) + ")";
          return complete(
              problems.response(new ApiProblem(403, "Forbidden", detail, List.of(), null)));
        });
  }

  private static String needs(AccessPolicy.Permission p) {
    return switch (p) {
      case PUBLIC, CALLER, READ -> "any key";
      case OPERATE -> "an operator or admin key";
      case MANAGE -> "an admin key";
      case CLUSTER_ADMIN -> "the admin token";
    };
  }

  private Route unauthorized(String detail) {
    return complete(
        problems
            .response(new ApiProblem(401, "Unauthorized", detail, List.of(), null))
            .addHeader(WWWAuthenticate.create(HttpChallenge.create("Bearer", "keel"))));
  }

  /** Only the admin token may go on; a tenant key gets 403. */
  public Route adminOnly(Caller caller, Supplier<Route> inner) {
    if (caller.admin()) return inner.get();
    return complete(
        problems.response(
            new ApiProblem(403, "Forbidden", "only the admin token may do this", List.of(), null)));
  }

  /**
   * Runs {@code action} when {@code caller} may see the resource that {@code fetch} reads (its
   * owner by {@code owner}); another tenant's resource fails with {@code notFound}, exactly as one
   * that does not exist, so that ids don't leak. The admin skips the fetch.
   */
  public static <V, T> CompletionStage<T> visible(
      Caller caller,
      Supplier<CompletionStage<V>> fetch,
      Function<V, String> owner,
      Supplier<CompletionStage<T>> action,
      Supplier<ApiProblem> notFound) {
    if (caller.clusterWide()) return action.get();
    return fetch
        .get()
        .thenCompose(
            RequestScope.bound(
                resource ->
                    caller.sees(owner.apply(resource))
                        ? action.get()
                        : java.util.concurrent.CompletableFuture.failedFuture(notFound.get())));
  }

  /**
   * The tenant a new resource belongs to: the calling tenant's own, or for the admin the {@code
   * tenantId} it names (null: the admin's own), which must be a tenant id ({@link
   * Ids#tenantIdProblem}: one longer than the read models' columns stopped them). A tenant naming
   * another tenant is a 400.
   */
  public static String owner(
      Caller caller, String namedTenantId, List<ApiProblem.FieldError> errors) {
    if (caller.admin()) {
      if (namedTenantId != null) {
        Ids.tenantIdProblem(namedTenantId)
            .ifPresent(p -> errors.add(new ApiProblem.FieldError("tenantId", p)));
      }
      return namedTenantId;
    }
    if (namedTenantId != null && !namedTenantId.equals(caller.tenantId())) {
      errors.add(
          new ApiProblem.FieldError("tenantId", "only the admin token may name another tenant"));
    }
    return caller.tenantId();
  }

  /** A tenant key may not start (or schedule) Keel's own admin-only workflows: 403. */
  public static void requireMayStart(
      Caller caller, dev.keel.workflow.execution.WorkflowService workflows, String workflow) {
    if (!caller.admin() && workflows.adminOnly(workflow)) {
      throw new ApiProblem(
          403,
          "Forbidden",
          "only the admin token may start workflow '" + workflow + "'",
          List.of(),
          null);
    }
  }

  /** The request body as JSON; an absent body is {@code null} JSON when {@code optional}. */
  public Route jsonBody(boolean optional, Function<JsonNode, Route> inner) {
    return extractRequestEntity(
        entity -> {
          boolean empty =
              entity.isKnownEmpty() || entity.getContentLengthOption().orElse(-1L) == 0L;
          if (empty) {
            if (optional) return inner.apply(NullNode.getInstance());
            throw ApiProblem.badRequest("body", "a JSON body is required");
          }
          MediaType mediaType = entity.getContentType().mediaType();
          boolean json =
              mediaType.mainType().equals("application")
                  && (mediaType.subType().equals("json") || mediaType.subType().endsWith("+json"));
          if (!json) {
            return complete(
                problems.response(
                    new ApiProblem(
                        415,
                        "Unsupported Media Type",
                        "send the body as application/json, not " + mediaType,
                        List.of(),
                        null)));
          }
          return withSizeLimit(
              maxBodyBytes,
              () ->
                  entity(
                      Unmarshaller.entityToByteString(),
                      bytes -> inRequestScope(() -> inner.apply(parse(bytes)))));
        });
  }

  private JsonNode parse(ByteString bytes) {
    byte[] array = bytes.toArray();
    // Jackson decodes overlong UTF-8 (0xC0 0xAF as '/'): JSON is UTF-8 (RFC 8259), checked strictly
    // first.
    if (RequestTarget.strictUtf8(array) == null) {
      throw ApiProblem.badRequest(
          "the body is not valid UTF-8",
          List.of(new ApiProblem.FieldError("body", "is not valid UTF-8")));
    }
    try {
      JsonNode node = mapper.readTree(array);
      return node == null ? NullNode.getInstance() : node;
    } catch (JsonProcessingException e) {
      String where =
          e.getLocation() == null
              ? ""
              : " at line "
                  + e.getLocation().getLineNr()
                  + ", column "
                  + e.getLocation().getColumnNr();
      throw ApiProblem.badRequest(
          "the body is not valid JSON" + where,
          List.of(new ApiProblem.FieldError("body", "malformed JSON")));
    } catch (java.io.IOException e) {
      throw ApiProblem.badRequest("body", "cannot be read");
    }
  }

  public HttpResponse json(StatusCode status, Object body) {
    try {
      return HttpResponse.create()
          .withStatus(status)
          .withEntity(
              org.apache.pekko.http.javadsl.model.HttpEntities.create(
                  ContentTypes.APPLICATION_JSON, mapper.writeValueAsBytes(body)));
    } catch (JsonProcessingException e) {
      return problems.response(e);
    }
  }

  /** Completes with {@code onSuccess(value)} or with the failure's problem document. */
  public <T> Route answer(CompletionStage<T> stage, Function<T, HttpResponse> onSuccess) {
    return extractRequest(
        request ->
            completeWithFuture(
                stage.handle(
                    (value, error) ->
                        error == null
                            ? onSuccess.apply(value)
                            : problems.response(error, requestIdOf(request)))));
  }

  public <T> Route answerOk(CompletionStage<T> stage) {
    return answer(stage, v -> json(StatusCodes.OK, v));
  }

  /**
   * Checks what every list shares (API.md, Lists): only {@code known} parameters, and a {@code
   * limit} from 1 to 500 (default 50). Adds what is wrong to {@code errors}; returns the limit.
   */
  public static int pageLimit(
      java.util.Map<String, String> params,
      java.util.Set<String> known,
      List<ApiProblem.FieldError> errors) {
    for (String p : params.keySet()) {
      if (!known.contains(p)) errors.add(new ApiProblem.FieldError(p, "is not a known parameter"));
    }
    if (!params.containsKey("limit")) return 50;
    try {
      int limit = Integer.parseInt(params.get("limit"));
      if (limit < 1 || limit > 500)
        errors.add(new ApiProblem.FieldError("limit", "must be between 1 and 500"));
      return limit;
    } catch (NumberFormatException e) {
      errors.add(new ApiProblem.FieldError("limit", "must be a whole number"));
      return 50;
    }
  }

  public static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s;
  }

  public static String requirePathId(String value) {
    if (value == null || !Ids.ANY_PATTERN.matcher(value).matches()) {
      throw ApiProblem.badRequest("id", "is not a valid id");
    }
    return value;
  }

  public static String requireId(String field, String value) {
    if (value == null || !Ids.PATTERN.matcher(value).matches()) {
      throw ApiProblem.badRequest(field, "must match " + Ids.PATTERN.pattern());
    }
    return value;
  }
}
