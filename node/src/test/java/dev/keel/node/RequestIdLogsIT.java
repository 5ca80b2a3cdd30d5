package dev.keel.node;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Every line an entity logs while doing what a request asked carries that request's {@code
 * X-Request-Id}, whichever entity type it is, whether the caller is the admin or a tenant (whose
 * key is checked asynchronously first) and whether a quota check ran before; and a line logged for
 * no request (a workflow completing on its own) carries none, not some earlier request's.
 */
class RequestIdLogsIT {

  private final List<ILoggingEvent> lines = new CopyOnWriteArrayList<>();

  @Test
  void entityLinesCarryTheRequestIdOnEmbeddedH2() throws Exception {
    Path dir = Files.createTempDirectory("keel-it-request-ids");
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    AppenderBase<ILoggingEvent> appender =
        new AppenderBase<>() {
          @Override
          protected void append(ILoggingEvent event) {
            lines.add(event);
          }
        };
    appender.start();
    root.addAppender(appender);
    try (KeelNode node = NodeHttp.start(Map.of("keel.node.data-dir", dir.toString()))) {
      NodeHttp api = NodeHttp.ready(node);
      exercise(api);
    } finally {
      root.detachAppender(appender);
    }
  }

  private void exercise(NodeHttp api) throws Exception {
    HttpResponse<String> tenant =
        api.sendNamed(
            "POST",
            "/api/v1/tenants",
            "{\"slug\":\"acme\",\"name\":\"Acme\",\"plan\":\"pro\"}",
            NodeHttp.TOKEN,
            "req-tenant-create");
    assertThat(tenant.statusCode()).as(tenant.body()).isEqualTo(201);
    JsonNode created = NodeHttp.JSON.readTree(tenant.body());
    String tenantId = created.get("id").asText();
    String key = created.get("apiKey").asText();
    expectLine("slug reserved slug=acme", "req-tenant-create");
    expectLine("tenant created tenantId=" + tenantId, "req-tenant-create");
    api.await(
        "/api/v1/tenants/" + tenantId,
        t -> t.get("status").asText().equals("active"),
        "became active");

    // A tenant's key: authentication is answered asynchronously, and each creation checks a quota
    // first.
    send(
        api,
        key,
        "req-register",
        "PUT",
        "/api/v1/services/orders-api",
        "{\"type\":\"api\",\"ttlSeconds\":60}",
        201);
    expectLine("service registered serviceId=orders-api", "req-register");
    send(
        api,
        key,
        "req-heartbeat",
        "POST",
        "/api/v1/services/orders-api/heartbeat",
        "{\"status\":\"unhealthy\"}",
        200);
    expectLine("service status changed serviceId=orders-api", "req-heartbeat");
    send(
        api,
        key,
        "req-alert-put",
        "PUT",
        "/api/v1/alerts/orders-down",
        "{\"service\":\"orders-api\",\"condition\":\"status !="
            + " healthy\",\"webhook\":\"http://127.0.0.1:9/hook\"}",
        201);
    expectLine("alert defined alertId=orders-down", "req-alert-put");

    String waiting =
        "{\"workflow\":\"http-sequence\",\"id\":\"%s\",\"input\":{\"steps\":[{\"name\":\"approval\",\"signal\":\"approve\",\"timeout\":\"PT1H\"}]}}";
    send(
        api, key, "req-start", "POST", "/api/v1/workflows", waiting.formatted("wf-signalled"), 201);
    expectLine("workflow started id=wf-signalled", "req-start");
    api.await(
        "/api/v1/workflows/wf-signalled",
        w -> w.get("status").asText().equals("waiting"),
        "waited for its signal");
    send(api, key, "req-pause", "POST", "/api/v1/workflows/wf-signalled/pause", null, 202);
    expectLine("workflow paused id=wf-signalled", "req-pause");
    send(api, key, "req-resume", "POST", "/api/v1/workflows/wf-signalled/resume", null, 202);
    expectLine("workflow resumed id=wf-signalled", "req-resume");
    send(
        api,
        key,
        "req-signal",
        "POST",
        "/api/v1/workflows/wf-signalled/signals/approve",
        "{\"ok\":true}",
        202);
    expectLine("signal received id=wf-signalled", "req-signal");
    // Completion follows from the workflow's own progress, not from a request.
    expectLine("workflow completed id=wf-signalled", null);

    send(
        api,
        NodeHttp.TOKEN,
        "req-start-2",
        "POST",
        "/api/v1/workflows",
        waiting.formatted("wf-cancelled"),
        201);
    send(
        api,
        NodeHttp.TOKEN,
        "req-cancel",
        "POST",
        "/api/v1/workflows/wf-cancelled/cancel",
        "{\"reason\":\"not needed\"}",
        202);
    expectLine("workflow cancelled id=wf-cancelled", "req-cancel");

    send(
        api,
        key,
        "req-schedule-put",
        "PUT",
        "/api/v1/schedules/nightly",
        "{\"workflow\":\"example\",\"cron\":\"0 3 * *"
            + " *\",\"timezone\":\"Europe/Berlin\",\"input\":{\"userId\":\"u1\",\"action\":\"sync\"}}",
        201);
    expectLine("schedule defined scheduleId=nightly", "req-schedule-put");
    send(api, key, "req-schedule-delete", "DELETE", "/api/v1/schedules/nightly", null, 204);
    expectLine("schedule deleted scheduleId=nightly", "req-schedule-delete");

    send(
        api,
        key,
        "req-domain-add",
        "POST",
        "/api/v1/tenants/" + tenantId + "/domains",
        "{\"hostname\":\"status.acme.example\"}",
        201);
    expectLine("domain claimed hostname=status.acme.example", "req-domain-add");

    send(api, key, "req-alert-delete", "DELETE", "/api/v1/alerts/orders-down", null, 204);
    expectLine("alert deleted alertId=orders-down", "req-alert-delete");
    send(api, key, "req-deregister", "DELETE", "/api/v1/services/orders-api", null, 204);
    expectLine("service deregistered serviceId=orders-api", "req-deregister");
    send(
        api,
        NodeHttp.TOKEN,
        "req-suspend",
        "POST",
        "/api/v1/tenants/" + tenantId + "/suspend",
        "{\"reason\":\"unpaid\"}",
        200);
    expectLine("tenant suspended tenantId=" + tenantId, "req-suspend");
  }

  private static void send(
      NodeHttp api,
      String token,
      String requestId,
      String method,
      String path,
      String body,
      int status)
      throws Exception {
    HttpResponse<String> response = api.sendNamed(method, path, body, token, requestId);
    assertThat(response.statusCode())
        .as(method + " " + path + " -> " + response.body())
        .isEqualTo(status);
    assertThat(response.headers().firstValue("X-Request-Id"))
        .as("the id is returned")
        .contains(requestId);
  }

  /**
   * Waits for the line starting with {@code prefix}: logged with {@code requestId}, or with none
   * when it is null.
   */
  private void expectLine(String prefix, String requestId) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < deadline) {
      for (ILoggingEvent line : lines) {
        String message = line.getFormattedMessage();
        if (message.startsWith(prefix + " ") || message.equals(prefix)) {
          assertThat(line.getMDCPropertyMap().get("requestId"))
              .as("request id of '" + message + "'")
              .isEqualTo(requestId);
          return;
        }
      }
      Thread.sleep(50);
    }
    throw new AssertionError("no line '" + prefix + "' was logged");
  }
}
