package dev.keel.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node's route tree is built when the node starts, not per request: a directive evaluates its
 * inner supplier for every request that reaches it, and a tree built inside one once parsed the
 * OpenAPI document and read Swagger UI's files from the jar for every workflow started.
 */
class RouteTreeBuiltOnceTest {

  @TempDir Path dataDir;

  @Test
  void theTreeUnderProblemHandlingIsBuiltOnceForAllRequests() throws Exception {
    HttpApi api =
        new HttpApi(
            Json.mapper(), AdminToken.resolve(Optional.of("t-1234567890abcdef"), dataDir), 1024);
    AtomicInteger builds = new AtomicInteger();
    try (RouteServer server =
        RouteServer.bind(
            "RouteTreeBuiltOnceTest",
            api.withProblemHandling(
                () -> {
                  builds.incrementAndGet();
                  return api.path(
                      "ping", () -> api.get(() -> api.complete(api.json(StatusCodes.OK, "pong"))));
                }))) {
      for (int i = 0; i < 5; i++) {
        assertThat(server.send(server.request("/ping").GET()).statusCode()).isEqualTo(200);
      }
      // Failures still answer problem documents from the same tree.
      assertThat(server.send(server.request("/nowhere").GET()).statusCode()).isEqualTo(404);
    }
    assertThat(builds).hasValue(1);
  }
}
