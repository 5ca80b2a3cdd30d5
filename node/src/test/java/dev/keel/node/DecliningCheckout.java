package dev.keel.node;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.workflow.sdk.Workflow;
import dev.keel.workflow.sdk.WorkflowContext;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A test workflow to repair: {@code reserve}, then {@code charge}, which fails while {@link
 * #decline} holds, then {@code ship}; its output is {@code "rcs"}. Executions that fail at charge
 * are then retried in place or rerun from charge once the card is accepted.
 */
final class DecliningCheckout implements Workflow<JsonNode, String> {

  final AtomicBoolean decline = new AtomicBoolean(true);
  private final String name;

  DecliningCheckout(String name) {
    this.name = name;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public Class<JsonNode> inputType() {
    return JsonNode.class;
  }

  @Override
  public String run(WorkflowContext ctx, JsonNode input) {
    String reserved = ctx.step("reserve", String.class, () -> "r");
    String charged =
        ctx.step(
            "charge",
            String.class,
            () -> {
              if (decline.get()) throw new IllegalStateException("card declined");
              return "c";
            });
    return reserved + charged + ctx.step("ship", String.class, () -> "s");
  }
}
