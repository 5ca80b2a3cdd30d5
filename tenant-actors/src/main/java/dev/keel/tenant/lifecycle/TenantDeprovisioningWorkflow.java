package dev.keel.tenant.lifecycle;

import dev.keel.tenant.Tenant;
import dev.keel.tenant.TenantLifecycle;
import dev.keel.tenant.TenantSettings;
import dev.keel.workflow.outbound.OutboundHttp;
import dev.keel.workflow.sdk.Workflow;
import dev.keel.workflow.sdk.WorkflowContext;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code tenant-deprovisioning}: removes the tenant from every downstream service ({@code DELETE
 * <url>/<tenantId>}, a 404 counts as done), frees its custom hostnames and its slug, then marks it
 * deleted. Each a durable step, retried with backoff until it succeeds.
 */
public final class TenantDeprovisioningWorkflow
    implements Workflow<TenantProvisioningWorkflow.Input, TenantDeprovisioningWorkflow.Output> {

  public record Output(Map<String, Integer> downstream, int domainsReleased, String status) {}

  private final OutboundHttp http;
  private final TenantSettings settings;
  private final TenantLifecycle lifecycle;

  public TenantDeprovisioningWorkflow(
      OutboundHttp http, TenantSettings settings, TenantLifecycle lifecycle) {
    this.http = http;
    this.settings = settings;
    this.lifecycle = lifecycle;
  }

  @Override
  public String name() {
    return Tenant.DEPROVISIONING_WORKFLOW;
  }

  @Override
  public Class<TenantProvisioningWorkflow.Input> inputType() {
    return TenantProvisioningWorkflow.Input.class;
  }

  @Override
  public String description() {
    return "Removes a deleted tenant from each downstream service and frees its hostnames and slug"
        + " (started by Keel)";
  }

  @Override
  public Output run(WorkflowContext ctx, TenantProvisioningWorkflow.Input input) throws Exception {
    var retry = DownstreamCall.retry(settings.downstreamRetry());
    Map<String, Integer> answered = new LinkedHashMap<>();
    for (TenantSettings.Downstream d : settings.downstream()) {
      URI url = URI.create(d.url().toString().replaceAll("/+$", "") + "/" + input.tenantId());
      int status =
          ctx.step(
              "deprovision-" + d.name(),
              Integer.class,
              retry,
              () ->
                  DownstreamCall.send(
                      http, "DELETE", url, null, ctx.idempotencyKey(), settings.downstreamRetry()));
      answered.put(d.name(), status);
    }
    int released =
        ctx.step(
            "release-domains",
            Integer.class,
            retry,
            () -> DownstreamCall.await(lifecycle.releaseDomains(input.tenantId())));
    ctx.step(
        "release-slug",
        Boolean.class,
        retry,
        () -> {
          DownstreamCall.await(lifecycle.releaseSlug(input.slug(), input.tenantId()));
          return Boolean.TRUE;
        });
    String status =
        ctx.step(
            "mark-deleted",
            String.class,
            retry,
            () -> DownstreamCall.await(lifecycle.markDeleted(input.tenantId())));
    return new Output(answered, released, status);
  }
}
