package dev.keel.persistence;

import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.MDC;

/**
 * The request a piece of work is done for, kept as the {@value #MDC_FIELD} field of the logging MDC
 * so that every line logged on its behalf carries it: the HTTP layer opens the scope, a façade
 * wraps the commands it sends in it ({@link #onBehalf}), and the entity handles such a command, and
 * runs that command's side effects, in the same scope ({@link SnapshottedEntity}).
 *
 * <p>The MDC is per thread and work hops threads at every asynchronous step, so code that goes on
 * in a callback carries the scope over with {@link #bound}.
 *
 * <p>With traces on ({@link KeelTracing}) the scope also holds the span the work is done in, as the
 * {@value #TRACE_ID_FIELD}, {@value #SPAN_ID_FIELD} and {@value #TRACE_FLAGS_FIELD} fields: log
 * lines carry them, {@link #bound} and {@link #onBehalf} carry them on, and outgoing requests name
 * the span in their {@code traceparent} header. With traces off the fields are never set.
 */
public final class RequestScope {

  public static final String MDC_FIELD = "requestId";

  /** The current span's trace id (32 hex digits), OpenTelemetry's usual MDC name. */
  public static final String TRACE_ID_FIELD = "trace_id";

  public static final String SPAN_ID_FIELD = "span_id";

  public static final String TRACE_FLAGS_FIELD = "trace_flags";

  private RequestScope() {}

  /** The request the current thread works for, if any. */
  public static Optional<String> current() {
    return Optional.ofNullable(MDC.get(MDC_FIELD));
  }

  /** The span the current thread works in, as a W3C {@code traceparent}, if any. */
  public static Optional<String> traceParent() {
    return Optional.ofNullable(TraceParent.of(currentSpan()));
  }

  /** The span the current thread works in; invalid when none (always, with traces off). */
  public static SpanContext currentSpan() {
    String traceId = MDC.get(TRACE_ID_FIELD);
    if (traceId == null) return SpanContext.getInvalid();
    String flags = MDC.get(TRACE_FLAGS_FIELD);
    return SpanContext.createFromRemoteParent(
        traceId,
        MDC.get(SPAN_ID_FIELD),
        flags == null ? TraceFlags.getSampled() : TraceFlags.fromHex(flags, 0),
        TraceState.getDefault());
  }

  /**
   * Runs {@code body} for {@code requestId} (none: for no request), then restores the thread's
   * scope.
   */
  public static <T> T within(Optional<String> requestId, Supplier<T> body) {
    Scope before = Scope.current();
    set(requestId.orElse(null));
    try {
      return body.get();
    } finally {
      before.restore();
    }
  }

  /**
   * Runs {@code body} in span {@code span} (an invalid one: in none), for the same request, then
   * restores the thread's scope.
   */
  public static <T> T inSpan(SpanContext span, Supplier<T> body) {
    try (Entered entered = enter(span)) {
      return body.get();
    }
  }

  /**
   * Puts span {@code span} (an invalid one: none) in the thread's scope until the answer is closed,
   * which restores what was there: for code that throws checked exceptions.
   */
  public static Entered enter(SpanContext span) {
    Scope before = Scope.current();
    setSpan(span);
    return before::restore;
  }

  /** A scope entered with {@link #enter}; closing it restores the one before. */
  public interface Entered extends AutoCloseable {
    @Override
    void close();
  }

  /** {@code next}, run in the scope current now, wherever and whenever it is called. */
  public static <A, B> Function<A, B> bound(Function<A, B> next) {
    Scope scope = Scope.current();
    return a -> scope.run(() -> next.apply(a));
  }

  /** {@code next}, run in the scope current now, wherever and whenever it is called. */
  public static <A, B, R> BiFunction<A, B, R> bound(BiFunction<A, B, R> next) {
    Scope scope = Scope.current();
    return (a, b) -> scope.run(() -> next.apply(a, b));
  }

  /** {@code supplier}, run in the scope current now, wherever and whenever it is called. */
  public static <T> Supplier<T> bound(Supplier<T> supplier) {
    Scope scope = Scope.current();
    return () -> scope.run(supplier);
  }

  /**
   * {@code command} as sent on behalf of the current request or span: wrapped by {@code traced}
   * when there is one, as it is otherwise (timers, the runner and other entities send for no
   * request).
   */
  public static <C> C onBehalf(C command, Wrapper<C> traced) {
    String requestId = MDC.get(MDC_FIELD);
    String traceParent = MDC.get(TRACE_ID_FIELD) == null ? null : traceParent().orElse(null);
    return requestId == null && traceParent == null
        ? command
        : traced.wrap(requestId, traceParent, command);
  }

  /** How an entity type wraps a command sent on behalf of a request: its {@link Traced} record. */
  @FunctionalInterface
  public interface Wrapper<C> {
    C wrap(String requestId, String traceParent, C command);
  }

  /** The MDC fields of the current scope, for {@code Behaviors.withMdc}. */
  static Map<String, String> fields() {
    String requestId = MDC.get(MDC_FIELD);
    if (MDC.get(TRACE_ID_FIELD) == null)
      return requestId == null ? Map.of() : Map.of(MDC_FIELD, requestId);
    Map<String, String> fields = new HashMap<>(4);
    for (String field : FIELDS) {
      String value = MDC.get(field);
      if (value != null) fields.put(field, value);
    }
    return fields;
  }

  static void setSpan(SpanContext span) {
    if (span.isValid()) {
      MDC.put(TRACE_ID_FIELD, span.getTraceId());
      MDC.put(SPAN_ID_FIELD, span.getSpanId());
      MDC.put(TRACE_FLAGS_FIELD, span.getTraceFlags().asHex());
    } else if (MDC.get(TRACE_ID_FIELD) != null) {
      MDC.remove(TRACE_ID_FIELD);
      MDC.remove(SPAN_ID_FIELD);
      MDC.remove(TRACE_FLAGS_FIELD);
    }
  }

  private static final String[] FIELDS = {
    MDC_FIELD, TRACE_ID_FIELD, SPAN_ID_FIELD, TRACE_FLAGS_FIELD
  };

  /** The MDC fields of a scope, captured to be set again on another thread. */
  private record Scope(String[] values) {
    static Scope current() {
      String[] values = new String[FIELDS.length];
      for (int i = 0; i < FIELDS.length; i++) values[i] = MDC.get(FIELDS[i]);
      return new Scope(values);
    }

    void restore() {
      for (int i = 0; i < FIELDS.length; i++) {
        if (values[i] == null) MDC.remove(FIELDS[i]);
        else MDC.put(FIELDS[i], values[i]);
      }
    }

    <T> T run(Supplier<T> body) {
      Scope before = current();
      restore();
      try {
        return body.get();
      } finally {
        before.restore();
      }
    }
  }

  static void set(String requestId) {
    if (requestId == null) MDC.remove(MDC_FIELD);
    else MDC.put(MDC_FIELD, requestId);
  }

  /**
   * A command sent on behalf of a request: the entity handles {@link #command()} with {@link
   * #requestId()} in the MDC, and in a span of its own under {@link #traceParent()} when that is
   * set (traces on). Each entity type has one such record among its commands.
   */
  public interface Traced<C> {
    /** The request, or null when the command was sent in a span but for no request. */
    String requestId();

    /** The span the command was sent in (a W3C traceparent), or null. */
    String traceParent();

    C command();
  }
}
