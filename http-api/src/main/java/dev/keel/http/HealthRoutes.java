package dev.keel.http;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;

/** {@code /health} (the process lives) and {@code /ready} (the node can take writes). No token. */
public final class HealthRoutes {

  private final HttpApi api;
  private final Supplier<CompletionStage<Optional<String>>> readiness;

  /**
   * @param readiness empty when ready, else why not
   */
  public HealthRoutes(HttpApi api, Supplier<CompletionStage<Optional<String>>> readiness) {
    this.api = api;
    this.readiness = readiness;
  }

  public Route routes() {
    return api.concat(
        api.path(
            "health",
            () -> api.get(() -> api.complete(api.json(StatusCodes.OK, Map.of("status", "alive"))))),
        api.path(
            "ready",
            () ->
                api.get(
                    () ->
                        api.completeWithFuture(
                            readiness
                                .get()
                                .thenApply(
                                    notReady ->
                                        notReady.isEmpty()
                                            ? api.json(
                                                StatusCodes.OK,
                                                Map.of(
                                                    "status",
                                                    "ready",
                                                    "checks",
                                                    List.of("cluster", "journal", "sharding")))
                                            : api.problems.response(
                                                ApiProblem.unavailable(notReady.get(), 2)))))));
  }
}
