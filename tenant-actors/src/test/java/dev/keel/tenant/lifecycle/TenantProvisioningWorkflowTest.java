package dev.keel.tenant.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.tenant.TenantSettings;
import dev.keel.tenant.lifecycle.RecordingTenantLifecycle.Call;
import dev.keel.workflow.builtin.FakeWorkflowContext;
import dev.keel.workflow.builtin.ScriptedHttpServer;
import dev.keel.workflow.builtin.ScriptedHttpServer.Answer;
import dev.keel.workflow.builtin.ScriptedHttpServer.Received;
import dev.keel.workflow.outbound.JdkOutboundHttp;
import dev.keel.workflow.sdk.StepFailedException;
import java.io.IOException;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code tenant-provisioning} against a real local HTTP server per downstream service, on a fake
 * workflow context that retries failed steps at once: every downstream gets the tenant with a
 * stable Idempotency-Key, failures (500, timeouts) are retried until they recover, and the tenant
 * is activated only once every downstream has it.
 */
class TenantProvisioningWorkflowTest {

  static final String TENANT = "tacmeacmeacmeacmeacmeacmeac";
  static final String WORKFLOW_ID = "tenant-provisioning." + TENANT;

  /** Long enough for a loaded machine; the slow answers take four times as long. */
  static final Duration CALL_TIMEOUT = Duration.ofSeconds(1);

  private final ObjectMapper json = new ObjectMapper();
  private final ScriptedHttpServer ledger = start();
  private final ScriptedHttpServer loyalty = start();
  private final FakeWorkflowContext ctx = new FakeWorkflowContext(WORKFLOW_ID);
  private final RecordingTenantLifecycle lifecycle =
      new RecordingTenantLifecycle(
          () ->
              "ledger="
                  + ledger.received("/tenants").size()
                  + " loyalty="
                  + loyalty.received("/v1/tenants").size());

  @AfterEach
  void stop() {
    ledger.close();
    loyalty.close();
  }

  @Test
  void everyDownstreamGetsTheTenantWithItsIdempotencyKeyThenTheTenantIsActivated()
      throws Exception {
    ledger.script("/tenants", Answer.json(201, "{}"));
    loyalty.script("/v1/tenants", Answer.empty(200));

    TenantProvisioningWorkflow.Output output = workflow(5).run(ctx, input());

    Received toLedger = ledger.received("/tenants").get(0);
    assertThat(toLedger.method()).isEqualTo("POST");
    assertThat(toLedger.header("Content-Type")).isEqualTo("application/json");
    assertThat(toLedger.header("Idempotency-Key")).isEqualTo(WORKFLOW_ID + "/provision-ledger");
    assertThat(json.readTree(toLedger.body()))
        .isEqualTo(
            json.readTree(
                "{\"tenantId\": \"" + TENANT + "\", \"slug\": \"acme\", \"plan\": \"free\"}"));
    assertThat(loyalty.received("/v1/tenants").get(0).header("Idempotency-Key"))
        .isEqualTo(WORKFLOW_ID + "/provision-loyalty");
    assertThat(lifecycle.calls())
        .containsExactly(new Call("activate", TENANT, "ledger=1 loyalty=1"));
    assertThat(output)
        .isEqualTo(
            new TenantProvisioningWorkflow.Output(Map.of("ledger", 201, "loyalty", 200), "active"));
    assertThat(ctx.calls())
        .extracting(FakeWorkflowContext.Call::name)
        .containsExactly("provision-ledger", "provision-loyalty", "activate");
  }

