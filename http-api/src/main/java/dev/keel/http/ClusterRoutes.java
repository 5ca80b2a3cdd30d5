package dev.keel.http;

import dev.keel.persistence.ClusterStatus;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code GET /api/v1/cluster} (admin only): members, leader, and per entity type the entities and
 * shards each member holds. Translation only; the querying is {@link ClusterStatus}'s.
 */
public final class ClusterRoutes {

  private final HttpApi api;
  private final Supplier<CompletionStage<ClusterStatus.View>> status;

  public ClusterRoutes(HttpApi api, Supplier<CompletionStage<ClusterStatus.View>> status) {
    this.api = api;
    this.status = status;
  }

  public Route routes(Caller caller) {
    return api.path(
        "cluster", () -> api.get(() -> api.adminOnly(caller, () -> api.answerOk(status.get()))));
  }
}
