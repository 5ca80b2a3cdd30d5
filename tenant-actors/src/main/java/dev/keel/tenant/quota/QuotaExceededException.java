package dev.keel.tenant.quota;

/**
 * A new service, workflow start or domain refused because the tenant's plan does not allow it;
 * routes answer 429 naming {@link #quota()}, with {@code Retry-After} when {@link
 * #retryAfterSeconds()} is not null (the next month, for workflow starts).
 */
public final class QuotaExceededException extends RuntimeException {

  private final Quota quota;
  private final String plan;
  private final long limit;
  private final long used;
  private final Long retryAfterSeconds;

  public QuotaExceededException(
      Quota quota, String plan, long limit, long used, String detail, Long retryAfterSeconds) {
    super(detail, null, false, false);
    this.quota = quota;
    this.plan = plan;
    this.limit = limit;
    this.used = used;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  public Quota quota() {
    return quota;
  }

  public String plan() {
    return plan;
  }

  public long limit() {
    return limit;
  }

  public long used() {
    return used;
  }

  /**
   * Seconds until time alone lifts the refusal; null when it never does (delete something first).
   */
  public Long retryAfterSeconds() {
    return retryAfterSeconds;
  }
}
