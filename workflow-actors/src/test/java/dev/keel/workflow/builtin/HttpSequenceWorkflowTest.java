package dev.keel.workflow.builtin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keel.workflow.builtin.FakeWorkflowContext.Call;
import dev.keel.workflow.builtin.HttpSequenceWorkflow.RequestRejectedException;
import dev.keel.workflow.builtin.HttpSequenceWorkflow.UnexpectedStatusException;
import dev.keel.workflow.builtin.ScriptedHttpServer.Answer;
import dev.keel.workflow.builtin.ScriptedHttpServer.Received;
import dev.keel.workflow.outbound.GuardedOutboundHttp;
import dev.keel.workflow.outbound.HostResolver;
import dev.keel.workflow.outbound.JdkOutboundHttp;
import dev.keel.workflow.outbound.OutboundHttp;
import dev.keel.workflow.outbound.OutboundRefusedException;
import dev.keel.workflow.outbound.OutboundRule;
import dev.keel.workflow.sdk.InputProblem;
import dev.keel.workflow.sdk.RetryPolicy;
import dev.keel.workflow.sdk.SignalTimeoutException;
import dev.keel.workflow.sdk.StepFailedException;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.InstanceOfAssertFactories;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HttpSequenceWorkflowTest {

  private static final OutboundHttp HTTP = new JdkOutboundHttp(Duration.ofSeconds(2));

  private final ObjectMapper json = new ObjectMapper();
  private final HttpSequenceWorkflow workflow = new HttpSequenceWorkflow(HTTP);
  private ScriptedHttpServer server;
  private FakeWorkflowContext ctx;

  @BeforeEach
  void freshServerAndContext() throws IOException {
    if (server != null) server.close();
    server = new ScriptedHttpServer();
    ctx = new FakeWorkflowContext("wf-1");
  }

  @AfterAll
  void stopServer() {
    if (server != null) server.close();
  }

  @Test
  void requestStepSendsHeadersBodyAndIdempotencyKey() throws Exception {
    server.script("/charges", Answer.json(201, "{\"id\": \"ch_1\"}"));
    HttpSequenceWorkflow.Input input =
        input(
            """
            {"steps": [{"name": "charge",
                        "request": {"method": "POST", "url": "%s", "headers": {"X-Tenant": "acme"},
                                    "body": {"amount": 42, "currency": "EUR"}, "timeoutSeconds": 10}}]}
            """
                .formatted(server.url("/charges")));
    assertThat(workflow.validate(input)).isEmpty();

    ObjectNode output = workflow.run(ctx, input);

    Received request = server.received("/charges").get(0);
    assertThat(server.received("/charges")).hasSize(1);
    assertThat(request.method()).isEqualTo("POST");
    assertThat(request.header("Idempotency-Key")).isEqualTo("wf-1/charge");
    assertThat(request.header("Content-Type")).isEqualTo("application/json");
    assertThat(request.header("X-Tenant")).isEqualTo("acme");
    assertThat(json.readTree(request.body()))
        .isEqualTo(json.readTree("{\"amount\": 42, \"currency\": \"EUR\"}"));
    assertThat(output)
        .isEqualTo(json.readTree("{\"charge\": {\"status\": 201, \"body\": {\"id\": \"ch_1\"}}}"));
  }

  @Test
  void givenContentTypeWinsAndNoBodyMeansNoContentType() throws Exception {
    server.script("/a", Answer.empty(204)).script("/b", Answer.empty(204));
    HttpSequenceWorkflow.Input input =
        input(
            """
            {"steps": [{"name": "a", "request": {"method": "PUT", "url": "%s", "headers": {"content-type": "application/merge-patch+json"}, "body": {"x": 1}}},
                       {"name": "b", "request": {"method": "DELETE", "url": "%s"}}]}
            """
                .formatted(server.url("/a"), server.url("/b")));

    workflow.run(ctx, input);

    assertThat(server.received("/a").get(0).headers().get("Content-Type"))
        .containsExactly("application/merge-patch+json");
    assertThat(server.received("/b").get(0).header("Content-Type")).isNull();
    assertThat(server.received("/b").get(0).body()).isEmpty();
    assertThat(server.received("/b").get(0).header("Idempotency-Key")).isEqualTo("wf-1/b");
  }

  @Test
  void serverErrorIsRetriedWithTheSameIdempotencyKey() throws Exception {
    server.script("/flaky", Answer.text(500, "boom"), Answer.json(200, "{\"ok\": true}"));
    HttpSequenceWorkflow.Input input =
        input(
            """
            {"steps": [{"name": "charge", "request": {"method": "POST", "url": "%s", "body": {}},
                        "retry": {"maxAttempts": 3, "initialBackoff": "PT0S", "maxBackoff": "PT0S"}}]}
            """
                .formatted(server.url("/flaky")));

    ObjectNode output = workflow.run(ctx, input);

    assertThat(server.received("/flaky"))
        .extracting(r -> r.header("Idempotency-Key"))
        .containsExactly("wf-1/charge", "wf-1/charge");
    FakeWorkflowContext.StepRecord step = ctx.stepRecord("charge");
    assertThat(step.attempts()).isEqualTo(2);
    assertThat(step.failures())
        .singleElement(InstanceOfAssertFactories.THROWABLE)
        .isInstanceOfSatisfying(
            UnexpectedStatusException.class, e -> assertThat(e.status()).isEqualTo(500))
        .hasMessageContaining("POST " + server.url("/flaky") + " answered 500: boom");
    assertThat(output)
        .isEqualTo(json.readTree("{\"charge\": {\"status\": 200, \"body\": {\"ok\": true}}}"));
  }

  @ParameterizedTest
  @ValueSource(ints = {400, 401, 403, 404, 409, 422})
  void clientErrorIsNotRetried(int status) {
    server.script(
        "/reject", Answer.json(status, "{\"error\": \"bad amount\"}"), Answer.json(200, "{}"));
    HttpSequenceWorkflow.Input input =
        input(
            """
            {"steps": [{"name": "charge", "request": {"method": "POST", "url": "%s", "body": {"amount": -1}},
                        "retry": {"maxAttempts": 5, "initialBackoff": "PT0S", "maxBackoff": "PT0S"}}]}
            """
                .formatted(server.url("/reject")));

    assertThatThrownBy(() -> workflow.run(ctx, input))
        .isInstanceOfSatisfying(
            StepFailedException.class, e -> assertThat(e.stepName()).isEqualTo("charge"))
        .hasMessageContaining("answered " + status + ": {\"error\": \"bad amount\"}");

    assertThat(server.received("/reject")).hasSize(1);
    assertThat(ctx.stepRecord("charge").failures())
        .singleElement()
        .isInstanceOf(RequestRejectedException.class);
  }

  @ParameterizedTest
  @ValueSource(ints = {408, 429, 502, 503})
  void timeoutAndRateLimitAndGatewayAnswersAreRetried(int status) throws Exception {
    server.script("/busy", Answer.empty(status), Answer.json(200, "{}"));
    HttpSequenceWorkflow.Input input =
        input(
            """
            {"steps": [{"name": "call", "request": {"method": "GET", "url": "%s"},
                        "retry": {"initialBackoff": "PT0S", "maxBackoff": "PT0S"}}]}
            """
                .formatted(server.url("/busy")));

    workflow.run(ctx, input);

    assertThat(server.received("/busy")).hasSize(2);
    assertThat(ctx.stepRecord("call").failures())
        .singleElement()
        .isExactlyInstanceOf(UnexpectedStatusException.class);
  }

  @Test
  void requestTimeoutIsRetried() throws Exception {
    server.script(
        "/slow",
        Answer.json(200, "{\"late\": true}").after(Duration.ofMillis(2500)),
        Answer.json(200, "{\"late\": false}"));
    HttpSequenceWorkflow.Input input =
        input(
            """
            {"steps": [{"name": "call", "request": {"method": "GET", "url": "%s", "timeoutSeconds": 1},
                        "retry": {"maxAttempts": 2, "initialBackoff": "PT0S", "maxBackoff": "PT0S"}}]}
            """
                .formatted(server.url("/slow")));

    ObjectNode output = workflow.run(ctx, input);

    assertThat(ctx.stepRecord("call").failures())
        .singleElement(InstanceOfAssertFactories.THROWABLE)
        .isInstanceOf(HttpTimeoutException.class)
        .hasMessageContaining("GET " + server.url("/slow") + " timed out after 1 s");
    assertThat(server.received("/slow")).hasSize(2);
    assertThat(output.at("/call/body/late").asBoolean(true)).isFalse();
  }

  @Test
  void aTenantsStepToAForbiddenAddressFailsAtOnceWhileTheAdminsIsSent() throws Exception {
    try (GuardedOutboundHttp guarded =
        new GuardedOutboundHttp(
            HTTP,
            OutboundRule.parse("", java.util.Set::of),
            HostResolver.SYSTEM,
            Duration.ofSeconds(2),
            Duration.ofSeconds(30))) {
      HttpSequenceWorkflow guardedWorkflow = new HttpSequenceWorkflow(guarded);
      server.script("/internal", Answer.json(200, "{}"));
      HttpSequenceWorkflow.Input input =
          input(
              """
              {"steps": [{"name": "call", "request": {"method": "GET", "url": "%s"}}]}
              """
                  .formatted(server.url("/internal")));
      FakeWorkflowContext tenantCtx = new FakeWorkflowContext("wf-t").ofTenant("acme");

      assertThatThrownBy(() -> guardedWorkflow.run(tenantCtx, input))
          .isInstanceOf(StepFailedException.class)
          .hasMessageContaining(
              "GET " + server.url("/internal") + " refused: 127.0.0.1 is a loopback address")
          .hasMessageContaining("KEEL_OUTBOUND_ALLOW")
          .hasMessageNotContaining("Exception");
      assertThat(tenantCtx.stepRecord("call").attempts()).as("not retried").isEqualTo(1);
      assertThat(server.received("/internal")).isEmpty();

      assertThat(guardedWorkflow.run(ctx, input).get("call").get("status").asInt())
          .as("the admin's own")
          .isEqualTo(200);
    }
  }

  @Test
  void aTenantsStartWithAForbiddenAddressLiteralIsRefusedNamingTheField() throws Exception {
    try (GuardedOutboundHttp guarded =
        new GuardedOutboundHttp(
            HTTP,
            OutboundRule.parse("", java.util.Set::of),
            HostResolver.SYSTEM,
            Duration.ofSeconds(2),
            Duration.ofSeconds(30))) {
      HttpSequenceWorkflow guardedWorkflow = new HttpSequenceWorkflow(guarded);
      HttpSequenceWorkflow.Input input =
          input(
              """
              {"steps": [{"name": "fine", "request": {"method": "GET", "url": "https://api.example.com/x"}},
                         {"name": "metadata", "request": {"method": "GET", "url": "http://169.254.169.254/latest/meta-data/"}},
                         {"name": "self", "request": {"method": "GET", "url": "http://0x7f000001:8080/api/v1/tenants"}}]}
              """);
      assertThat(guardedWorkflow.validateStart(input, "acme"))
          .extracting(InputProblem::field)
          .containsExactly("steps[1].request.url", "steps[2].request.url");
      assertThat(guardedWorkflow.validateStart(input, "acme").get(0).message())
          .contains("169.254.169.254 is a link-local address");
      assertThat(guardedWorkflow.validateStart(input, null)).as("the admin's own").isEmpty();
    }
  }

  @Test
  void unreachableServerIsRetriedThenFailsTheStep() throws IOException {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    HttpSequenceWorkflow.Input input =
        input(
            """
            {"steps": [{"name": "call", "request": {"method": "GET", "url": "http://127.0.0.1:%d/x?token=secret"},
                        "retry": {"maxAttempts": 2, "initialBackoff": "PT0S", "maxBackoff": "PT0S"}}]}
            """
                .formatted(closedPort));

    assertThatThrownBy(() -> workflow.run(ctx, input))
        .isInstanceOf(StepFailedException.class)
        .hasMessageContaining("GET http://127.0.0.1:" + closedPort + "/x failed")
        .hasMessageNotContaining("secret");
    assertThat(ctx.stepRecord("call").attempts()).isEqualTo(2);
    assertThat(ctx.stepRecord("call").failures())
        .allSatisfy(e -> assertThat(e).isInstanceOf(IOException.class));
  }

  @Test
  void outputHoldsJsonBodiesTextBodiesAndEmptyBodies() throws Exception {
    server
        .script("/json", Answer.json(200, "{\"items\": [1, 2]}"))
        .script("/text", Answer.text(200, "plain words"))
        .script("/almost-json", Answer.text(200, "{\"a\": 1} trailing"))
        .script("/empty", Answer.empty(204));
    HttpSequenceWorkflow.Input input =
        input(
            """
            {"steps": [{"name": "json", "request": {"method": "GET", "url": "%s"}},
                       {"name": "text", "request": {"method": "GET", "url": "%s"}},
                       {"name": "almost-json", "request": {"method": "GET", "url": "%s"}},
                       {"name": "empty", "request": {"method": "HEAD", "url": "%s"}}]}
            """
                .formatted(
                    server.url("/json"),
                    server.url("/text"),
                    server.url("/almost-json"),
                    server.url("/empty")));

    ObjectNode output = workflow.run(ctx, input);

    assertThat(output)
        .isEqualTo(
            json.readTree(
                """
                {"json": {"status": 200, "body": {"items": [1, 2]}},
                 "text": {"status": 200, "body": "plain words"},
                 "almost-json": {"status": 200, "body": "{\\"a\\": 1} trailing"},
                 "empty": {"status": 204, "body": null}}
                """));
    assertThat(output.fieldNames())
        .toIterable()
        .containsExactly("json", "text", "almost-json", "empty");
  }

  @Test
  void retryPolicyComesFromTheStepOrTheDefaults() throws Exception {
    server.script("/ok", Answer.empty(204));
    HttpSequenceWorkflow.Input input =
        input(
            """
            {"steps": [{"name": "tuned", "request": {"method": "GET", "url": "%1$s"},
                        "retry": {"maxAttempts": 3, "initialBackoff": "PT2S", "maxBackoff": "PT30S", "multiplier": 3.0, "jitter": 0.1}},
                       {"name": "partly", "request": {"method": "GET", "url": "%1$s"}, "retry": {"initialBackoff": "PT5M"}},
                       {"name": "plain", "request": {"method": "GET", "url": "%1$s"}}]}
            """
                .formatted(server.url("/ok")));
    assertThat(workflow.validate(input)).isEmpty();

    workflow.run(ctx, input);

    assertThat(ctx.stepRecord("tuned").policy())
        .isEqualTo(
            new RetryPolicy(
                3,
                Duration.ofSeconds(2),
                Duration.ofSeconds(30),
                3.0,
                0.1,
                List.of(RequestRejectedException.class, OutboundRefusedException.class)));
    assertThat(ctx.stepRecord("partly").policy())
        .isEqualTo(
            new RetryPolicy(
                5,
                Duration.ofMinutes(5),
                Duration.ofMinutes(5),
                2.0,
                0.2,
                List.of(RequestRejectedException.class, OutboundRefusedException.class)));
    assertThat(ctx.stepRecord("plain").policy())
        .isEqualTo(
            RetryPolicy.defaults()
                .withNonRetryable(RequestRejectedException.class, OutboundRefusedException.class));
  }

  @Test
  void sleepAndSignalStepsGoThroughTheContext() throws Exception {
    ctx.signal("approve", Map.of("by", "ops"));
    HttpSequenceWorkflow.Input input =
        input(
            """
            {"steps": [{"name": "cool-off", "sleep": "PT30S"},
                       {"name": "approval", "signal": "approve", "timeout": "P3D"}]}
            """);
    assertThat(workflow.validate(input)).isEmpty();

    ObjectNode output = workflow.run(ctx, input);

    assertThat(ctx.calls())
        .containsExactly(new Call("sleep", "cool-off"), new Call("signal", "approve"));
    assertThat(ctx.sleeps()).containsExactly(Map.entry("cool-off", Duration.ofSeconds(30)));
    assertThat(ctx.signalTimeouts()).containsExactly(Map.entry("approve", Duration.ofDays(3)));
    assertThat(output)
        .isEqualTo(
            json.readTree(
                """
                {"cool-off": {"slept": "PT30S"}, "approval": {"signal": "approve", "payload": {"by": "ops"}}}
                """));
  }

  @Test
  void signalThatNeverComesFailsTheWorkflow() {
    HttpSequenceWorkflow.Input input =
        input(
            """
            {"steps": [{"name": "approval", "signal": "approve", "timeout": "PT1H"}]}
            """);

    assertThatThrownBy(() -> workflow.run(ctx, input)).isInstanceOf(SignalTimeoutException.class);
  }

  @Test
  void theDocumentedExampleIsValid() {
    HttpSequenceWorkflow.Input input =
        input(
            """
            {"steps": [
              {"name": "charge", "request": {"method": "POST", "url": "https://billing.example.com/charges",
                                             "headers": {"X-Tenant": "acme"}, "body": {"amount": 42}, "timeoutSeconds": 10},
                                 "retry": {"maxAttempts": 5, "initialBackoff": "PT1S", "maxBackoff": "PT1M", "multiplier": 2.0, "jitter": 0.2}},
              {"name": "cool-off", "sleep": "PT30S"},
              {"name": "approval", "signal": "approve", "timeout": "P3D"}]}
            """);

    assertThat(workflow.validate(input)).isEmpty();
  }

  @Test
  void validateListsEveryProblemWithItsPath() {
    HttpSequenceWorkflow.Input input =
        input(
            """
            {"steps": [
              {"name": "", "request": {"method": "FETCH", "url": "ftp://files.example.com/x", "timeoutSeconds": 0,
                                       "headers": {"Host": "evil", "Bad Header": "x", "Idempotency-Key": "mine", "X-Ok": "a\\nb"}},
                           "retry": {"maxAttempts": 0, "initialBackoff": "PT10S", "maxBackoff": "PT1S", "multiplier": 0.5, "jitter": 1.5}},
              {"name": "dup", "sleep": "-PT5S"},
              {"name": "dup", "sleep": "soon"},
              {"name": "bad name!", "request": {"url": "/relative"}, "sleep": "PT1S"},
              {"name": "nothing"},
              {"name": "wait", "signal": "approve", "timeout": "P3X"},
              {"name": "wait-again", "signal": "approve"},
              {"name": "charge", "sleep": "PT1S", "retry": {"maxAttempts": 101, "initialBackoff": "P2D"}, "timeout": "PT5S"},
              {"name": "too-slow", "request": {"method": "get", "url": "https://example.com", "timeoutSeconds": 301}},
              {"name": "collides", "signal": "charge", "timeout": "PT0S"}
            ]}
            """);

    List<InputProblem> problems = workflow.validate(input);

    assertThat(problems)
        .extracting(InputProblem::field)
        .containsExactlyInAnyOrder(
            "steps[0].name",
            "steps[0].request.method",
            "steps[0].request.url",
            "steps[0].request.timeoutSeconds",
            "steps[0].request.headers.Host",
            "steps[0].request.headers.Bad Header",
            "steps[0].request.headers.Idempotency-Key",
            "steps[0].request.headers.X-Ok",
            "steps[0].retry.maxAttempts",
            "steps[0].retry.maxBackoff",
            "steps[0].retry.multiplier",
            "steps[0].retry.jitter",
            "steps[1].sleep",
            "steps[2].name",
            "steps[2].sleep",
            "steps[3].name",
            "steps[3]",
            "steps[3].request.method",
            "steps[3].request.url",
            "steps[4]",
            "steps[5].timeout",
            "steps[6].signal",
            "steps[6].timeout",
            "steps[7].retry",
            "steps[7].retry.maxAttempts",
            "steps[7].retry.initialBackoff",
            "steps[7].timeout",
            "steps[8].request.method",
            "steps[8].request.timeoutSeconds",
            "steps[9].signal",
            "steps[9].timeout");
    assertThat(problems)
        .contains(
            new InputProblem("steps[2].name", "'dup' is already the name of steps[1]"),
            new InputProblem("steps[1].sleep", "must not be negative"),
            new InputProblem("steps[9].timeout", "must be positive"),
            new InputProblem("steps[4]", "needs one of request, sleep, signal"),
            new InputProblem("steps[3]", "must have exactly one of request, sleep, signal"));
    assertThat(problems).allSatisfy(p -> assertThat(p.message()).isNotBlank());
  }

  @Test
  void validateRefusesAnEmptyOrMissingDefinition() {
    assertThat(workflow.validate(null)).extracting(InputProblem::field).containsExactly("input");
    assertThat(workflow.validate(input("{}")))
        .extracting(InputProblem::field)
        .containsExactly("steps");
    assertThat(workflow.validate(input("{\"steps\": []}")))
        .extracting(InputProblem::field)
        .containsExactly("steps");
    assertThat(workflow.validate(input("{\"steps\": [null]}")))
        .extracting(InputProblem::field)
        .containsExactly("steps[0]");
  }

  @Test
  void validateRefusesSleepsAndTimeoutsThatWouldOverflowTheTimer() {
    // Accepted before, and the execution then failed with "ArithmeticException: long overflow".
    List<InputProblem> problems =
        workflow.validate(
            input(
                "{\"steps\": [{\"name\": \"nap\", \"sleep\": \"PT9223372036854775807S\"},{\"name\":"
                    + " \"wait\", \"signal\": \"go\", \"timeout\":"
                    + " \"PT9223372036854775807S\"},{\"name\": \"long\", \"sleep\":"
                    + " \"P3651D\"},{\"name\": \"ok\", \"sleep\": \"P3650D\"},{\"name\": \"nul\","
                    + " \"sleep\": \"PT1S\\u0000\"}]}"));
    assertThat(problems)
        .containsExactly(
            new InputProblem("steps[0].sleep", "must be at most 3650 days (P3650D)"),
            new InputProblem("steps[1].timeout", "must be at most 3650 days (P3650D)"),
            new InputProblem("steps[2].sleep", "must be at most 3650 days (P3650D)"),
            new InputProblem("steps[4].sleep", "must be an ISO-8601 duration such as PT30S"));
  }

  private HttpSequenceWorkflow.Input input(String text) {
    try {
      return json.readValue(text, HttpSequenceWorkflow.Input.class);
    } catch (IOException e) {
      throw new IllegalArgumentException(e);
    }
  }
}
