package dev.keel.registry.history;

/**
 * What one bucket of one series holds: the values reported within it summarised (count, sum, min,
 * max, and the last one by report time). Two aggregates of the same bucket merge into the one of
 * all their values, in any order: this is what lets two flushes, two nodes or a restart write the
 * same bucket.
 */
public record BucketAggregate(
    String serviceId,
    String tenantId,
    String metric,
    long resolutionSeconds,
    long bucket,
    int samples,
    double total,
    double min,
    double max,
    double last,
    long lastAtMillis) {

  /**
   * One value reported at {@code atMillis}, in the bucket of {@code resolutionSeconds} it is in.
   */
  public static BucketAggregate of(
      String serviceId,
      String tenantId,
      String metric,
      long resolutionSeconds,
      double value,
      long atMillis) {
    long seconds = Math.floorDiv(atMillis, 1000L);
    long bucket = seconds - Math.floorMod(seconds, resolutionSeconds);
    return new BucketAggregate(
        serviceId,
        tenantId,
        metric,
        resolutionSeconds,
        bucket,
        1,
        value,
        value,
        value,
        value,
        atMillis);
  }

  /** The same series and bucket: what both summarise together. */
  public BucketAggregate merge(BucketAggregate o) {
    boolean later = o.lastAtMillis >= lastAtMillis;
    return new BucketAggregate(
        serviceId,
        later ? o.tenantId : tenantId,
        metric,
        resolutionSeconds,
        bucket,
        samples + o.samples,
        total + o.total,
        Math.min(min, o.min),
        Math.max(max, o.max),
        later ? o.last : last,
        Math.max(lastAtMillis, o.lastAtMillis));
  }

  /** Identifies the row: service, metric, tier and bucket. */
  public Key key() {
    return new Key(serviceId, metric, resolutionSeconds, bucket);
  }

  public record Key(String serviceId, String metric, long resolutionSeconds, long bucket) {}
}
