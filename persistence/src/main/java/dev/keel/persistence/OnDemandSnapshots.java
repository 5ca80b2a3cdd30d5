package dev.keel.persistence;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;

/**
 * {@code POST /api/v1/admin/snapshots}: snapshots one entity now, through its own {@code
 * SaveSnapshot} command ({@link EntitySnapshots}). An id with no journal is not found and is never
 * asked: asking would start (and, for remembered types, remember) an entity for nothing.
 */
public final class OnDemandSnapshots {

  /**
   * One entity type: its sharding key (named like its persistence ids) and its snapshot command.
   */
  public record Target<C>(
      EntityTypeKey<C> key, Function<ActorRef<StatusReply<Done>>, C> saveSnapshot) {
    CompletionStage<Done> ask(ClusterSharding sharding, String id, Duration timeout) {
      return sharding.entityRefFor(key, id).askWithStatus(saveSnapshot::apply, timeout);
    }
  }

  private final ClusterSharding sharding;
  private final JournalReader journal;
  private final Duration askTimeout;
  private final Map<String, Target<?>> targets;

  public OnDemandSnapshots(ActorSystem<?> system, JournalReader journal, List<Target<?>> targets) {
    this.sharding = ClusterSharding.get(system);
    this.journal = journal;
    this.askTimeout = system.settings().config().getDuration("keel.snapshots.ask-timeout");
    this.targets =
        targets.stream()
            .collect(Collectors.toUnmodifiableMap(t -> t.key().name(), Function.identity()));
  }

  public Set<String> entityTypes() {
    return targets.keySet();
  }

  /**
   * Completes once the snapshot of {@code entityType}/{@code id} is stored.
   *
   * @throws AuditLog.UnknownEntityTypeException at once, for a type this node does not know
   */
  public CompletionStage<Done> snapshot(String entityType, String id) {
    Target<?> target = targets.get(entityType);
    if (target == null) throw new AuditLog.UnknownEntityTypeException(entityType, targets.keySet());
    return journal
        .exists(PersistenceId.of(entityType, id).id())
        .thenCompose(
            exists ->
                exists
                    ? target.ask(sharding, id, askTimeout)
                    : CompletableFuture.failedFuture(
                        Rejection.notFoundFailure(entityType + " '" + id + "' does not exist")));
  }
}
