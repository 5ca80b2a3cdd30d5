package dev.keel.workflow.sdk;

/**
 * The body of a step with no result ({@link WorkflowContext#run}): runs on a worker thread and may
 * block or throw.
 */
@FunctionalInterface
public interface StepAction {
  void run() throws Exception;
}