  @Test
  void aFailingDownstreamIsRetriedWithTheSameKeyAndTheTenantIsActivatedOnlyAfterItRecovers()
      throws Exception {
    ledger.script(
        "/tenants",
        Answer.text(500, "database down"),
        Answer.empty(201).after(CALL_TIMEOUT.multipliedBy(4)),
        Answer.json(201, "{}"));
    loyalty.script("/v1/tenants", Answer.empty(503), Answer.empty(200));

    TenantProvisioningWorkflow.Output output = workflow(10).run(ctx, input());

    // At least the 500, the timeout and the 201; a loaded machine may time out once more.
    assertThat(ledger.received("/tenants"))
        .hasSizeGreaterThanOrEqualTo(3)
        .extracting(r -> r.header("Idempotency-Key"))
        .containsOnly(WORKFLOW_ID + "/provision-ledger");
    FakeWorkflowContext.StepRecord step = ctx.stepRecord("provision-ledger");
    assertThat(step.succeeded()).isTrue();
    assertThat(step.failures())
        .hasSizeGreaterThanOrEqualTo(2)
        .anySatisfy(
            f ->
                assertThat(f)
                    .isInstanceOf(IOException.class)
                    .hasMessageEndingWith("/tenants answered 500"))
        .anySatisfy(f -> assertThat(f).isInstanceOf(HttpTimeoutException.class));
    assertThat(step.policy().maxAttempts()).as("the configured retries").isEqualTo(10);
    assertThat(loyalty.received("/v1/tenants"))
        .hasSizeGreaterThanOrEqualTo(2)
        .extracting(r -> r.header("Idempotency-Key"))
        .containsOnly(WORKFLOW_ID + "/provision-loyalty");
    assertThat(lifecycle.calls())
        .as("activated once, after both answered 2xx")
        .containsExactly(
            new Call(
                "activate",
                TENANT,
                "ledger="
                    + ledger.received("/tenants").size()
                    + " loyalty="
                    + loyalty.received("/v1/tenants").size()));
    assertThat(output.status()).isEqualTo("active");
  }

  @Test
  void aDownstreamThatNeverRecoversFailsItsStepAndTheTenantIsNeverActivated() {
    ledger.script("/tenants", Answer.text(500, "still down"));
    loyalty.script("/v1/tenants", Answer.empty(200));

    assertThatThrownBy(() -> workflow(3).run(ctx, input()))
        .isInstanceOfSatisfying(
            StepFailedException.class, e -> assertThat(e.stepName()).isEqualTo("provision-ledger"))
        .hasMessageContaining("answered 500");

    assertThat(ledger.received("/tenants")).hasSize(3);
    assertThat(loyalty.received("/v1/tenants")).as("no later step ran").isEmpty();
    assertThat(lifecycle.calls()).isEmpty();
  }

  @Test
  void activationIsRetriedWhileTheNodeIsStillStarting() throws Exception {
    ledger.script("/tenants", Answer.empty(201));
    loyalty.script("/v1/tenants", Answer.empty(201));
    lifecycle.failFirst(2);

    TenantProvisioningWorkflow.Output output = workflow(5).run(ctx, input());

    assertThat(ctx.stepRecord("activate").attempts()).isEqualTo(3);
    assertThat(ledger.received("/tenants"))
        .as("a later step's retry calls no downstream again")
        .hasSize(1);
    assertThat(output.status()).isEqualTo("active");
  }

  @Test
  void withoutDownstreamServicesTheTenantIsActivatedAtOnce() throws Exception {
    TenantProvisioningWorkflow workflow =
        new TenantProvisioningWorkflow(
            new JdkOutboundHttp(Duration.ofSeconds(2)), settings(List.of(), 5), lifecycle);

    assertThat(workflow.run(ctx, input()).downstream()).isEmpty();
    assertThat(lifecycle.calls()).extracting(Call::what).containsExactly("activate");
  }

  private TenantProvisioningWorkflow workflow(int maxAttempts) {
    return new TenantProvisioningWorkflow(
        new JdkOutboundHttp(Duration.ofSeconds(2)),
        settings(
            List.of(
                new TenantSettings.Downstream("ledger", ledger.url("/tenants")),
                new TenantSettings.Downstream("loyalty", loyalty.url("/v1/tenants"))),
            maxAttempts),
        lifecycle);
  }

  static TenantSettings settings(List<TenantSettings.Downstream> downstream, int maxAttempts) {
    return new TenantSettings(
        "keel.test",
        Duration.ofSeconds(5),
        Duration.ofSeconds(60),
        Map.of("free", new TenantSettings.Plan("free", 10, 1000, 1)),
        downstream,
        new TenantSettings.DownstreamRetry(
            Duration.ofMillis(10), Duration.ofMillis(100), maxAttempts, CALL_TIMEOUT));
  }

  private static TenantProvisioningWorkflow.Input input() {
    return new TenantProvisioningWorkflow.Input(TENANT, "acme", "free");
  }

  static ScriptedHttpServer start() {
    try {
      return new ScriptedHttpServer();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
