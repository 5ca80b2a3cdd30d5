package dev.keel.registry.history;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A history query: which tier answers a span at a step ({@link #plan}), and the answer's points,
 * the tier's buckets summarised per step ({@link #answer}).
 */
public final class HistoryQuery {

  /** At most this many points per metric, so that an answer stays small. */
  public static final int MAX_POINTS = 1_500;

  /** Points per metric when the step is not given. */
  public static final int DEFAULT_POINTS = 60;

  /**
   * What to read: buckets of {@code resolution} from {@code fromBucket} (epoch seconds) on, grouped
   * by {@code step}; {@code metric} null for every metric.
   */
  public record Plan(
      Instant since, Duration step, Duration resolution, long fromBucket, String metric) {}

  /** One point: a step's values summarised. {@code mean} is over every value reported in it. */
  public record Point(Instant time, double min, double max, double last, double mean) {}

  public record Series(String name, List<Point> points) {}

  /**
   * The answer: the span from {@code since}, the step its points are (a multiple of the tier's
   * {@code resolution}), a series per metric by name.
   */
  public record History(
      String serviceId, Instant since, Duration step, Duration resolution, List<Series> metrics) {}

  private HistoryQuery() {}

  /**
   * The plan for {@code span} back from {@code now} at {@code step} (null: about {@value
   * #DEFAULT_POINTS} points): the coarsest tier that keeps the whole span and is no coarser than
   * the step, else the finest that keeps the span; the step rounded up to a multiple of its
   * resolution.
   *
   * @throws IllegalArgumentException naming the parameter ({@code since} or {@code step}) at fault
   */
  public static Plan plan(
      MetricHistorySettings settings, Instant now, Duration span, Duration step, String metric) {
    if (span.isNegative() || span.isZero())
      throw new IllegalArgumentException("since: must be a positive duration");
    if (step != null && (step.isNegative() || step.isZero()))
      throw new IllegalArgumentException("step: must be a positive duration");
    List<MetricHistorySettings.Tier> covering =
        settings.tiers().stream().filter(t -> t.retention().compareTo(span) >= 0).toList();
    if (covering.isEmpty())
      throw new IllegalArgumentException(
          "since: history is kept for at most " + settings.longestRetention());
    Duration wanted =
        step != null ? step : Duration.ofSeconds(Math.max(1, span.toSeconds() / DEFAULT_POINTS));
    MetricHistorySettings.Tier tier = covering.get(0);
    for (MetricHistorySettings.Tier t : covering)
      if (t.resolution().compareTo(wanted) <= 0) tier = t;
    long res = tier.resolutionSeconds();
    long stepSeconds = Math.max(res, ((wanted.toSeconds() + res - 1) / res) * res);
    if (span.toSeconds() / stepSeconds > MAX_POINTS)
      throw new IllegalArgumentException(
          "step: at most "
              + MAX_POINTS
              + " points per metric; for this span use at least PT"
              + ((span.toSeconds() + MAX_POINTS - 1) / MAX_POINTS)
              + "S");
    long from = now.getEpochSecond() - span.toSeconds();
    long fromStep = from - Math.floorMod(from, stepSeconds);
    return new Plan(
        Instant.ofEpochSecond(fromStep),
        Duration.ofSeconds(stepSeconds),
        tier.resolution(),
        fromStep,
        metric);
  }

  /** The buckets (by metric, then time) grouped by step; rows of another owner left out. */
  public static History answer(
      String serviceId, String tenantId, Plan plan, List<BucketAggregate> rows) {
    long step = plan.step().toSeconds();
    Map<String, List<Point>> series = new LinkedHashMap<>();
    BucketAggregate group = null;
    long groupStart = 0;
    for (BucketAggregate row : rows) {
      if (!Objects.equals(row.tenantId(), tenantId)) continue;
      long start = row.bucket() - Math.floorMod(row.bucket(), step);
      if (group != null && group.metric().equals(row.metric()) && groupStart == start) {
        group = group.merge(row);
        continue;
      }
      if (group != null) add(series, group, groupStart);
      group = row;
      groupStart = start;
    }
    if (group != null) add(series, group, groupStart);
    List<Series> metrics = new ArrayList<>();
    series.forEach((name, points) -> metrics.add(new Series(name, List.copyOf(points))));
    return new History(serviceId, plan.since(), plan.step(), plan.resolution(), metrics);
  }

  private static void add(Map<String, List<Point>> series, BucketAggregate g, long start) {
    series
        .computeIfAbsent(g.metric(), m -> new ArrayList<>())
        .add(
            new Point(
                Instant.ofEpochSecond(start), g.min(), g.max(), g.last(), g.total() / g.samples()));
  }
}
