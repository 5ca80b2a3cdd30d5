package dev.keel.tenant.lifecycle;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.tenant.Tenant;
import dev.keel.tenant.TenantLifecycle;
import dev.keel.tenant.TenantSettings;
import dev.keel.workflow.outbound.OutboundHttp;
import dev.keel.workflow.sdk.Workflow;
import dev.keel.workflow.sdk.WorkflowContext;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code tenant-provisioning}: creates the tenant in every downstream service ({@code
 * keel.tenants.downstream}), one durable step each, then marks the tenant active. A downstream that
 * fails is retried with backoff; meanwhile the tenant stays {@code provisioning} and this execution
 * shows the failing step with its error and attempts.
 */
public final class TenantProvisioningWorkflow
    implements Workflow<TenantProvisioningWorkflow.Input, TenantProvisioningWorkflow.Output> {

  public record Input(String tenantId, String slug, String plan) {}

  /** The status each downstream answered, and the tenant's status at the end. */
  public record Output(Map<String, Integer> downstream, String status) {}

  private static final ObjectMapper JSON = new ObjectMapper();

  private final OutboundHttp http;
  private final TenantSettings settings;
  private final TenantLifecycle lifecycle;

  public TenantProvisioningWorkflow(
      OutboundHttp http, TenantSettings settings, TenantLifecycle lifecycle) {
    this.http = http;
    this.settings = settings;
    this.lifecycle = lifecycle;
  }

  @Override
  public String name() {
    return Tenant.PROVISIONING_WORKFLOW;
  }

  @Override
  public Class<Input> inputType() {
    return Input.class;
  }

  @Override
  public String description() {
    return "Creates a new tenant in each downstream service, then marks it active (started by"
        + " Keel)";
  }

  @Override
  public Output run(WorkflowContext ctx, Input input) throws Exception {
    Map<String, Integer> answered = new LinkedHashMap<>();
    String body =
        JSON.writeValueAsString(
            Map.of("tenantId", input.tenantId(), "slug", input.slug(), "plan", input.plan()));
    for (TenantSettings.Downstream d : settings.downstream()) {
      int status =
          ctx.step(
              "provision-" + d.name(),
              Integer.class,
              DownstreamCall.retry(settings.downstreamRetry()),
              () ->
                  DownstreamCall.send(
                      http,
                      "POST",
                      d.url(),
                      body,
                      ctx.idempotencyKey(),
                      settings.downstreamRetry()));
      answered.put(d.name(), status);
    }
    String status =
        ctx.step(
            "activate",
            String.class,
            DownstreamCall.retry(settings.downstreamRetry()),
            () -> DownstreamCall.await(lifecycle.activate(input.tenantId())));
    return new Output(answered, status);
  }
}
