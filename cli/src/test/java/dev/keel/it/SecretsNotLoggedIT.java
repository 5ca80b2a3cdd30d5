package dev.keel.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.node.RawHttp;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The admin token and tenant API keys never reach the node's log or an error body: a real node (a
 * child process, its whole output captured) is driven through every path that handles them —
 * creating a tenant, using, mistyping, rotating and suspending its key, a wrong admin token — and
 * its output is searched for each secret afterwards.
 */
class SecretsNotLoggedIT {

  private static final Path LOG_DIR = Path.of("target", "it-logs", "secrets");
  private static final String ADMIN = "it-admin-secret-token-5b1e9c0a";
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @Test
  void noTokenOrKeyAppearsInTheLogOrInAnAnswer() throws Exception {
    try (ChildNodes nodes = new ChildNodes("keel-it-secrets")) {
      int port = KeelChildProcess.freePort();
      KeelChildProcess node =
          nodes.track(
              KeelChildProcess.start(
                  LOG_DIR,
                  "secrets",
                  List.of(
                      "--http-port",
                      Integer.toString(port),
                      "--cluster-port",
                      "0",
                      "--data-dir",
                      nodes.tempDir().resolve("data").toString()),
                  // DEBUG, so that whatever Keel or Pekko logs about requests and messages is in
                  // the output too.
                  Map.of("KEEL_ADMIN_TOKEN", ADMIN, "KEEL_LOG_LEVEL", "DEBUG"),
                  port));
      node.awaitReady(http);

      List<String> secrets = new ArrayList<>(List.of(ADMIN));
      List<String> answers = new ArrayList<>();
      JsonNode tenant =
          JSON.readTree(
              send(
                  node,
                  "POST",
                  "/api/v1/tenants",
                  "{\"slug\":\"acme\",\"name\":\"Acme\",\"plan\":\"pro\"}",
                  ADMIN,
                  answers));
      String id = tenant.get("id").asText();
      String key = tenant.get("apiKey").asText();
      secrets.add(key);
      send(node, "PUT", "/api/v1/services/acme-svc", "{\"type\":\"source\"}", key, answers);
      send(
          node,
          "POST",
          "/api/v1/services/acme-svc/heartbeat",
          "{\"status\":\"bogus\"}",
          key,
          answers);
      send(
          node, "GET", "/api/v1/services", null, key.substring(0, key.length() - 1) + "0", answers);
      send(node, "GET", "/api/v1/services", null, ADMIN + "x", answers);
      String rotated =
          JSON.readTree(
                  send(node, "POST", "/api/v1/tenants/" + id + "/api-keys", null, key, answers))
              .get("apiKey")
              .asText();
      secrets.add(rotated);
      send(node, "GET", "/api/v1/services", null, key, answers);
      send(
          node,
          "POST",
          "/api/v1/tenants/" + id + "/suspend",
          "{\"reason\":\"test\"}",
          ADMIN,
          answers);
      send(node, "GET", "/api/v1/services", null, rotated, answers);
      send(
          node,
          "POST",
          "/api/v1/tenants",
          "{\"slug\":\"acme\",\"name\":\"Again\",\"plan\":\"pro\"}",
          ADMIN,
          answers);

      String output = node.stdoutText() + node.stderrText();
      assertThat(output).as("the node logged at DEBUG").contains("DEBUG");
      for (String secret : secrets) {
        // The random part is what must not leak; the prefix and tenant id are not secret.
        String secretPart =
            secret.startsWith("keel_") ? secret.substring(secret.lastIndexOf('_') + 1) : secret;
        assertThat(output).as("log").doesNotContain(secretPart);
        // Only the two answers that issue a key may carry it: the create and the rotation.
        long carrying = answers.stream().filter(a -> a.contains(secretPart)).count();
        assertThat(carrying)
            .as("answers carrying " + secretPart.substring(0, 6) + "…")
            .isLessThanOrEqualTo(1);
      }
      assertThat(answers.stream().filter(a -> a.contains(ADMIN))).isEmpty();
    }
  }

