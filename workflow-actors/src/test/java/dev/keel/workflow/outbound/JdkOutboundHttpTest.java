package dev.keel.workflow.outbound;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.workflow.builtin.ScriptedHttpServer;
import dev.keel.workflow.builtin.ScriptedHttpServer.Answer;
import dev.keel.workflow.builtin.ScriptedHttpServer.Received;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class JdkOutboundHttpTest {

  private final OutboundHttp http = new JdkOutboundHttp(Duration.ofSeconds(2));
  private final ScriptedHttpServer server;

  JdkOutboundHttpTest() throws IOException {
    server = new ScriptedHttpServer();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  @Test
  void sendsMethodHeadersAndBodyAndAnswersStatusHeadersAndBody() throws IOException {
    server.script("/echo", Answer.json(201, "{\"id\": 7}"));

    OutboundHttp.Response response =
        http.send(
            new OutboundHttp.Request(
                "PATCH",
                server.url("/echo"),
                Map.of("X-Trace", "t-1"),
                "{\"a\":1}".getBytes(StandardCharsets.UTF_8),
                Duration.ofSeconds(5)));

    Received received = server.received("/echo").get(0);
    assertThat(received.method()).isEqualTo("PATCH");
    assertThat(received.header("X-Trace")).isEqualTo("t-1");
    assertThat(received.bodyText()).isEqualTo("{\"a\":1}");
    assertThat(response.status()).isEqualTo(201);
    assertThat(response.header("content-type")).contains("application/json");
    assertThat(new String(response.body(), StandardCharsets.UTF_8)).isEqualTo("{\"id\": 7}");
  }

  @Test
  void nonSuccessStatusIsAnAnswerNotAnError() throws IOException {
    server.script("/missing", Answer.empty(404));

    OutboundHttp.Response response =
        http.send(
            new OutboundHttp.Request(
                "GET", server.url("/missing"), Map.of(), null, Duration.ofSeconds(5)));

    assertThat(response.status()).isEqualTo(404);
    assertThat(response.body()).isEmpty();
  }

  @Test
  void slowServerTimesOut() {
    server.script("/slow", Answer.empty(200).after(Duration.ofSeconds(3)));

    assertThatThrownBy(
            () ->
                http.send(
                    new OutboundHttp.Request(
                        "GET", server.url("/slow"), Map.of(), null, Duration.ofMillis(300))))
        .isInstanceOf(HttpTimeoutException.class);
  }

  @Test
  void unreachableServerIsAnIOException() throws IOException {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }

    assertThatThrownBy(
            () ->
                http.send(
                    new OutboundHttp.Request(
                        "GET",
                        URI.create("http://127.0.0.1:" + closedPort + "/"),
                        Map.of(),
                        null,
                        Duration.ofSeconds(5))))
        .isInstanceOf(IOException.class);
  }
}
