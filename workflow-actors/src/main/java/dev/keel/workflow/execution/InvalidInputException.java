package dev.keel.workflow.execution;

import dev.keel.workflow.sdk.InputProblem;
import java.util.List;

/** A start's input does not fit the workflow (400, every problem listed). */
public final class InvalidInputException extends RuntimeException {
  private final List<InputProblem> problems;

  public InvalidInputException(List<InputProblem> problems) {
    super("the input does not fit the workflow: " + problems.size() + " problem(s)");
    this.problems = List.copyOf(problems);
  }

  public List<InputProblem> problems() {
    return problems;
  }
}
