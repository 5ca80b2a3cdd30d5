package dev.keel.registry.alert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import com.typesafe.config.ConfigFactory;
import dev.keel.registry.alert.WebhookDeliveryWorkflow.DeliveryAttemptException;
import dev.keel.registry.alert.WebhookDeliveryWorkflow.Input;
import dev.keel.registry.alert.WebhookDeliveryWorkflow.Output;
import dev.keel.registry.alert.WebhookDeliveryWorkflow.Settings;
import dev.keel.registry.alert.WebhookDeliveryWorkflow.WebhookNotDeliveredException;
import dev.keel.workflow.builtin.FakeWorkflowContext;
import dev.keel.workflow.builtin.ScriptedHttpServer;
import dev.keel.workflow.builtin.ScriptedHttpServer.Answer;
import dev.keel.workflow.outbound.GuardedOutboundHttp;
import dev.keel.workflow.outbound.HostResolver;
import dev.keel.workflow.outbound.JdkOutboundHttp;
import dev.keel.workflow.outbound.OutboundHttp;
import dev.keel.workflow.outbound.OutboundRule;
import dev.keel.workflow.sdk.InputProblem;
import dev.keel.workflow.sdk.RetryPolicy;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.List;
import org.assertj.core.api.InstanceOfAssertFactories;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The webhook delivery's one step against a real local HTTP server; retries run inline (no backoff
 * waits).
 */
class WebhookDeliveryWorkflowTest {

  private static final OutboundHttp HTTP = new JdkOutboundHttp(Duration.ofSeconds(2));
  private static final Settings FAST =
      new Settings(4, Duration.ZERO, Duration.ZERO, 2.0, 0.0, Duration.ofMillis(500));

  private final ObjectMapper json = new ObjectMapper();
  private final WebhookDeliveryWorkflow workflow = new WebhookDeliveryWorkflow(HTTP, FAST);
  private ScriptedHttpServer server;
  private FakeWorkflowContext ctx;

  @BeforeEach
  void freshServer() throws IOException {
    server = new ScriptedHttpServer();
    ctx = new FakeWorkflowContext("alert.disk-full.7");
  }

  @AfterEach
  void stopServer() {
    server.close();
  }

  private JsonNode payload() throws IOException {
    return json.readTree(
        """
        {"alert": "disk-full", "service": "ingest-1", "condition": "metrics.disk_used > 0.9",
         "status": "degraded", "metrics": {"disk_used": 0.93}, "firedAt": "2026-03-01T10:00:00.123Z"}\
        """);
  }

  private Input input(String path) throws IOException {
    return new Input(server.url(path).toString(), payload(), "alert.disk-full.7");
  }

