package dev.keel.workflow.schedule;

import dev.keel.persistence.Rejection;
import dev.keel.workflow.execution.InvalidInputException;
import dev.keel.workflow.execution.UnknownWorkflowException;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

/**
 * Why a tick's workflow did not start, in words a client may read in the schedule's {@code
 * lastError}: what the workflow side said for the failures it names, and nothing of an unexpected
 * failure (no class name, no message that may carry anything).
 */
final class TickErrors {

  static final String UNEXPECTED =
      "the workflow could not be started; the node's log has the cause";

  /** Longer errors are cut: they are journaled with every failed start. */
  static final int MAX_LENGTH = 500;

  private TickErrors() {}

  /**
   * What the start failure {@code cause} says to a client, or empty when it is not one Keel names.
   */
  static Optional<String> describe(Throwable cause) {
    if (cause instanceof TimeoutException)
      return Optional.of("the workflow start was not answered within the ask timeout");
    if (cause instanceof UnknownWorkflowException e) return Optional.of(cut(e.getMessage()));
    if (cause instanceof InvalidInputException e) {
      return Optional.of(
          cut(
              "the input does not fit the workflow: "
                  + e.problems().stream()
                      .map(p -> p.field() + " " + p.message())
                      .collect(Collectors.joining("; "))));
    }
    return Rejection.of(cause).map(r -> cut(r.detail()));
  }

  private static String cut(String text) {
    return text.length() <= MAX_LENGTH ? text : text.substring(0, MAX_LENGTH - 1) + "…";
  }
}
