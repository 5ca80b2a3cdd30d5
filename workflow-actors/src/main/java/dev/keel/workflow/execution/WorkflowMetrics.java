package dev.keel.workflow.execution;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.time.Duration;

/**
 * What execution entities count, registered once so that the hot path only increments. Called in
 * side effects after a persist, never in event handlers, so replays count nothing twice.
 */
public final class WorkflowMetrics {

  /** Counts into nothing (tests, embedders without a registry). */
  public static final WorkflowMetrics NONE = new WorkflowMetrics(new CompositeMeterRegistry());

  private static final Duration[] LATENCY_BUCKETS = {
    Duration.ofMillis(1),
    Duration.ofMillis(2),
    Duration.ofMillis(5),
    Duration.ofMillis(10),
    Duration.ofMillis(25),
    Duration.ofMillis(50),
    Duration.ofMillis(100),
    Duration.ofMillis(250),
    Duration.ofMillis(500),
    Duration.ofSeconds(1),
    Duration.ofSeconds(5),
    Duration.ofSeconds(30)
  };

  private final Counter started;
  private final Counter completed;
  private final Counter failed;
  private final Counter cancelled;
  private final Counter retries;
  private final Timer stepLatency;
  private final Timer journalWrite;
  private final DistributionSummary journalBatch;

  public WorkflowMetrics(MeterRegistry registry) {
    started =
        Counter.builder("keel.workflows.started")
            .description("executions started on this node")
            .register(registry);
    completed =
        Counter.builder("keel.workflows.completed")
            .description("executions completed on this node")
            .register(registry);
    failed =
        Counter.builder("keel.workflows.failed")
            .description("executions failed on this node")
            .register(registry);
    cancelled =
        Counter.builder("keel.workflows.cancelled")
            .description("executions cancelled on this node")
            .register(registry);
    retries =
        Counter.builder("keel.workflows.step.retries")
            .description("step attempts that failed and were scheduled for another attempt")
            .register(registry);
    stepLatency =
        Timer.builder("keel.workflows.step.latency")
            .description(
                "from a step's first start to its recorded result, retries and backoff included")
            .serviceLevelObjectives(LATENCY_BUCKETS)
            .register(registry);
    journalWrite =
        Timer.builder("keel.journal.write.latency")
            .description(
                "from an execution's persist to its after-persist callback (queueing and the"
                    + " journal write)")
            .serviceLevelObjectives(LATENCY_BUCKETS)
            .register(registry);
    journalBatch =
        DistributionSummary.builder("keel.journal.write.events")
            .description("events in one atomic write of an execution")
            .register(registry);
  }

  void started() {
    started.increment();
  }

  void completed() {
    completed.increment();
  }

  void failed() {
    failed.increment();
  }

  void cancelled() {
    cancelled.increment();
  }

  void retryScheduled() {
    retries.increment();
  }

  void stepCompleted(Duration sinceFirstStart) {
    stepLatency.record(sinceFirstStart);
  }

  /**
   * One atomic write of {@code events} events that began at {@code startNanos} ({@link
   * System#nanoTime}).
   */
  void written(int events, long startNanos) {
    journalWrite.record(System.nanoTime() - startNanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    journalBatch.record(events);
  }
}
