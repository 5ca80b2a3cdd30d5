package dev.keel.persistence;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;

/**
 * The node's tracer (issue 19's traces), one per actor system: off until the node installs an
 * OpenTelemetry SDK ({@code --otel}), and while off nothing below asks it for a span. The trace a
 * piece of work belongs to travels with it in the logging MDC, beside its request ({@link
 * RequestScope}), so that log lines carry the trace and span ids and every asynchronous hop that
 * keeps the request keeps the trace.
 *
 * <pre>{@code
 * KeelTracing tracing = KeelTracing.get(system);
 * if (tracing.enabled()) {
 *   Span span = tracing.child("workflow Start", traceParent).startSpan();
 *   ...
 * }
 * }</pre>
 */
public final class KeelTracing implements Extension {

  /** The instrumentation scope of every span Keel makes. */
  public static final String SCOPE = "dev.keel";

  private static final ExtensionId<KeelTracing> ID =
      new ExtensionId<>() {
        @Override
        public KeelTracing createExtension(ActorSystem<?> system) {
          return new KeelTracing();
        }
      };

  private volatile Tracer tracer = OpenTelemetry.noop().getTracer(SCOPE);
  private volatile boolean enabled;

  private KeelTracing() {}

  public static KeelTracing get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  /** Turns tracing on for this actor system: before the entities and routes start. */
  public void install(OpenTelemetry openTelemetry) {
    this.tracer = openTelemetry.getTracer(SCOPE);
    this.enabled = true;
  }

  /** Whether spans are made; the one check the hot paths pay when traces are off. */
  public boolean enabled() {
    return enabled;
  }

  public Tracer tracer() {
    return tracer;
  }

  /**
   * A span named {@code name} under the span {@code traceParent} names (a W3C {@code traceparent}),
   * or a new trace's root when it names none or is malformed.
   */
  public SpanBuilder child(String name, String traceParent) {
    SpanBuilder builder = tracer.spanBuilder(name).setSpanKind(SpanKind.INTERNAL);
    Optional<SpanContext> parent = TraceParent.parse(traceParent);
    return parent.isPresent()
        ? builder.setParent(Context.root().with(Span.wrap(parent.get())))
        : builder.setNoParent();
  }
}
