package dev.keel.workflow.execution;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.concurrent.CompletionStage;

/**
 * Starts an execution by id, idempotently: starting an id that already exists with the same
 * workflow and input answers {@link StartOutcome#created()} false and changes nothing. Schedules
 * and other entities depend on this, not on the whole {@code WorkflowService}.
 */
public interface WorkflowStarter {

  CompletionStage<StartOutcome> start(
      String workflowId, String workflow, JsonNode input, String tenantId);

  /** {@code created} is false when the id already ran with the same content. */
  record StartOutcome(String workflowId, boolean created) {}
}
