package dev.keel.tenant.quota;

/**
 * How much of one quota a tenant uses: {@code state} is {@code unlimited}, {@code ok}, {@code
 * at-limit} (the next new one is refused) or {@code over} (more than the plan allows: the read
 * models trailed a burst, or the plan shrank).
 */
public record QuotaUsage(String quota, long used, long limit, String state) {

  public static QuotaUsage of(Quota quota, long used, long limit) {
    String state;
    if (limit < 0) state = "unlimited";
    else if (used > limit) state = "over";
    else if (used == limit) state = "at-limit";
    else state = "ok";
    return new QuotaUsage(quota.key(), used, limit, state);
  }

  /** At or over the limit: a new one is refused. */
  public boolean reached() {
    return limit >= 0 && used >= limit;
  }
}
