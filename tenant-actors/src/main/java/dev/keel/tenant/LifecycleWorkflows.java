package dev.keel.tenant;

import static dev.keel.tenant.Tenant.DEPROVISIONING_WORKFLOW;
import static dev.keel.tenant.Tenant.PROVISIONING_WORKFLOW;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.keel.tenant.Tenant.Command;
import dev.keel.tenant.Tenant.Deleting;
import dev.keel.tenant.Tenant.LifecycleWorkflowStarted;
import dev.keel.tenant.Tenant.Provisioning;
import dev.keel.tenant.Tenant.StartLifecycleWorkflow;
import dev.keel.tenant.Tenant.State;
import dev.keel.tenant.Tenant.TenantProfile;
import dev.keel.workflow.execution.WorkflowStarter;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The outbox of one {@link Tenant}: the workflow its state waits for ({@value
 * Tenant#PROVISIONING_WORKFLOW} while provisioning, {@value Tenant#DEPROVISIONING_WORKFLOW} while
 * deleting), started by its deterministic id through the idempotent starter, and started again
 * after {@link #START_RETRY} until the start is acknowledged. Nothing of it is journaled.
 */
final class LifecycleWorkflows {

  // The tenant's logger: operators follow a tenant's lifecycle under one name.
  private static final Logger log = LoggerFactory.getLogger(Tenant.class);
  private static final String START_RETRY_TIMER = "start-retry";
  private static final Duration START_RETRY = Duration.ofSeconds(10);

  private final String tenantId;
  private final WorkflowStarter starter;
  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;

  LifecycleWorkflows(
      String tenantId,
      WorkflowStarter starter,
      ActorContext<Command> context,
      TimerScheduler<Command> timers) {
    this.tenantId = tenantId;
    this.starter = starter;
    this.context = context;
    this.timers = timers;
  }

  /**
   * Starts the workflow {@code state} waits for, if any; answers {@link LifecycleWorkflowStarted}.
   */
  void start(State state) {
    String workflowId;
    String workflow;
    if (state instanceof Provisioning) {
      workflowId = Tenant.provisioningWorkflowId(tenantId);
      workflow = PROVISIONING_WORKFLOW;
    } else if (state instanceof Deleting) {
      workflowId = Tenant.deprovisioningWorkflowId(tenantId);
      workflow = DEPROVISIONING_WORKFLOW;
    } else {
      return;
    }
    TenantProfile p = TenantViews.record(state).profile();
    JsonNode input =
        JsonNodeFactory.instance
            .objectNode()
            .put("tenantId", tenantId)
            .put("slug", p.slug())
            .put("plan", p.plan());
    CompletionStage<WorkflowStarter.StartOutcome> started;
    try {
      started = starter.start(workflowId, workflow, input, null);
    } catch (RuntimeException e) {
      started = CompletableFuture.failedFuture(e);
    }
    context.pipeToSelf(
        started,
        (outcome, failure) ->
            new LifecycleWorkflowStarted(
                workflowId,
                failure == null,
                failure == null ? null : String.valueOf(failure.getMessage())));
  }

  /** The start answered: done, or tried again after {@link #START_RETRY}. */
  void started(LifecycleWorkflowStarted c) {
    if (c.ok()) {
      log.info(
          "tenant lifecycle workflow running tenantId={} workflowId={}", tenantId, c.workflowId());
      timers.cancel(START_RETRY_TIMER);
    } else {
      log.warn(
          "tenant lifecycle workflow did not start, will retry tenantId={} workflowId={} retryIn={}"
              + " reason={}",
          tenantId,
          c.workflowId(),
          START_RETRY,
          c.failure());
      timers.startSingleTimer(START_RETRY_TIMER, new StartLifecycleWorkflow(), START_RETRY);
    }
  }
}
