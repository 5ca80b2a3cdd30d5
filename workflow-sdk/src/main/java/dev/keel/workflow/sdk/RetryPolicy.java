package dev.keel.workflow.sdk;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * How a failing step is retried: exponential backoff from {@code initialBackoff}, multiplied by
 * {@code multiplier} per attempt up to {@code maxBackoff}, each delay spread by +/- {@code jitter}
 * (a fraction, 0 to 1). Exceptions of the {@code nonRetryable} types (or their subtypes) fail the
 * step at once.
 *
 * <pre>{@code
 * RetryPolicy.defaults().withMaxAttempts(10).withNonRetryable(IllegalArgumentException.class)
 * }</pre>
 */
public record RetryPolicy(
    int maxAttempts,
    Duration initialBackoff,
    Duration maxBackoff,
    double multiplier,
    double jitter,
    List<Class<? extends Throwable>> nonRetryable) {

  public RetryPolicy {
    if (maxAttempts < 1) throw new IllegalArgumentException("maxAttempts must be at least 1");
    Objects.requireNonNull(initialBackoff, "initialBackoff");
    Objects.requireNonNull(maxBackoff, "maxBackoff");
    if (initialBackoff.isNegative())
      throw new IllegalArgumentException("initialBackoff must not be negative");
    if (maxBackoff.compareTo(initialBackoff) < 0)
      throw new IllegalArgumentException("maxBackoff must be at least initialBackoff");
    if (multiplier < 1.0) throw new IllegalArgumentException("multiplier must be at least 1");
    if (jitter < 0.0 || jitter > 1.0)
      throw new IllegalArgumentException("jitter must be between 0 and 1");
    nonRetryable = List.copyOf(nonRetryable);
  }

  /** One attempt, no retry. */
  public static RetryPolicy none() {
    return new RetryPolicy(1, Duration.ZERO, Duration.ZERO, 1.0, 0.0, List.of());
  }

  /** 5 attempts, 1 s doubling up to 1 min, 20% jitter. */
  public static RetryPolicy defaults() {
    return new RetryPolicy(5, Duration.ofSeconds(1), Duration.ofMinutes(1), 2.0, 0.2, List.of());
  }

  public RetryPolicy withMaxAttempts(int n) {
    return new RetryPolicy(n, initialBackoff, maxBackoff, multiplier, jitter, nonRetryable);
  }

  public RetryPolicy withBackoff(Duration initial, Duration max, double factor) {
    return new RetryPolicy(maxAttempts, initial, max, factor, jitter, nonRetryable);
  }

  public RetryPolicy withJitter(double fraction) {
    return new RetryPolicy(
        maxAttempts, initialBackoff, maxBackoff, multiplier, fraction, nonRetryable);
  }

  @SafeVarargs
  public final RetryPolicy withNonRetryable(Class<? extends Throwable>... types) {
    return new RetryPolicy(
        maxAttempts, initialBackoff, maxBackoff, multiplier, jitter, List.of(types));
  }

  /** Whether a failure of {@code attempt} (1-based) with {@code error} gets another attempt. */
  public boolean retries(int attempt, Throwable error) {
    if (attempt >= maxAttempts) return false;
    for (Class<? extends Throwable> type : nonRetryable) {
      if (type.isInstance(error)) return false;
    }
    return true;
  }

  /**
   * The delay before attempt {@code attempt + 1}; {@code random} in [0, 1) spreads it by the
   * jitter. The caller journals the resulting instant, so replays never recompute it.
   */
  public Duration backoffAfter(int attempt, double random) {
    double base = initialBackoff.toMillis() * Math.pow(multiplier, Math.max(0, attempt - 1));
    double capped = Math.min(base, (double) maxBackoff.toMillis());
    double spread = capped * jitter * (2 * random - 1);
    return Duration.ofMillis(Math.max(0, Math.round(capped + spread)));
  }
}
