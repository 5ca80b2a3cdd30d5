package dev.keel.it;

import static dev.keel.it.KeelChildProcess.assertOneLineNaming;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
 * {@code keel server --log-format json}: every line of the node's output is one JSON object, the
 * access line of a request carries the {@code X-Request-Id} the client sent, and no token appears.
 * A format that does not exist stops the start with one line naming {@code KEEL_LOG_FORMAT}.
 */
class JsonLogsIT {

  private static final Path LOG_DIR = Path.of("target", "it-logs", "json-logs");
  private static final String ADMIN = "it-admin-json-logs-token-7f3a";
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @Test
  void everyLineIsJsonAndRequestLinesCarryTheRequestId() throws Exception {
    try (ChildNodes nodes = new ChildNodes("keel-it-json-logs")) {
      int port = KeelChildProcess.freePort();
      KeelChildProcess node =
          nodes.track(
              KeelChildProcess.start(
                  LOG_DIR,
                  "json",
                  List.of(
                      "--http-port",
                      Integer.toString(port),
                      "--cluster-port",
                      "0",
                      "--log-format",
                      "json",
                      "--data-dir",
                      nodes.tempDir().resolve("data").toString()),
                  Map.of("KEEL_ADMIN_TOKEN", ADMIN, "KEEL_LOG_LEVEL", "DEBUG"),
                  port));
      node.awaitReady(http);

      HttpResponse<String> unknown =
          send(node, "/api/v1/workflows/no-such-run", ADMIN, "json-it-req-1");
      assertThat(unknown.statusCode()).isEqualTo(404);
      assertThat(unknown.headers().firstValue("X-Request-Id")).contains("json-it-req-1");
      assertThat(
              send(node, "/api/v1/workflows/no-such-run", ADMIN + "-wrong", "json-it-req-2")
                  .statusCode())
          .isEqualTo(401);
      String generated =
          send(node, "/api/v1/cluster", ADMIN, null)
              .headers()
              .firstValue("X-Request-Id")
              .orElseThrow();

      List<JsonNode> lines = awaitLines(node, generated);
      assertThat(lines)
          .anySatisfy(
              l -> {
                assertThat(l.path("requestId").asText()).isEqualTo("json-it-req-1");
                assertThat(l.path("logger_name").asText()).isEqualTo("dev.keel.http.access");
                assertThat(l.path("level").asText()).isEqualTo("INFO");
                assertThat(l.path("message").asText())
                    .contains("status=404")
                    .contains("route=/api/v1/workflows/{id}");
                assertThat(l.path("@timestamp").asText()).endsWith("Z");
              });
      assertThat(lines)
          .anySatisfy(l -> assertThat(l.path("requestId").asText()).isEqualTo("json-it-req-2"));
      assertThat(node.stdoutText() + node.stderrText()).doesNotContain(ADMIN);
      // keel's main gives the common pool two threads, so ask callbacks do not start a thread each.
      assertThat(lines)
          .noneSatisfy(l -> assertThat(l.path("message").asText()).contains("common pool"));
    }
  }

  @Test
  void anUnknownFormatStopsTheStartNamingTheSetting() throws Exception {
    try (ChildNodes nodes = new ChildNodes("keel-it-bad-log-format")) {
      int port = KeelChildProcess.freePort();
      KeelChildProcess node =
          nodes.track(
              KeelChildProcess.start(
                  LOG_DIR,
                  "bad-format",
                  List.of(
                      "--http-port",
                      Integer.toString(port),
                      "--cluster-port",
                      "0",
                      "--data-dir",
                      nodes.tempDir().resolve("data").toString()),
                  Map.of("KEEL_LOG_FORMAT", "xml"),
                  port));
      assertOneLineNaming(node, node.awaitExit(KeelChildProcess.EXIT_DEADLINE), "KEEL_LOG_FORMAT");
    }
  }

  /**
   * Parses every line of stdout (each must be JSON) once the line of {@code lastRequestId} is
   * written (logging is asynchronous).
   */
  private static List<JsonNode> awaitLines(KeelChildProcess node, String lastRequestId)
      throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!node.stdoutText().contains(lastRequestId) && System.nanoTime() < deadline)
      Thread.sleep(100);
    List<JsonNode> parsed = new ArrayList<>();
    for (String line : node.stdoutText().lines().filter(l -> !l.isBlank()).toList()) {
      JsonNode json;
      try {
        json = JSON.readTree(line);
      } catch (Exception e) {
        throw new AssertionError(node.describe("not a JSON line: " + line));
      }
      assertThat(json.isObject()).as(line).isTrue();
      parsed.add(json);
    }
    assertThat(parsed).as(node.describe("the node logged")).isNotEmpty();
    return parsed;
  }

  private HttpResponse<String> send(
      KeelChildProcess node, String path, String token, String requestId) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(node.uri(path))
            .timeout(Duration.ofSeconds(30))
            .header("Authorization", "Bearer " + token)
            .GET();
    if (requestId != null) b.header("X-Request-Id", requestId);
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }
}
