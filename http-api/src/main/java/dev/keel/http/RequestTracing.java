package dev.keel.http;

import dev.keel.persistence.KeelTracing;
import dev.keel.persistence.TraceParent;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import java.util.Optional;
import org.apache.pekko.http.javadsl.model.HttpRequest;

/**
 * The HTTP request span of issue 19's traces: one {@code SERVER} span per request, under the
 * client's W3C {@code traceparent} when it sent a valid one, named by method and route template
 * once the route is known. Inside {@link HttpApi#observed} the request's {@code traceparent} header
 * is this span's (or absent with traces off), which is how routes that go on after reading the body
 * find it again ({@link HttpApi}'s request scope).
 */
public final class RequestTracing {

  /** Traces off: no span, and a client's traceparent is not followed. */
  public static final RequestTracing OFF = new RequestTracing(null);

  private final KeelTracing tracing;

  private RequestTracing(KeelTracing tracing) {
    this.tracing = tracing;
  }

  /** Spans from {@code tracing} when it is on. */
  public static RequestTracing of(KeelTracing tracing) {
    return tracing.enabled() ? new RequestTracing(tracing) : OFF;
  }

  boolean enabled() {
    return tracing != null;
  }

  /** The request's span, started now; empty with traces off. */
  Optional<Span> start(HttpRequest request, String method, String path) {
    if (tracing == null) return Optional.empty();
    String parent = request.getHeader(TraceParent.HEADER).map(h -> h.value()).orElse(null);
    return Optional.of(
        tracing
            .child(method, parent)
            .setSpanKind(SpanKind.SERVER)
            .setAttribute("http.request.method", method)
            .setAttribute("url.path", path)
            .startSpan());
  }

  /** Ends {@code span} with the answer's status, renamed after the route it matched. */
  static void end(Span span, String method, String route, int status) {
    span.updateName(method + " " + route);
    span.setAttribute("http.route", route);
    span.setAttribute("http.response.status_code", status);
    if (status >= 500) span.setStatus(StatusCode.ERROR);
    span.end();
  }

  /** The span named by the request's {@code traceparent} header; invalid when none. */
  static SpanContext spanOf(HttpRequest request) {
    return request
        .getHeader(TraceParent.HEADER)
        .flatMap(h -> TraceParent.parse(h.value()))
        .orElse(SpanContext.getInvalid());
  }
}