  @Test
  void postsThePayloadAsJsonWithTheIdempotencyKey() throws Exception {
    server.script("/hook", Answer.empty(204));
    Input input = input("/hook");
    assertThat(workflow.validate(input)).isEmpty();

    Output output = workflow.run(ctx, input);

    assertThat(output).isEqualTo(new Output(204));
    assertThat(server.received("/hook"))
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.method()).isEqualTo("POST");
              assertThat(r.header("Content-Type")).isEqualTo("application/json");
              assertThat(r.header("Idempotency-Key")).isEqualTo("alert.disk-full.7");
              assertThat(json.readTree(r.body())).isEqualTo(payload());
            });
    assertThat(ctx.calls()).containsExactly(new FakeWorkflowContext.Call("step", "deliver"));
    assertThat(ctx.stepRecord("deliver").attempts()).isEqualTo(1);
  }

  @Test
  void serverErrorsAreRetriedWithTheSameKeyAndBodyUntilA2xx() throws Exception {
    server.script(
        "/hook",
        Answer.text(500, "boom"),
        Answer.text(503, "later"),
        Answer.json(200, "{\"ok\":true}"));

    Output output = workflow.run(ctx, input("/hook"));

    assertThat(output.status()).isEqualTo(200);
    assertThat(server.received("/hook"))
        .hasSize(3)
        .allSatisfy(
            r -> {
              assertThat(r.header("Idempotency-Key")).isEqualTo("alert.disk-full.7");
              assertThat(json.readTree(r.body())).isEqualTo(payload());
            });
    FakeWorkflowContext.StepRecord step = ctx.stepRecord("deliver");
    assertThat(step.attempts()).isEqualTo(3);
    assertThat(step.failures())
        .first(InstanceOfAssertFactories.THROWABLE)
        .isInstanceOfSatisfying(
            DeliveryAttemptException.class, e -> assertThat(e.status()).isEqualTo(500))
        .hasMessage(
            "POST "
                + WebhookDeliveryWorkflow.withoutSecrets(server.url("/hook"))
                + " answered 500: boom");
  }

  @ParameterizedTest
  @ValueSource(ints = {301, 400, 404, 410, 429})
  void everyNon2xxIsRetried(int status) throws Exception {
    server.script("/hook", Answer.empty(status), Answer.empty(202));
    assertThat(workflow.run(ctx, input("/hook"))).isEqualTo(new Output(202));
    assertThat(server.received("/hook")).hasSize(2);
  }

  @Test
  void aReceiverSlowerThanTheRequestTimeoutIsRetried() throws Exception {
    server.script("/slow", Answer.empty(200).after(Duration.ofSeconds(2)), Answer.empty(200));

    assertThat(workflow.run(ctx, input("/slow"))).isEqualTo(new Output(200));

    assertThat(ctx.stepRecord("deliver").failures())
        .singleElement(InstanceOfAssertFactories.THROWABLE)
        .isInstanceOf(DeliveryAttemptException.class)
        .hasMessage(
            "POST "
                + WebhookDeliveryWorkflow.withoutSecrets(server.url("/slow"))
                + " timed out after 500 ms")
        .hasCauseInstanceOf(HttpTimeoutException.class);
  }

  @Test
  void afterTheLastAttemptTheExecutionFailsWithTheLastError() throws Exception {
    server.script("/down", Answer.text(500, "still down"));

    assertThatThrownBy(() -> workflow.run(ctx, input("/down")))
        .isInstanceOf(WebhookNotDeliveredException.class)
        .hasMessage(
            "gave up after 4 attempts; last: POST "
                + WebhookDeliveryWorkflow.withoutSecrets(server.url("/down"))
                + " answered 500: still down");
    assertThat(server.received("/down")).hasSize(4);
    assertThat(ctx.stepRecord("deliver").succeeded()).isFalse();
  }

  @Test
  void aTenantsDeliveryToAForbiddenAddressFailsAtOnceWithoutShowingThePath() throws Exception {
    server.script("/hook", Answer.empty(204));
    try (GuardedOutboundHttp guarded =
        new GuardedOutboundHttp(
            HTTP,
            OutboundRule.parse("", java.util.Set::of),
            HostResolver.SYSTEM,
            Duration.ofSeconds(2),
            Duration.ofSeconds(30))) {
      WebhookDeliveryWorkflow guardedWorkflow = new WebhookDeliveryWorkflow(guarded, FAST);
      FakeWorkflowContext tenantCtx = new FakeWorkflowContext("alert.acme.1").ofTenant("acme");

      assertThatThrownBy(() -> guardedWorkflow.run(tenantCtx, input("/hook")))
          .hasMessageContaining(
              "POST "
                  + WebhookDeliveryWorkflow.withoutSecrets(server.url("/hook"))
                  + " refused: 127.0.0.1 is a loopback address")
          .hasMessageNotContaining("/hook")
          .hasMessageNotContaining("Exception");
      assertThat(tenantCtx.stepRecord("deliver").attempts()).as("not retried").isEqualTo(1);
      assertThat(server.received("/hook")).isEmpty();

      assertThat(guardedWorkflow.run(ctx, input("/hook")))
          .as("the admin's own rule")
          .isEqualTo(new Output(204));
    }
  }

  @Test
  void aRefusedConnectionIsRetriedAndErrorsNeverShowTheQueryOrCredentials() throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    String url = "http://user:secret@127.0.0.1:" + closedPort + "/hook?token=s3cr3t#frag";
    Input input = new Input(url, payload(), "k-1");
    assertThat(workflow.validate(input)).isEmpty();

    Throwable failure =
        org.assertj.core.api.Assertions.catchThrowable(() -> workflow.run(ctx, input));

    assertThat(failure)
        .isInstanceOf(WebhookNotDeliveredException.class)
        .hasMessageStartingWith(
            "gave up after 4 attempts; last: POST http://127.0.0.1:" + closedPort + "/… failed: ");
    assertThat(ctx.stepRecord("deliver").attempts()).isEqualTo(4);
    for (Throwable t : ctx.stepRecord("deliver").failures()) {
      assertThat(t.getMessage())
          .doesNotContain("s3cr3t")
          .doesNotContain("secret")
          .doesNotContain("frag");
    }
    assertThat(failure.getMessage()).doesNotContain("s3cr3t").doesNotContain("secret");
  }

  @Test
  void theStepRetriesPerTheSettingsAndTheDefaultsComeFromReferenceConf() throws Exception {
    Settings defaults =
        Settings.fromConfig(
            ConfigFactory.parseResources("keel-alerts.conf")
                .resolve()
                .getConfig("keel.alerts.delivery"));
    assertThat(defaults)
        .isEqualTo(
            new Settings(
                20,
                Duration.ofSeconds(1),
                Duration.ofMinutes(5),
                2.0,
                0.2,
                Duration.ofSeconds(10)));
    assertThat(defaults.retryPolicy())
        .isEqualTo(
            new RetryPolicy(
                20,
                Duration.ofSeconds(1),
                Duration.ofMinutes(5),
                2.0,
                0.2,
                List.of(dev.keel.workflow.outbound.OutboundRefusedException.class)));

    ctx = new FakeWorkflowContext("wf");
    server.script("/hook", Answer.empty(200));
    WebhookDeliveryWorkflow withDefaults = new WebhookDeliveryWorkflow(HTTP, defaults);
    withDefaults.run(
        ctx, new Input(server.url("/hook").toString(), json.createObjectNode().put("a", 1), "k"));
    assertThat(ctx.stepRecord("deliver").policy()).isEqualTo(defaults.retryPolicy());

    // The backoff doubles from 1 s to at most 5 min (jitter aside), 20 attempts in all.
    RetryPolicy noJitter = defaults.retryPolicy().withJitter(0);
    assertThat(noJitter.backoffAfter(1, 0.5)).isEqualTo(Duration.ofSeconds(1));
    assertThat(noJitter.backoffAfter(5, 0.5)).isEqualTo(Duration.ofSeconds(16));
    assertThat(noJitter.backoffAfter(19, 0.5)).isEqualTo(Duration.ofMinutes(5));
    assertThat(defaults.retryPolicy().retries(19, new IOException())).isTrue();
    assertThat(defaults.retryPolicy().retries(20, new IOException())).isFalse();
  }

  @Test
  void badSettingsNameTheirKey() {
    assertThatThrownBy(
            () ->
                new Settings(
                    0,
                    Duration.ofSeconds(1),
                    Duration.ofMinutes(5),
                    2.0,
                    0.2,
                    Duration.ofSeconds(10)))
        .hasMessageContaining("keel.alerts.delivery.max-attempts");
    assertThatThrownBy(
            () ->
                new Settings(
                    3,
                    Duration.ofSeconds(10),
                    Duration.ofSeconds(1),
                    2.0,
                    0.2,
                    Duration.ofSeconds(10)))
        .hasMessageContaining("keel.alerts.delivery");
    assertThatThrownBy(
            () ->
                new Settings(
                    3, Duration.ofSeconds(1), Duration.ofSeconds(1), 2.0, 0.2, Duration.ZERO))
        .hasMessageContaining("keel.alerts.delivery.request-timeout");
  }

  @Test
  void validateListsEveryBadField() throws Exception {
    assertThat(workflow.validate(null)).extracting(InputProblem::field).containsExactly("input");
    assertThat(workflow.validate(new Input(null, null, null)))
        .extracting(InputProblem::field)
        .containsExactly("url", "payload", "idempotencyKey");
    for (String bad :
        List.of(
            "ftp://example.com/x",
            "/relative/path",
            "https://",
            "mailto:ops@example.com",
            "http:///no-host",
            "not a url",
            "https://example.com/" + "x".repeat(2100))) {
      assertThat(workflow.validate(new Input(bad, payload(), "k")))
          .as(bad)
          .extracting(InputProblem::field)
          .containsExactly("url");
    }
    assertThat(
            workflow.validate(
                new Input("https://example.com/x", NullNode.getInstance(), "with space")))
        .extracting(InputProblem::field)
        .containsExactly("payload", "idempotencyKey");
    assertThat(
            workflow.validate(
                new Input("HTTPS://example.com:8443/x?a=b", payload(), "x".repeat(255))))
        .isEmpty();
    assertThat(workflow.validate(new Input("https://example.com", payload(), "x".repeat(256))))
        .extracting(InputProblem::field)
        .containsExactly("idempotencyKey");
  }

  @Test
  void declaresItsNameAndInput() {
    assertThat(workflow.name()).isEqualTo("webhook-delivery");
    assertThat(workflow.inputType()).isEqualTo(Input.class);
    assertThat(workflow.description()).isNotBlank();
  }
}
