package dev.keel.workflow.builtin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.keel.persistence.Rejection;
import dev.keel.workflow.readmodel.WorkflowReadModel;
import dev.keel.workflow.readmodel.WorkflowReadModel.WorkflowSummary;
import dev.keel.workflow.sdk.InputProblem;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The bulk workflow's own logic against a scripted read model: one step per page until the cursor
 * runs out, refusals counted and not fatal, its own executions skipped, and a tenant's operation
 * bounded to that tenant whatever its input says.
 */
class BulkActionWorkflowTest {

  private static final Instant T = Instant.parse("2026-12-07T10:00:00Z");

  /** Two pages: wf-1, wf-2 (refused), a bulk execution; then wf-3. */
  private final class Scripted implements BulkActionWorkflow.Targets {
    final List<WorkflowReadModel.Filter> filters = new CopyOnWriteArrayList<>();
    final List<String> acted = new CopyOnWriteArrayList<>();

    @Override
    public CompletionStage<WorkflowReadModel.Page> page(
        WorkflowReadModel.Filter filter, int limit, String cursor) {
      filters.add(filter);
      if (cursor == null)
        return CompletableFuture.completedFuture(
            new WorkflowReadModel.Page(
                List.of(
                    summary("wf-1", "checkout"),
                    summary("wf-2", "checkout"),
                    summary("bulk-other", BulkActionWorkflow.NAME)),
                "after-first"));
      return CompletableFuture.completedFuture(
          new WorkflowReadModel.Page(List.of(summary("wf-3", "checkout")), null));
    }

    @Override
    public CompletionStage<?> act(String action, String id, String reason) {
      acted.add(action + " " + id + " " + reason);
      if (id.equals("wf-2"))
        return CompletableFuture.failedFuture(
            Rejection.<Object>conflict("workflow 'wf-2' is already completed").getError());
      return CompletableFuture.completedFuture("ok");
    }
  }

  private static WorkflowSummary summary(String id, String workflow) {
    return new WorkflowSummary(id, workflow, "acme", "failed", 1, T, T, T);
  }

  @Test
  void actsPageByPageCountingRefusalsAndSkippingBulkExecutions() {
    Scripted targets = new Scripted();
    BulkActionWorkflow bulk = new BulkActionWorkflow(() -> targets);
    FakeWorkflowContext ctx = new FakeWorkflowContext("bulk-1");
    BulkActionWorkflow.Input input =
        new BulkActionWorkflow.Input(
            "retry",
            new BulkActionWorkflow.Filter("failed", "checkout", null, T, null),
            "processor back");

    BulkActionWorkflow.Output out = bulk.run(ctx, input);

    assertThat(out).isEqualTo(new BulkActionWorkflow.Output("retry", 3, 2, 1));
    assertThat(ctx.calls())
        .extracting(FakeWorkflowContext.Call::name)
        .containsExactly("page-1", "page-2");
    assertThat(targets.acted)
        .containsExactlyInAnyOrder(
            "retry wf-1 processor back", "retry wf-2 processor back", "retry wf-3 processor back");
    assertThat(targets.filters.get(0))
        .isEqualTo(new WorkflowReadModel.Filter("failed", "checkout", null, T, null, null));
  }

  @Test
  void aTenantsOperationIsBoundedToItsOwnTenant() {
    Scripted targets = new Scripted();
    BulkActionWorkflow bulk = new BulkActionWorkflow(() -> targets);
    BulkActionWorkflow.Input other =
        new BulkActionWorkflow.Input(
            "cancel", new BulkActionWorkflow.Filter(null, null, "globex", null, null), null);

    assertThat(bulk.validateStart(other, "acme"))
        .containsExactly(
            new InputProblem("filter.tenantId", "a tenant's bulk operation reaches only its own"));
    // Even a journaled input that named another tenant reads only the owner's executions.
    bulk.run(new FakeWorkflowContext("bulk-2").ofTenant("acme"), other);
    assertThat(new ArrayList<>(targets.filters))
        .extracting(WorkflowReadModel.Filter::tenantId)
        .containsOnly("acme");
    assertThat(
            bulk.validateStart(
                new BulkActionWorkflow.Input(
                    "delete", new BulkActionWorkflow.Filter("gone", null, null, null, null), null),
                null))
        .extracting(InputProblem::field)
        .containsExactly("action", "filter.status");
  }
}
