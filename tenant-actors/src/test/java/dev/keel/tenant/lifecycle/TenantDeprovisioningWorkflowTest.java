package dev.keel.tenant.lifecycle;

import static dev.keel.tenant.lifecycle.TenantProvisioningWorkflowTest.CALL_TIMEOUT;
import static dev.keel.tenant.lifecycle.TenantProvisioningWorkflowTest.TENANT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.tenant.TenantSettings;
import dev.keel.tenant.lifecycle.RecordingTenantLifecycle.Call;
import dev.keel.workflow.builtin.FakeWorkflowContext;
import dev.keel.workflow.builtin.ScriptedHttpServer;
import dev.keel.workflow.builtin.ScriptedHttpServer.Answer;
import dev.keel.workflow.outbound.JdkOutboundHttp;
import dev.keel.workflow.sdk.StepFailedException;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code tenant-deprovisioning} against a real local HTTP server per downstream service: each gets
 * {@code DELETE <url>/<tenantId>} with a stable Idempotency-Key until it answers 2xx (or 404: gone
 * already); only then are the hostnames and the slug freed and the tenant marked deleted.
 */
class TenantDeprovisioningWorkflowTest {

  private static final String WORKFLOW_ID = "tenant-deprovisioning." + TENANT;

  private final ScriptedHttpServer ledger = TenantProvisioningWorkflowTest.start();
  private final ScriptedHttpServer loyalty = TenantProvisioningWorkflowTest.start();
  private final FakeWorkflowContext ctx = new FakeWorkflowContext(WORKFLOW_ID);
  private final RecordingTenantLifecycle lifecycle =
      new RecordingTenantLifecycle(
          () ->
              "ledger="
                  + ledger.received("/tenants/" + TENANT).size()
                  + " loyalty="
                  + loyalty.received("/v1/tenants/" + TENANT).size());

  @AfterEach
  void stop() {
    ledger.close();
    loyalty.close();
  }

  @Test
  void everyDownstreamForgetsTheTenantThenItsNamesAreFreedAndItIsMarkedDeleted() throws Exception {
    ledger.script(
        "/tenants/" + TENANT,
        Answer.text(500, "busy"),
        Answer.empty(204).after(CALL_TIMEOUT.multipliedBy(4)),
        Answer.empty(204));
    loyalty.script("/v1/tenants/" + TENANT, Answer.json(404, "{\"error\": \"no such tenant\"}"));

    TenantDeprovisioningWorkflow.Output output = workflow(5).run(ctx, input());

    // At least the 500, the timeout and the 204; a loaded machine may time out once more.
    assertThat(ledger.received("/tenants/" + TENANT))
        .hasSizeGreaterThanOrEqualTo(3)
        .allSatisfy(r -> assertThat(r.method()).isEqualTo("DELETE"))
        .extracting(r -> r.header("Idempotency-Key"))
        .containsOnly(WORKFLOW_ID + "/deprovision-ledger");
    assertThat(ctx.stepRecord("deprovision-ledger").failures())
        .hasSizeGreaterThanOrEqualTo(2)
        .anySatisfy(f -> assertThat(f).isInstanceOf(HttpTimeoutException.class));
    assertThat(loyalty.received("/v1/tenants/" + TENANT))
        .as("gone already counts as done")
        .hasSize(1);
    String downstreamDone = "ledger=" + ledger.received("/tenants/" + TENANT).size() + " loyalty=1";
    assertThat(lifecycle.calls())
        .as("in order, each after every downstream forgot the tenant")
        .containsExactly(
            new Call("release-domains", TENANT, downstreamDone),
            new Call("release-slug:acme", TENANT, downstreamDone),
            new Call("mark-deleted", TENANT, downstreamDone));
    assertThat(output)
        .isEqualTo(
            new TenantDeprovisioningWorkflow.Output(
                Map.of("ledger", 204, "loyalty", 404), 2, "deleted"));
  }

  @Test
  void aDownstreamThatNeverForgetsKeepsTheSlugAndTheTenantUntilItDoes() {
    ledger.script("/tenants/" + TENANT, Answer.empty(204));
    loyalty.script("/v1/tenants/" + TENANT, Answer.empty(500));

    assertThatThrownBy(() -> workflow(3).run(ctx, input()))
        .isInstanceOfSatisfying(
            StepFailedException.class,
            e -> assertThat(e.stepName()).isEqualTo("deprovision-loyalty"));

    assertThat(loyalty.received("/v1/tenants/" + TENANT)).hasSize(3);
    assertThat(lifecycle.calls()).as("nothing freed, not deleted").isEmpty();
  }

  private TenantDeprovisioningWorkflow workflow(int maxAttempts) {
    return new TenantDeprovisioningWorkflow(
        new JdkOutboundHttp(Duration.ofSeconds(2)),
        TenantProvisioningWorkflowTest.settings(
            List.of(
                // A trailing slash on the configured URL does not double up.
                new TenantSettings.Downstream("ledger", ledger.url("/tenants/")),
                new TenantSettings.Downstream("loyalty", loyalty.url("/v1/tenants"))),
            maxAttempts),
        lifecycle);
  }

  private static TenantProvisioningWorkflow.Input input() {
    return new TenantProvisioningWorkflow.Input(TENANT, "acme", "free");
  }
}
