package dev.keel.persistence;

import java.util.Optional;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * Where one entity instance runs: its id, its actor context and timers, and the shard that holds it
 * (empty outside sharding, as in a test kit), which it asks to passivate it. What every entity's
 * constructor receives instead of the same four parameters each.
 */
public record EntityPlace<C>(
    String entityId,
    ActorContext<C> context,
    TimerScheduler<C> timers,
    Optional<ActorRef<ClusterSharding.ShardCommand>> shard) {}
