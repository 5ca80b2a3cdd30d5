package dev.keel.persistence;

import java.util.Optional;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.ClusterShardingSettings;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;

/**
 * How every entity type runs, written once: sharded by its {@link EntityKind}'s key, remembered or
 * not, each instance built in an {@link EntityPlace} and run in the scope of the request that sent
 * its command ({@link SnapshottedEntity#inRequestScope}).
 *
 * <pre>{@code
 * EntityRuntime.start(system, KIND, Remembered.YES, place -> new Schedule(place, starter, clock));
 * Behavior<Command> one = EntityRuntime.unsharded("s-1", place -> new Schedule(place, starter, clock));
 * }</pre>
 */
public final class EntityRuntime {

  /**
   * Whether sharding journals each instance's start and stop and restarts live instances on a
   * surviving node: yes for entities with work of their own (timers, running steps, deliveries); no
   * for those that only answer commands, which cost nothing until asked.
   */
  public enum Remembered {
    YES,
    NO
  }

  private EntityRuntime() {}

  /** Starts sharding for {@code kind} on this node. */
  public static <C> void start(
      ActorSystem<?> system,
      EntityKind<C> kind,
      Remembered remembered,
      Function<EntityPlace<C>, SnapshottedEntity<C, ?, ?>> build) {
    Entity<C, org.apache.pekko.cluster.sharding.typed.ShardingEnvelope<C>> entity =
        Entity.of(
            kind.key(), ctx -> behavior(ctx.getEntityId(), Optional.of(ctx.getShard()), build));
    if (remembered == Remembered.YES) {
      entity =
          entity.withSettings(ClusterShardingSettings.create(system).withRememberEntities(true));
    }
    ClusterSharding.get(system).init(entity);
  }

  /** One instance outside sharding: for tests, which drive it with a test kit. */
  public static <C> Behavior<C> unsharded(
      String entityId, Function<EntityPlace<C>, SnapshottedEntity<C, ?, ?>> build) {
    return behavior(entityId, Optional.empty(), build);
  }

  private static <C> Behavior<C> behavior(
      String entityId,
      Optional<ActorRef<ClusterSharding.ShardCommand>> shard,
      Function<EntityPlace<C>, SnapshottedEntity<C, ?, ?>> build) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers ->
                    build
                        .apply(new EntityPlace<>(entityId, context, timers, shard))
                        .inRequestScope()));
  }
}
