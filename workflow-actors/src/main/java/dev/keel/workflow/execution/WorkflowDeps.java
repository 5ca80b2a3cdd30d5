package dev.keel.workflow.execution;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Clock;
import java.util.random.RandomGenerator;
import org.apache.pekko.actor.typed.Scheduler;

/**
 * What an execution entity and its attempts need from the node: injected so tests drive time and
 * randomness.
 */
public record WorkflowDeps(
    Clock clock,
    RandomGenerator random,
    WorkflowSettings settings,
    NodeWorkflowRegistry registry,
    WorkflowRunner runner,
    ObjectMapper mapper,
    Scheduler scheduler,
    WorkflowMetrics metrics) {

  /** Without metrics: counts into nothing. */
  public WorkflowDeps(
      Clock clock,
      RandomGenerator random,
      WorkflowSettings settings,
      NodeWorkflowRegistry registry,
      WorkflowRunner runner,
      ObjectMapper mapper,
      Scheduler scheduler) {
    this(clock, random, settings, registry, runner, mapper, scheduler, WorkflowMetrics.NONE);
  }
}