  /**
   * Headers that do not parse used to be logged by Pekko at WARN with their value: an {@code
   * Authorization} carrying two credentials or a token with {@code @} (not token68 syntax), which
   * is why the admin token here has one. With those, every other hostile request the edge refuses
   * (dot segments, control characters, oversized headers, unknown methods and versions).
   */
  @Test
  void malformedAuthorizationHeadersAndHostileRequestsLeaveNoSecretInTheLog() throws Exception {
    String admin = "itadmin4f9c@q7Zx2Lr8Wm";
    try (ChildNodes nodes = new ChildNodes("keel-it-secrets-hostile")) {
      int port = KeelChildProcess.freePort();
      KeelChildProcess node =
          nodes.track(
              KeelChildProcess.start(
                  LOG_DIR,
                  "secrets-hostile",
                  List.of(
                      "--http-port",
                      Integer.toString(port),
                      "--cluster-port",
                      "0",
                      "--data-dir",
                      nodes.tempDir().resolve("data").toString()),
                  Map.of("KEEL_ADMIN_TOKEN", admin, "KEEL_LOG_LEVEL", "DEBUG"),
                  port));
      node.awaitReady(http);

      List<String> answers = new ArrayList<>();
      JsonNode tenant =
          JSON.readTree(
              send(
                  node,
                  "POST",
                  "/api/v1/tenants",
                  "{\"slug\":\"hostile\",\"name\":\"H\",\"plan\":\"pro\"}",
                  admin,
                  answers));
      String key = tenant.get("apiKey").asText();
      String id = tenant.get("id").asText();
      String keySecret = key.substring(key.lastIndexOf('_') + 1);
      assertThat(tenant.get("status").isTextual())
          .as("the admin token with '@' is accepted")
          .isTrue();

      List<String> authorizations =
          List.of(
              "Bearer " + admin + ", Bearer " + key,
              "Bearer " + key + "@x",
              "Bearer " + admin + "@",
              "Bearer @" + key,
              "Basic " + admin,
              "Bearer " + key + " " + admin,
              "Bearer \"" + admin + "\"",
              "Bearer " + admin + "\u0001",
              "Bearer " + key + "\u00e9",
              "bearer=" + admin,
              "Bearer " + admin + "x".repeat(9000));
      List<byte[]> requests = new ArrayList<>();
      for (String authorization : authorizations) {
        requests.add(
            RawHttp.request(
                "GET",
                "/api/v1/tenants/" + id,
                null,
                null,
                null,
                "Authorization: " + authorization));
      }
      requests.add(
          RawHttp.request(
              "GET",
              "/api/v1/services",
              null,
              null,
              null,
              "Authorization: Bearer " + admin,
              "Authorization: Bearer " + key));
      requests.add(
          RawHttp.request(
              "DELETE", "/api/v1/tenants/" + id + "/domains/%2e%2e", admin, null, null));
      requests.add(RawHttp.request("GET", "/api/v1/services/a%00b", key, null, null));
      requests.add(RawHttp.request("GET", "/api/v1/services?type=%C0%AF", key, null, null));
      requests.add(RawHttp.request("GET", "/api/v1/workflows?token=" + keySecret, key, null, null));
      requests.add(RawHttp.request("FOO", "/api/v1/services", admin, null, null));
      requests.add(RawHttp.request("PATCH", "/api/v1/services", key, null, null));
      requests.add(RawHttp.request("GET", "/api/v1/" + "a".repeat(3000), admin, null, null));
      requests.add(
          RawHttp.request(
              "POST",
              "/api/v1/workflows",
              key,
              "application/json",
              new byte[] {'{', (byte) 0xC0, (byte) 0xAF}));
      requests.add(
          ("GET /api/v1/services HTTP/9.9\r\nHost: x\r\nAuthorization: Bearer "
                  + admin
                  + "\r\n\r\n")
              .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
      requests.add(
          ("GET /api/v1/services HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                  + key
                  + "\r\nContent-Length: "
                  + admin
                  + "\r\n\r\n")
              .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
      requests.add(
          ("GET /api/v1/services HTTP/1.1\r\nHost: x\r\nX-"
                  + keySecret
                  + " Bad: "
                  + admin
                  + "\r\n\r\n")
              .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
      for (byte[] request : requests) {
        RawHttp.Answer answer = RawHttp.send(port, request);
        assertThat(answer.status()).as(answer.body()).isBetween(400, 499);
        answers.add(answer.body());
      }

      String output = node.stdoutText() + node.stderrText();
      assertThat(output).as("the node logged at DEBUG").contains("DEBUG");
      for (String secret : List.of(admin, keySecret, "itadmin4f9c", "q7Zx2Lr8Wm")) {
        assertThat(output).as("log").doesNotContain(secret);
        assertThat(answers.stream().skip(1).filter(a -> a.contains(secret)))
            .as("answers")
            .isEmpty();
      }
    }
  }

  private String send(
      KeelChildProcess node,
      String method,
      String path,
      String body,
      String token,
      List<String> answers)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(node.uri(path))
            .timeout(Duration.ofSeconds(30))
            .header("Authorization", "Bearer " + token)
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) b.header("Content-Type", "application/json");
    String answer = http.send(b.build(), HttpResponse.BodyHandlers.ofString()).body();
    answers.add(answer);
    return answer;
  }
}
