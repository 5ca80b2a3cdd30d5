package dev.keel.workflow.builtin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.workflow.sdk.InputProblem;
import dev.keel.workflow.sdk.StepFailedException;
import org.junit.jupiter.api.Test;

class ExampleWorkflowTest {

  private final ExampleWorkflow workflow = new ExampleWorkflow();
  private final ObjectMapper json = new ObjectMapper();

  @Test
  void runsThreeStepsInOrderAndSummarizes() throws Exception {
    FakeWorkflowContext ctx = new FakeWorkflowContext("wf-1");
    ExampleWorkflow.Input input =
        json.readValue(
            "{\"userId\": \"u-42\", \"action\": \"onboard\"}", ExampleWorkflow.Input.class);

    ExampleWorkflow.Output output = workflow.run(ctx, input);

    assertThat(output)
        .isEqualTo(new ExampleWorkflow.Output("u-42", "onboard", "onboard done for u-42"));
    assertThat(ctx.calls())
        .containsExactly(
            new FakeWorkflowContext.Call("step", "validate"),
            new FakeWorkflowContext.Call("step", "process"),
            new FakeWorkflowContext.Call("step", "summarize"));
    assertThat(ctx.stepRecord("validate").attempts()).isEqualTo(1);
    assertThat(json.valueToTree(output).toString())
        .isEqualTo(
            "{\"userId\":\"u-42\",\"action\":\"onboard\",\"summary\":\"onboard done for u-42\"}");
  }

  @Test
  void missingActionReadsAsTheDefault() throws Exception {
    ExampleWorkflow.Output output =
        workflow.run(new FakeWorkflowContext("wf-2"), new ExampleWorkflow.Input("u-1", null));

    assertThat(output)
        .isEqualTo(new ExampleWorkflow.Output("u-1", "process", "process done for u-1"));
  }

  @Test
  void emptyUserIdFailsTheValidateStepOnceAndStopsThere() {
    for (String userId : new String[] {"", "   ", null}) {
      FakeWorkflowContext ctx = new FakeWorkflowContext("wf-3");

      assertThatThrownBy(() -> workflow.run(ctx, new ExampleWorkflow.Input(userId, "onboard")))
          .isInstanceOfSatisfying(
              StepFailedException.class, e -> assertThat(e.stepName()).isEqualTo("validate"))
          .hasMessageContaining("userId must not be empty");

      FakeWorkflowContext.StepRecord validate = ctx.stepRecord("validate");
      assertThat(validate.succeeded()).isFalse();
      assertThat(validate.attempts()).isEqualTo(1);
      assertThat(validate.failures()).singleElement().isInstanceOf(IllegalArgumentException.class);
      assertThat(ctx.calls()).containsExactly(new FakeWorkflowContext.Call("step", "validate"));
    }
  }

  @Test
  void validateRefusesOnlyAMissingInput() {
    assertThat(workflow.validate(null)).extracting(InputProblem::field).containsExactly("input");
    assertThat(workflow.validate(new ExampleWorkflow.Input("", "onboard"))).isEmpty();
    assertThat(workflow.validate(new ExampleWorkflow.Input("u-1", "onboard"))).isEmpty();
  }

  @Test
  void declaresItsDefinition() {
    assertThat(workflow.name()).isEqualTo("example");
    assertThat(workflow.version()).isEqualTo(1);
    assertThat(workflow.description()).isNotBlank();
    assertThat(workflow.inputType()).isEqualTo(ExampleWorkflow.Input.class);
  }
}
