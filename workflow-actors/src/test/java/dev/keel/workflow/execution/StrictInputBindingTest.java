package dev.keel.workflow.execution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.module.paramnames.ParameterNamesModule;
import org.junit.jupiter.api.Test;

/**
 * A start's input binds only values of the field's own type
 * (WorkflowService.withoutScalarCoercion).
 */
class StrictInputBindingTest {

  record Input(String text, Integer count, int primitive, Double ratio, Boolean flag) {}

  private final ObjectMapper lenient =
      new ObjectMapper().registerModule(new ParameterNamesModule());
  private final ObjectMapper strict = WorkflowService.withoutScalarCoercion(lenient);

  @Test
  void valuesOfTheirOwnTypeBindAsBefore() throws Exception {
    String json = "{\"text\":\"x\",\"count\":1,\"primitive\":2,\"ratio\":2,\"flag\":true}";
    assertThat(strict.readValue(json, Input.class)).isEqualTo(new Input("x", 1, 2, 2.0, true));
    assertThat(strict.readValue("{\"count\":null}", Input.class).count()).isNull();
  }

  @Test
  void aValueOfAnotherScalarTypeIsRefusedWhereJacksonWouldConvertIt() throws Exception {
    String[] converted = {
      "{\"text\":7}", "{\"text\":true}", "{\"text\":1.5}",
      "{\"count\":\"10\"}", "{\"count\":1.5}", "{\"primitive\":\"3\"}",
      "{\"ratio\":\"2.5\"}", "{\"flag\":\"true\"}", "{\"flag\":1}"
    };
    for (String json : converted) {
      // The node's own mapper converts (or truncates) each of these: the reason for the strict one.
      assertThat(lenient.readValue(json, Input.class)).as(json).isNotNull();
      assertThatThrownBy(() -> strict.readValue(json, Input.class))
          .as(json)
          .isInstanceOf(MismatchedInputException.class);
    }
  }

  @Test
  void theNodesOwnMapperIsLeftAsItWas() throws Exception {
    // Executions journaled before the check was strict replay with it.
    assertThat(lenient.readValue("{\"text\":7,\"count\":1.5}", Input.class))
        .isEqualTo(new Input("7", 1, 0, null, null));
  }
}
