package dev.keel.node;

import static dev.keel.node.NodeHttp.JSON;
import static dev.keel.node.NodeHttp.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real node whose operator allows {@code 127.0.0.2/32}: a tenant's http-sequence reaches a server
 * there, but neither another loopback address nor the node's own port, not even through a redirect,
 * while the admin's own executions reach both as before. Tenants may not start {@code
 * webhook-delivery}.
 */
class OutboundIT {

  @TempDir Path dir;

  @Test
  void aTenantsRequestsReachOnlyWhatTheOperatorAllowsAndTheAdminKeepsItsFreedom() throws Exception {
    AtomicInteger internalHits = new AtomicInteger();
    HttpServer internal = server("127.0.0.1", internalHits);
    HttpServer allowed = server("127.0.0.2", new AtomicInteger());
    try (KeelNode node =
        NodeHttp.start(
            Map.of(
                "keel.node.data-dir",
                dir.toString(),
                "keel.workflows.outbound.allow",
                "127.0.0.2/32"))) {
      NodeHttp api = NodeHttp.ready(node);
      int nodePort = node.httpPort();
      allowed.createContext(
          "/to-node",
          exchange -> {
            exchange
                .getResponseHeaders()
                .add("Location", "http://127.0.0.1:" + nodePort + "/ready");
            exchange.sendResponseHeaders(302, -1);
            exchange.close();
          });
      String internalUrl = "http://127.0.0.1:" + internal.getAddress().getPort() + "/ok";
      String allowedUrl = "http://127.0.0.2:" + allowed.getAddress().getPort();

      HttpResponse<String> created =
          api.send(
              "POST", "/api/v1/tenants", "{\"slug\":\"acme\",\"name\":\"Acme\",\"plan\":\"pro\"}");
      assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
      String tenantId = JSON.readTree(created.body()).get("id").asText();
      String key = JSON.readTree(created.body()).get("apiKey").asText();
      api.await(
          "/api/v1/tenants/" + tenantId,
          t -> t.get("status").asText().equals("active"),
          "became active");

      // A URL that is a forbidden address: the tenant's start is refused, naming the field; nothing
      // runs.
      for (String url :
          new String[] {
            internalUrl,
            "http://[::ffff:127.0.0.1]:" + nodePort + "/ready",
            "http://0x7f000001:" + nodePort + "/ready",
            "http://169.254.169.254/latest/meta-data/"
          }) {
        assertProblem(
            api.sendAuth("POST", "/api/v1/workflows", sequence("t-literal", url), key),
            400,
            "input.steps[0].request.url");
      }
      assertProblem(api.sendAuth("GET", "/api/v1/workflows/t-literal", null, key), 404);

      // The operator's list: the tenant reaches 127.0.0.2.
      JsonNode reached = finished(api, key, sequence("t-allowed", allowedUrl + "/ok"));
      assertThat(reached.get("status").asText()).as(reached.toString()).isEqualTo("completed");

      // A redirect from there to the node's own port is checked like the first hop, and fails the
      // step at once.
      JsonNode redirected = finished(api, key, sequence("t-redirect", allowedUrl + "/to-node"));
      assertThat(redirected.get("status").asText()).as(redirected.toString()).isEqualTo("failed");
      JsonNode step = redirected.get("steps").get(0);
      assertThat(step.get("attempts").asInt()).as("a refusal is not retried").isEqualTo(1);
      assertThat(redirected.get("error").asText())
          .contains("refused: 127.0.0.1:" + nodePort + " is one of this node's own ports")
          .doesNotContain("Exception")
          .doesNotContain("dev.keel");

      // The admin's own executions reach loopback and the node itself, as before.
      JsonNode adminInternal = finished(api, NodeHttp.TOKEN, sequence("a-internal", internalUrl));
      assertThat(adminInternal.get("status").asText())
          .as(adminInternal.toString())
          .isEqualTo("completed");
      assertThat(internalHits).as("only the admin reached the internal server").hasValue(1);
      JsonNode adminSelf =
          finished(
              api, NodeHttp.TOKEN, sequence("a-self", "http://127.0.0.1:" + nodePort + "/ready"));
      assertThat(adminSelf.get("status").asText()).as(adminSelf.toString()).isEqualTo("completed");

      // Keel's own webhook workflow is the admin's to start.
      assertProblem(
          api.sendAuth(
              "POST",
              "/api/v1/workflows",
              "{\"workflow\":\"webhook-delivery\",\"input\":{\"url\":\""
                  + allowedUrl
                  + "/ok\",\"payload\":{},\"idempotencyKey\":\"k\"}}",
              key),
          403);
    } finally {
      internal.stop(0);
      allowed.stop(0);
    }
  }

  private static String sequence(String id, String url) {
    return "{\"workflow\":\"http-sequence\",\"id\":\""
        + id
        + "\",\"input\":{\"steps\":[{\"name\":\"call\","
        + "\"request\":{\"method\":\"GET\",\"url\":\""
        + url
        + "\"},\"retry\":{\"maxAttempts\":2,\"initialBackoff\":\"PT0.1S\"}}]}}";
  }

  /** Starts and waits for the end in one request. */
  private static JsonNode finished(NodeHttp api, String token, String start) throws Exception {
    HttpResponse<String> response =
        api.sendAuth("POST", "/api/v1/workflows?wait=PT20S", start, token);
    assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
    return JSON.readTree(response.body());
  }

  private static HttpServer server(String address, AtomicInteger hits) throws Exception {
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getByName(address), 0), 0);
    server.createContext(
        "/ok",
        exchange -> {
          hits.incrementAndGet();
          byte[] body = "{\"ok\":true}".getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(200, body.length);
          exchange.getResponseBody().write(body);
          exchange.close();
        });
    server.start();
    return server;
  }
}
