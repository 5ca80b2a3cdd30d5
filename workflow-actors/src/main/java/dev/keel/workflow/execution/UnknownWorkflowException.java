package dev.keel.workflow.execution;

/** A start named a workflow this node does not have (404). */
public final class UnknownWorkflowException extends RuntimeException {
  public UnknownWorkflowException(String name) {
    super("no workflow named '" + name + "' is registered");
  }
}
