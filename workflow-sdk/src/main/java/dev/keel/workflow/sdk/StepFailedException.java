package dev.keel.workflow.sdk;

/** Thrown by {@code ctx.step} when the step failed for good; its message is the recorded error. */
public final class StepFailedException extends RuntimeException {
  private final String stepName;

  public StepFailedException(String stepName, String error) {
    super("step '" + stepName + "' failed: " + error);
    this.stepName = stepName;
  }

  public String stepName() {
    return stepName;
  }
}
