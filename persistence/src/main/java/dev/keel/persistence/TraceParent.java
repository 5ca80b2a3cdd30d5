package dev.keel.persistence;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The W3C {@code traceparent} header value of a span, read and written by OpenTelemetry's
 * propagator: how a span is named in a request header, in a command sent to another node and in the
 * journal (a workflow execution's trace, see {@code WorkflowStarted}).
 */
public final class TraceParent {

  /** The W3C Trace Context header. */
  public static final String HEADER = "traceparent";

  private static final W3CTraceContextPropagator W3C = W3CTraceContextPropagator.getInstance();

  private static final TextMapGetter<String> ONE_VALUE =
      new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(String carrier) {
          return List.of(HEADER);
        }

        @Override
        public String get(String carrier, String key) {
          return HEADER.equals(key) ? carrier : null;
        }
      };

  private TraceParent() {}

  /** The span {@code value} names; empty when it is null or not a valid traceparent. */
  public static Optional<SpanContext> parse(String value) {
    if (value == null || value.isEmpty()) return Optional.empty();
    SpanContext span =
        Span.fromContext(W3C.extract(Context.root(), value, ONE_VALUE)).getSpanContext();
    return span.isValid() ? Optional.of(span) : Optional.empty();
  }

  /** {@code span} as a traceparent value; null for an invalid span (traces off). */
  public static String of(SpanContext span) {
    if (!span.isValid()) return null;
    Map<String, String> headers = new HashMap<>(2);
    W3C.inject(Context.root().with(Span.wrap(span)), headers, Map::put);
    return headers.get(HEADER);
  }
}
