package dev.keel.workflow.schedule;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * Settings for schedules, read once from {@code keel.schedules} (defaults in
 * {@code keel-schedules.conf}).
 *
 * @param askTimeout how long a caller waits for a schedule entity to answer, and how long a tick
 *     waits for the workflow start before it counts as failed
 * @param retryBackoff how long a tick whose workflow could not be started waits before it tries
 *     again
 */
public record ScheduleSettings(Duration askTimeout, Duration retryBackoff) {

  public ScheduleSettings {
    requirePositive("ask-timeout", askTimeout);
    requirePositive("tick-retry-backoff", retryBackoff);
  }

  /** Reads the {@code keel.schedules} section: {@code ask-timeout}, {@code tick-retry-backoff}. */
  public static ScheduleSettings fromConfig(Config keelWorkflowsScheduleConfig) {
    return new ScheduleSettings(
        keelWorkflowsScheduleConfig.getDuration("ask-timeout"),
        keelWorkflowsScheduleConfig.getDuration("tick-retry-backoff"));
  }

  private static void requirePositive(String setting, Duration value) {
    if (value == null || value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException("keel.schedules." + setting + " must be a positive duration, got " + value);
    }
  }
}
