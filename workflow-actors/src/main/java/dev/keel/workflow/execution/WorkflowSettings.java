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
    Duration longPollMax) {

  public static WorkflowSettings fromConfig(Config keel) {
    Config c = keel.getConfig("keel.workflows");
    int maxConcurrent = c.getInt("max-concurrent");
    if (maxConcurrent <= 0) {
      // Default sized for the machine: step bodies mostly wait on I/O and on the journal.
      maxConcurrent = Math.max(16, Runtime.getRuntime().availableProcessors() * 16);
    }
    Map<String, Integer> perWorkflow = new HashMap<>();
    Config per = c.getConfig("max-concurrent-per-workflow");
    for (String name : per.root().keySet()) perWorkflow.put(name, per.getInt("\"" + name + "\""));
    if (c.getDuration("wakeup-poll-interval").compareTo(c.getDuration("wakeup-lookahead")) >= 0) {
      // Otherwise a parked execution could be woken up to the difference late.
      throw new IllegalArgumentException("keel.workflows.wakeup-poll-interval must be shorter than wakeup-lookahead");
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
        c.getDuration("long-poll-max"));
  }
}
