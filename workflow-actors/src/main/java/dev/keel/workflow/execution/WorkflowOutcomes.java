package dev.keel.workflow.execution;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * How an execution ended, for entities that follow the workflows they started (an alert rule its
 * webhook deliveries) and depend on this, not on the whole {@code WorkflowService}.
 */
public interface WorkflowOutcomes {

  /**
   * The outcome of execution {@code workflowId} once it is final; empty when it is still going when
   * {@code wait} runs out. Fails with a not-found rejection for an id that has no execution.
   */
  CompletionStage<Optional<Outcome>> awaitOutcome(String workflowId, Duration wait);

  /**
   * {@code status} is {@code completed}, {@code failed} or {@code cancelled}; {@code error} the
   * failure or the cancel's reason.
   */
  record Outcome(String status, String error) {

    public boolean completed() {
      return "completed".equals(status);
    }
  }
}
