package dev.keel.http;

import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.Route;

/** {@code /health} (the process lives) and {@code /ready} (Up in the cluster and the journal answers). No token. */
public final class HealthRoutes {

  private final HttpApi api;
  private final Cluster cluster;
  private final BooleanSupplier journalAnswers;
  private final java.util.concurrent.Executor blocking;

  public HealthRoutes(HttpApi api, Cluster cluster, BooleanSupplier journalAnswers, java.util.concurrent.Executor blocking) {
    this.api = api;
    this.cluster = cluster;
    this.journalAnswers = journalAnswers;
    this.blocking = blocking;
  }

  public Route routes() {
    return api.concat(
        api.path("health", () -> api.get(() -> api.complete(api.json(StatusCodes.OK, Map.of("status", "alive"))))),
        api.path("ready", () -> api.get(this::ready)));
  }

  private Route ready() {
    boolean up = cluster.selfMember().status() == MemberStatus.up();
    if (!up) {
      return api.complete(api.problems.response(ApiProblem.unavailable(
          "this node is not Up in the cluster yet (" + cluster.selfMember().status() + ")", 1)));
    }
    // JDBC blocks: answer from the blocking pool, not from the route's thread.
    return api.completeWithFuture(java.util.concurrent.CompletableFuture.supplyAsync(journalAnswers::getAsBoolean, blocking)
        .thenApply(ok -> ok
            ? api.json(StatusCodes.OK, Map.of("status", "ready", "checks", List.of("cluster", "journal")))
            : api.problems.response(ApiProblem.unavailable("the journal database does not answer", 2))));
  }
}
