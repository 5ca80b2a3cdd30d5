package dev.keel.node;

import dev.keel.registry.service.ControlPlaneCalm;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * The cluster's disturbances as this node sees them: while a member is unreachable, and for
 * {@code margin} after any membership or reachability change. The margin is the split-brain
 * resolver's stable-after, which Pekko also waits after removing a crashed member before its
 * shard coordinators and singletons start elsewhere; until then messages to its shards wait.
 */
final class ClusterCalm implements ControlPlaneCalm {

  private final Clock clock;
  private final Duration margin;
  private final Set<Address> unreachable = ConcurrentHashMap.newKeySet();
  private volatile Instant lastChange = Instant.EPOCH;

  ClusterCalm(ActorSystem<?> system, Duration margin, Clock clock) {
    this.clock = clock;
    this.margin = margin;
    system.systemActorOf(watcher(), "keel-cluster-calm", Props.empty());
  }

  @Override
  public Instant disturbedUntil() {
    Instant now = clock.instant();
    if (!unreachable.isEmpty()) return now;
    Instant until = lastChange.plus(margin);
    return until.isAfter(now) ? until : lastChange;
  }

  private Behavior<ClusterEvent.ClusterDomainEvent> watcher() {
    return Behaviors.setup(ctx -> {
      Cluster cluster = Cluster.get(ctx.getSystem());
      cluster.subscriptions().tell(Subscribe.create(ctx.getSelf().narrow(), ClusterEvent.MemberEvent.class));
      cluster.subscriptions().tell(Subscribe.create(ctx.getSelf().narrow(), ClusterEvent.ReachabilityEvent.class));
      return Behaviors.receiveMessage(event -> {
        if (event instanceof ClusterEvent.UnreachableMember u) {
          unreachable.add(u.member().address());
        } else if (event instanceof ClusterEvent.ReachableMember r) {
          unreachable.remove(r.member().address());
        } else if (event instanceof ClusterEvent.MemberRemoved m) {
          unreachable.remove(m.member().address());
        }
        lastChange = clock.instant();
        return Behaviors.same();
      });
    });
  }
}
