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
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * The cluster's disturbances as this node sees them, for the service TTL's grace:
 *
 * <ul>
 *   <li>while a member is unreachable, the disturbance lasts (messages to its shards wait);
 *   <li>a crashed member downed and removed: {@code margin} more, the split-brain resolver's
 *       stable-after, which Pekko also waits before that member's shard coordinators and shards
 *       start elsewhere;
 *   <li>any other membership change (a node joining or leaving, shards handed off): its moment.
 * </ul>
 */
final class ClusterCalm implements ControlPlaneCalm {

  private final Clock clock;
  private final Duration margin;
  private final Set<Address> unreachable = ConcurrentHashMap.newKeySet();
  private volatile Instant until = Instant.EPOCH;

  ClusterCalm(ActorSystem<?> system, Duration margin, Clock clock) {
    this.clock = clock;
    this.margin = margin;
    system.systemActorOf(watcher(), "keel-cluster-calm", Props.empty());
  }

  @Override
  public Instant disturbedUntil() {
    Instant now = clock.instant();
    return !unreachable.isEmpty() && now.isAfter(until) ? now : until;
  }

  private Behavior<ClusterEvent.ClusterDomainEvent> watcher() {
    return Behaviors.setup(
        ctx -> {
          Cluster cluster = Cluster.get(ctx.getSystem());
          cluster
              .subscriptions()
              .tell(Subscribe.create(ctx.getSelf().narrow(), ClusterEvent.MemberEvent.class));
          cluster
              .subscriptions()
              .tell(Subscribe.create(ctx.getSelf().narrow(), ClusterEvent.ReachabilityEvent.class));
          return Behaviors.receiveMessage(
              event -> {
                Instant now = clock.instant();
                Instant end = now;
                if (event instanceof ClusterEvent.UnreachableMember u) {
                  unreachable.add(u.member().address());
                } else if (event instanceof ClusterEvent.ReachableMember r) {
                  unreachable.remove(r.member().address());
                } else if (event instanceof ClusterEvent.MemberDowned) {
                  end = now.plus(margin);
                } else if (event instanceof ClusterEvent.MemberRemoved m) {
                  unreachable.remove(m.member().address());
                  if (m.previousStatus() == MemberStatus.down()) end = now.plus(margin);
                }
                if (end.isAfter(until)) until = end;
                return Behaviors.same();
              });
        });
  }
}
