package dev.keel.workflow.execution;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/** {@code keel.workflows.*}, read once at start-up. */
public record WorkflowSettings(
    int maxConcurrent,
    Map<String, Integer> maxConcurrentPerWorkflow,
    Duration askTimeout,
    Duration stepAckTimeout,
    Duration passivateAfter,
    Duration idleTimeout,
    Duration wakeupPollInterval,
    Duration wakeupLookahead,
    Duration longPollMax,
    dev.keel.workflow.sdk.RetryPolicy defaultRetry) {

  /** As before the default retry policy existed: steps that name no policy are not retried. */
  public WorkflowSettings(
      int maxConcurrent,
      Map<String, Integer> maxConcurrentPerWorkflow,
      Duration askTimeout,
      Duration stepAckTimeout,
      Duration passivateAfter,
      Duration idleTimeout,
      Duration wakeupPollInterval,
      Duration wakeupLookahead,
      Duration longPollMax) {
    this(
        maxConcurrent,
        maxConcurrentPerWorkflow,
        askTimeout,
        stepAckTimeout,
        passivateAfter,
        idleTimeout,
        wakeupPollInterval,
        wakeupLookahead,
        longPollMax,
        dev.keel.workflow.sdk.RetryPolicy.none());
  }

  /**
   * The most attempts a machine of any size gets by default: past it, threads cost more than they
   * wait.
   */
  static final int DEFAULT_MAX_CONCURRENT_CEILING = 1024;

  /**
   * {@code max-concurrent = 0}: 64 attempts per core, at most {@value
   * #DEFAULT_MAX_CONCURRENT_CEILING}. An attempt holds its slot and thread from its first step to
   * its last, and spends most of that time waiting: on the journal to record each step (a round
   * trip to PostgreSQL) and on whatever its step bodies call. At 16 per core a 2-core node running
   * 3-step no-op workflows for 64 clients (bench/workflow-bench.sh) often had every slot taken and
   * attempts queued while the machine stayed 12-16 % idle.
   */
  static int defaultMaxConcurrent(int cores) {
    return Math.min(DEFAULT_MAX_CONCURRENT_CEILING, Math.max(1, cores) * 64);
  }

  public static WorkflowSettings fromConfig(Config keel) {
    Config c = keel.getConfig("keel.workflows");
    int maxConcurrent = c.getInt("max-concurrent");
    if (maxConcurrent <= 0)
      maxConcurrent = defaultMaxConcurrent(Runtime.getRuntime().availableProcessors());
    Map<String, Integer> perWorkflow = new HashMap<>();
    Config per = c.getConfig("max-concurrent-per-workflow");
    for (String name : per.root().keySet()) perWorkflow.put(name, per.getInt("\"" + name + "\""));
    if (c.getDuration("wakeup-poll-interval").compareTo(c.getDuration("wakeup-lookahead")) >= 0) {
      // Otherwise a parked execution could be woken up to the difference late.
      throw new IllegalArgumentException(
          "keel.workflows.wakeup-poll-interval must be shorter than wakeup-lookahead");
    }
    return new WorkflowSettings(
        maxConcurrent,
        Map.copyOf(perWorkflow),
        c.getDuration("ask-timeout"),
        c.getDuration("step-ack-timeout"),
        c.getDuration("passivate-after"),
        c.getDuration("idle-timeout"),
        c.getDuration("wakeup-poll-interval"),
        c.getDuration("wakeup-lookahead"),
        c.getDuration("long-poll-max"),
        defaultRetry(c.getConfig("default-retry")));
  }

  /**
   * {@code keel.workflows.default-retry}: the policy of steps that name none; a bad value stops the
   * start naming the setting.
   */
  static dev.keel.workflow.sdk.RetryPolicy defaultRetry(Config r) {
    try {
      return new dev.keel.workflow.sdk.RetryPolicy(
          r.getInt("max-attempts"),
          r.getDuration("initial-backoff"),
          r.getDuration("max-backoff"),
          r.getDouble("multiplier"),
          r.getDouble("jitter"),
          java.util.List.of());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("keel.workflows.default-retry: " + e.getMessage(), e);
    }
  }
}
