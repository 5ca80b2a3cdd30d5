package dev.keel.persistence;

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
 */
public final class RequestScope {

  public static final String MDC_FIELD = "requestId";

  private RequestScope() {}

  /** The request the current thread works for, if any. */
  public static Optional<String> current() {
    return Optional.ofNullable(MDC.get(MDC_FIELD));
  }

  /**
   * Runs {@code body} for {@code requestId} (none: for no request), then restores the thread's
   * scope.
   */
  public static <T> T within(Optional<String> requestId, Supplier<T> body) {
    String before = MDC.get(MDC_FIELD);
    set(requestId.orElse(null));
    try {
      return body.get();
    } finally {
      set(before);
    }
  }

  /** {@code next}, run in the scope current now, wherever and whenever it is called. */
  public static <A, B> Function<A, B> bound(Function<A, B> next) {
    Optional<String> requestId = current();
    return a -> within(requestId, () -> next.apply(a));
  }

  /** {@code next}, run in the scope current now, wherever and whenever it is called. */
  public static <A, B, R> BiFunction<A, B, R> bound(BiFunction<A, B, R> next) {
    Optional<String> requestId = current();
    return (a, b) -> within(requestId, () -> next.apply(a, b));
  }

  /** {@code supplier}, run in the scope current now, wherever and whenever it is called. */
  public static <T> Supplier<T> bound(Supplier<T> supplier) {
    Optional<String> requestId = current();
    return () -> within(requestId, supplier);
  }

  /**
   * {@code command} as sent on behalf of the current request: wrapped by {@code traced} when there
   * is one, as it is otherwise (timers, the runner and other entities send for no request).
   */
  public static <C> C onBehalf(C command, BiFunction<String, C, ? extends C> traced) {
    String requestId = MDC.get(MDC_FIELD);
    return requestId == null ? command : traced.apply(requestId, command);
  }

  static void set(String requestId) {
    if (requestId == null) MDC.remove(MDC_FIELD);
    else MDC.put(MDC_FIELD, requestId);
  }

  /**
   * A command sent on behalf of a request: the entity handles {@link #command()} with {@link
   * #requestId()} in the MDC. Each entity type has one such record among its commands.
   */
  public interface Traced<C> {
    String requestId();

    C command();
  }
}
