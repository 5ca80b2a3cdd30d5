package dev.keel.workflow.builtin;

import dev.keel.workflow.sdk.InputProblem;
import dev.keel.workflow.sdk.RetryPolicy;
import dev.keel.workflow.sdk.Workflow;
import dev.keel.workflow.sdk.WorkflowContext;
import java.util.List;

/**
 * Three steps that do no outside work, {@code validate → process → summarize}, so that a start
 * shows the shape of an execution and a benchmark measures the engine and nothing else. Every step
 * result is a function of the input: no clock, no randomness.
 *
 * <pre>{@code
 * POST /api/v1/workflows
 * {"workflow": "example", "input": {"userId": "u-42", "action": "onboard"}}
 * → output {"userId": "u-42", "action": "onboard", "summary": "onboard done for u-42"}
 * }</pre>
 *
 * An empty or blank {@code userId} passes {@link #validate} and is rejected by the {@code validate}
 * step, which does not retry: the execution fails with that step's error, which shows how a failing
 * step is recorded.
 */
public final class ExampleWorkflow
    implements Workflow<ExampleWorkflow.Input, ExampleWorkflow.Output> {

  public static final String NAME = "example";

  /** {@code action} may be absent; it then reads {@value #DEFAULT_ACTION}. */
  public record Input(String userId, String action) {}

  /** What the {@code validate} step accepted. */
  public record Validated(String userId, String action) {}

  /** What the {@code process} step did; {@code result} is always {@code "done"}. */
  public record Processed(String userId, String action, String result) {}

  public record Output(String userId, String action, String summary) {}

  static final String DEFAULT_ACTION = "process";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "Example: validate, process and summarize a user action, with no outside calls";
  }

  @Override
  public int version() {
    return 1;
  }

  @Override
  public Class<Input> inputType() {
    return Input.class;
  }

  /** Only a missing input is refused up front; a bad {@code userId} is the validate step's job. */
  @Override
  public List<InputProblem> validate(Input input) {
    if (input == null)
      return List.of(
          new InputProblem("input", "required: {\"userId\": \"...\", \"action\": \"...\"}"));
    return List.of();
  }

  @Override
  public Output run(WorkflowContext ctx, Input input) {
    Validated valid =
        ctx.step(
            "validate",
            Validated.class,
            RetryPolicy.none(),
            () -> {
              if (input.userId() == null || input.userId().isBlank()) {
                throw new IllegalArgumentException("userId must not be empty");
              }
              String action =
                  input.action() == null || input.action().isBlank()
                      ? DEFAULT_ACTION
                      : input.action();
              return new Validated(input.userId(), action);
            });
    Processed processed =
        ctx.step(
            "process",
            Processed.class,
            RetryPolicy.none(),
            () -> new Processed(valid.userId(), valid.action(), "done"));
    String summary =
        ctx.step(
            "summarize",
            String.class,
            RetryPolicy.none(),
            () -> processed.action() + " " + processed.result() + " for " + processed.userId());
    return new Output(processed.userId(), processed.action(), summary);
  }
}
