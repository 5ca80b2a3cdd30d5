package dev.keel.workflow.schedule;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;

/**
 * What schedule entities count, registered once. Incremented in side effects after a persist, never
 * in event handlers, so replays count nothing.
 */
public final class ScheduleMetrics {

  /** Counts into nothing (tests, embedders without a registry). */
  public static final ScheduleMetrics NONE = new ScheduleMetrics(new CompositeMeterRegistry());

  private final Counter tickFailures;

  public ScheduleMetrics(MeterRegistry registry) {
    tickFailures =
        Counter.builder("keel.schedules.tick.failures")
            .description(
                "ticks whose workflow could not be started (each failed attempt, retries included)"
                    + " on this node")
            .register(registry);
  }

  void tickFailed() {
    tickFailures.increment();
  }
}
