package dev.keel.workflow.sdk;

/**
 * The workflow code asked for a different call than the journal recorded at that position: code
 * outside steps is not deterministic, or the workflow changed under running executions. An {@link
 * Error} so that workflow code catching {@code Exception} cannot swallow it.
 */
public final class ReplayDivergedError extends Error {
  public ReplayDivergedError(String message) {
    super(message);
  }
}
