package dev.keel.workflow.schedule;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * Settings for schedules, read once from {@code keel.schedules} (defaults in {@code
 * keel-schedules.conf}).
 *
 * @param askTimeout how long a caller waits for a schedule entity to answer, and how long a tick
 *     waits for the workflow start before it counts as failed
 * @param retryBackoff how long a tick whose workflow could not be started waits before the first
 *     retry; each further failure in a row doubles the wait
 * @param maxRetryBackoff the longest wait between two retries
 */
public record ScheduleSettings(
    Duration askTimeout, Duration retryBackoff, Duration maxRetryBackoff) {

  public ScheduleSettings {
    requirePositive("ask-timeout", askTimeout);
    requirePositive("tick-retry-backoff", retryBackoff);
    requirePositive("tick-retry-max-backoff", maxRetryBackoff);
    if (maxRetryBackoff.compareTo(retryBackoff) < 0) {
      throw new IllegalArgumentException(
          "keel.schedules.tick-retry-max-backoff ("
              + maxRetryBackoff
              + ") must be at least tick-retry-backoff ("
              + retryBackoff
              + ")");
    }
  }

  /**
   * Reads the {@code keel.schedules} section: {@code ask-timeout}, {@code tick-retry-backoff},
   * {@code tick-retry-max-backoff}.
   */
  public static ScheduleSettings fromConfig(Config keelWorkflowsScheduleConfig) {
    return new ScheduleSettings(
        keelWorkflowsScheduleConfig.getDuration("ask-timeout"),
        keelWorkflowsScheduleConfig.getDuration("tick-retry-backoff"),
        keelWorkflowsScheduleConfig.getDuration("tick-retry-max-backoff"));
  }

  /**
   * The wait after the {@code failures}-th failed start in a row (1 for the first): doubling,
   * capped.
   */
  public Duration retryDelay(int failures) {
    Duration delay = retryBackoff;
    for (int i = 1; i < failures && delay.compareTo(maxRetryBackoff) < 0; i++)
      delay = delay.multipliedBy(2);
    return delay.compareTo(maxRetryBackoff) > 0 ? maxRetryBackoff : delay;
  }

  private static void requirePositive(String setting, Duration value) {
    if (value == null || value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(
          "keel.schedules." + setting + " must be a positive duration, got " + value);
    }
  }
}
