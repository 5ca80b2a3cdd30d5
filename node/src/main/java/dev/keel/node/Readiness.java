package dev.keel.node;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.GetClusterShardingStats;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * Whether this node can take writes now: Up in the cluster, the database answers, and every entity
 * type's shard coordinator is running (after a journal outage the coordinators restart with a
 * backoff, and until they do, writes time out even though the database answers again). Each check
 * is bounded so that a probe gets its answer within about a second.
 */
public final class Readiness {

  private static final Duration CHECK_TIMEOUT = Duration.ofSeconds(1);

  private final ActorSystem<?> system;
  private final BooleanSupplier databaseAnswers;
  private final Executor blocking;
  private final List<EntityTypeKey<?>> entityTypes;

  public Readiness(
      ActorSystem<?> system,
      BooleanSupplier databaseAnswers,
      Executor blocking,
      List<EntityTypeKey<?>> entityTypes) {
    this.system = system;
    this.databaseAnswers = databaseAnswers;
    this.blocking = blocking;
    this.entityTypes = List.copyOf(entityTypes);
  }

  /** Empty when ready; otherwise the first reason why not. */
  public CompletionStage<Optional<String>> check() {
    MemberStatus status = Cluster.get(system).selfMember().status();
    if (status != MemberStatus.up()) {
      return CompletableFuture.completedFuture(
          Optional.of("this node is not Up in the cluster yet (" + status + ")"));
    }
    CompletableFuture<Optional<String>> database =
        CompletableFuture.supplyAsync(
                () ->
                    databaseAnswers.getAsBoolean()
                        ? Optional.<String>empty()
                        : Optional.of("the journal database does not answer"),
                blocking)
            .completeOnTimeout(
                Optional.of(
                    "the journal database does not answer within "
                        + CHECK_TIMEOUT.toMillis()
                        + " ms"),
                CHECK_TIMEOUT.toMillis(),
                TimeUnit.MILLISECONDS);
    CompletableFuture<Optional<String>> result = database;
    for (EntityTypeKey<?> type : entityTypes) {
      result =
          result.thenCompose(
              previous ->
                  previous.isPresent()
                      ? CompletableFuture.completedFuture(previous)
                      : coordinatorRunning(type));
    }
    return result;
  }

  private CompletableFuture<Optional<String>> coordinatorRunning(EntityTypeKey<?> type) {
    return AskPattern
        .<org.apache.pekko.cluster.sharding.typed.ClusterShardingQuery,
            ShardRegion.ClusterShardingStats>
            ask(
                ClusterSharding.get(system).shardState(),
                replyTo -> new GetClusterShardingStats(type, CHECK_TIMEOUT, replyTo),
                CHECK_TIMEOUT.plusMillis(500),
                system.scheduler())
        .toCompletableFuture()
        .handle(
            (stats, error) ->
                error == null && !stats.getRegions().isEmpty()
                    ? Optional.<String>empty()
                    : Optional.of(
                        "the "
                            + type.name()
                            + " shard coordinator is not running (restarting after a journal"
                            + " failure?)"));
  }
}
