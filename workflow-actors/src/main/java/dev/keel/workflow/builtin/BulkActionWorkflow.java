package dev.keel.workflow.builtin;

import dev.keel.persistence.grammar.Ids;
import dev.keel.workflow.readmodel.WorkflowReadModel;
import dev.keel.workflow.sdk.InputProblem;
import dev.keel.workflow.sdk.RetryPolicy;
import dev.keel.workflow.sdk.Workflow;
import dev.keel.workflow.sdk.WorkflowContext;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code workflows-bulk}: cancel, retry, pause or resume every execution a filter matches (POST
 * /api/v1/workflows/bulk/{action}). It is a workflow so that it is durable: each page of the read
 * model is one step whose result ({@code matched}, {@code done}, {@code failed}, the next cursor)
 * is journaled, so a crash resumes at the next page and the steps show the progress; the output
 * sums them.
 *
 * <p>Executions of this workflow are never matched (a bulk cancel does not cancel itself). A
 * tenant's bulk operation only ever reaches that tenant's executions: the filter's tenant is the
 * execution's own whatever the input says. An action refused for one execution (a retry of a
 * completed one, a pause of a finished one) counts as {@code failed}; the others go on.
 */
public final class BulkActionWorkflow
    implements Workflow<BulkActionWorkflow.Input, BulkActionWorkflow.Output> {

  public static final String NAME = "workflows-bulk";
  public static final Set<String> ACTIONS = Set.of("cancel", "retry", "pause", "resume");

  private static final Logger log = LoggerFactory.getLogger(BulkActionWorkflow.class);

  /** Executions acted on per step: one read-model page. */
  static final int PAGE_SIZE = 100;

  /** A page whose reads or actions time out is tried again a few times. */
  private static final RetryPolicy PAGE_RETRY =
      RetryPolicy.defaults()
          .withMaxAttempts(5)
          .withBackoff(Duration.ofSeconds(1), Duration.ofSeconds(30), 2.0);

  private static final Duration ACTION_TIMEOUT = Duration.ofSeconds(30);

  /** {@code createdAfter} inclusive, {@code createdBefore} exclusive; null fields don't filter. */
  public record Filter(
      String status,
      String workflow,
      String tenantId,
      Instant createdAfter,
      Instant createdBefore) {}

  public record Input(String action, Filter filter, String reason) {}

  /** One page's result, journaled as its step's output. */
  public record PageResult(int matched, int done, int failed, String nextCursor) {}

  public record Output(String action, int matched, int done, int failed) {}

  /** What the bulk operation reads and acts through; the node binds its façade and read model. */
  public interface Targets {
    CompletionStage<WorkflowReadModel.Page> page(
        WorkflowReadModel.Filter filter, int limit, String cursor);

    /** Applies {@code action} to execution {@code id}; fails when it is refused. */
    CompletionStage<?> act(String action, String id, String reason);
  }

  private final Supplier<Targets> targets;

  /** {@code targets} is asked inside steps only: the node binds it after registering workflows. */
  public BulkActionWorkflow(Supplier<Targets> targets) {
    this.targets = targets;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Class<Input> inputType() {
    return Input.class;
  }

  @Override
  public String description() {
    return "Cancels, retries, pauses or resumes every execution a filter matches";
  }

  @Override
  public List<InputProblem> validateStart(Input input, String tenantId) {
    List<InputProblem> problems = new ArrayList<>();
    if (input.action() == null || !ACTIONS.contains(input.action()))
      problems.add(new InputProblem("action", "must be one of cancel, pause, resume, retry"));
    Filter f = input.filter();
    if (f == null) {
      problems.add(new InputProblem("filter", "is required"));
      return problems;
    }
    if (f.status() != null && !WorkflowReadModel.STATUSES.contains(f.status()))
      problems.add(new InputProblem("filter.status", "is not an execution status"));
    if (f.workflow() != null && !Ids.PATTERN.matcher(f.workflow()).matches())
      problems.add(new InputProblem("filter.workflow", "is not a workflow name"));
    if (f.tenantId() != null && Ids.tenantIdProblem(f.tenantId()).isPresent())
      problems.add(new InputProblem("filter.tenantId", "is not a tenant id"));
    if (tenantId != null && f.tenantId() != null && !f.tenantId().equals(tenantId))
      problems.add(
          new InputProblem("filter.tenantId", "a tenant's bulk operation reaches only its own"));
    if (f.createdAfter() != null
        && f.createdBefore() != null
        && !f.createdAfter().isBefore(f.createdBefore()))
      problems.add(new InputProblem("filter.createdBefore", "must be after createdAfter"));
    return problems;
  }

  @Override
  public Output run(WorkflowContext ctx, Input in) {
    Filter f = in.filter();
    // A tenant's operation is bounded by its own tenant, whatever its input names.
    String tenant = ctx.tenantId().orElse(f.tenantId());
    WorkflowReadModel.Filter filter =
        new WorkflowReadModel.Filter(
            f.status(), f.workflow(), tenant, f.createdAfter(), f.createdBefore(), null);
    int matched = 0;
    int done = 0;
    int failed = 0;
    String cursor = null;
    int page = 0;
    do {
      String after = cursor;
      PageResult r =
          ctx.step(
              "page-" + (++page),
              PageResult.class,
              PAGE_RETRY,
              () -> actOnPage(ctx.workflowId(), in, filter, after));
      matched += r.matched();
      done += r.done();
      failed += r.failed();
      cursor = r.nextCursor();
    } while (cursor != null);
    return new Output(in.action(), matched, done, failed);
  }

  private PageResult actOnPage(
      String self, Input in, WorkflowReadModel.Filter filter, String cursor) throws Exception {
    Targets t = targets.get();
    WorkflowReadModel.Page page =
        t.page(filter, PAGE_SIZE, cursor)
            .toCompletableFuture()
            .get(ACTION_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    List<String> ids =
        page.items().stream()
            .filter(w -> !NAME.equals(w.workflow()) && !Objects.equals(w.id(), self))
            .map(WorkflowReadModel.WorkflowSummary::id)
            .toList();
    List<CompletableFuture<Boolean>> outcomes = new ArrayList<>();
    for (String id : ids) {
      outcomes.add(
          t.act(in.action(), id, in.reason())
              .toCompletableFuture()
              .handle(
                  (ok, error) -> {
                    if (error != null)
                      log.info(
                          "bulk action refused bulk={} action={} id={} reason={}",
                          self,
                          in.action(),
                          id,
                          error.getMessage());
                    return error == null;
                  }));
    }
    CompletableFuture.allOf(outcomes.toArray(CompletableFuture[]::new))
        .get(ACTION_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    int done = (int) outcomes.stream().filter(CompletableFuture::join).count();
    return new PageResult(ids.size(), done, ids.size() - done, page.nextCursor());
  }
}
