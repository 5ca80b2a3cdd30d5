package dev.keel.persistence;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.sharding.ShardRegion;
import org.apache.pekko.cluster.sharding.typed.ClusterShardingQuery;
import org.apache.pekko.cluster.sharding.typed.GetClusterShardingStats;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * What {@code GET /api/v1/cluster} shows: membership as this node sees it, and per entity type how
 * many shards and entities each member holds (asked of the shard coordinators, bounded by a
 * timeout). The façade between the route and Pekko's cluster and sharding extensions.
 */
public final class ClusterStatus {

  /**
   * One member. {@code upSince}: when this node saw it become Up (for members already Up when this
   * node joined: then).
   */
  public record MemberView(
      String address, String status, boolean reachable, List<String> roles, Instant upSince) {}

  /**
   * The whole answer. {@code shards}: entity type → member address → entities; {@code shardCounts}:
   * entity type → member address → shards; {@code shardIds}: entity type → member address → the ids
   * of its shards, in order (a client that knows an entity's shard knows the node that holds it);
   * {@code shardsUnknown}: entity types whose coordinator did not answer in time (during a
   * take-over, say), absent from the three maps.
   */
  public record View(
      String self,
      String leader,
      List<MemberView> members,
      Map<String, Map<String, Integer>> shards,
      Map<String, Map<String, Integer>> shardCounts,
      Map<String, Map<String, List<String>>> shardIds,
      List<String> shardsUnknown) {}

  /** Keel's shard ids are numbers ({@code 0} to shards - 1): 2 before 10. */
  private static final Comparator<String> SHARD_ORDER =
      Comparator.comparingInt(String::length).thenComparing(Comparator.naturalOrder());

  private final ActorSystem<?> system;
  private final List<EntityTypeKey<?>> entityTypes;
  private final Duration timeout;
  private final Map<Address, Instant> upSince = new ConcurrentHashMap<>();

  public ClusterStatus(
      ActorSystem<?> system, List<EntityTypeKey<?>> entityTypes, Duration timeout, Clock clock) {
    this.system = system;
    this.entityTypes = List.copyOf(entityTypes);
    this.timeout = timeout;
    // Pekko keeps no wall-clock time of a member's Up: remember when each was first seen Up here.
    system.systemActorOf(upWatcher(upSince, clock), "keel-cluster-status", Props.empty());
  }

  private static Behavior<ClusterEvent.MemberEvent> upWatcher(
      Map<Address, Instant> upSince, Clock clock) {
    return Behaviors.setup(
        ctx -> {
          Cluster.get(ctx.getSystem())
              .subscriptions()
              .tell(Subscribe.create(ctx.getSelf(), ClusterEvent.MemberEvent.class));
          return Behaviors.receiveMessage(
              event -> {
                if (event instanceof ClusterEvent.MemberUp
                    || event instanceof ClusterEvent.MemberWeaklyUp) {
                  upSince.putIfAbsent(event.member().address(), clock.instant());
                } else if (event instanceof ClusterEvent.MemberRemoved) {
                  upSince.remove(event.member().address());
                }
                return Behaviors.same();
              });
        });
  }

  public CompletionStage<View> view() {
    Cluster cluster = Cluster.get(system);
    ClusterEvent.CurrentClusterState state = cluster.state();
    List<Member> sorted = new ArrayList<>();
    state.getMembers().forEach(sorted::add);
    sorted.sort(Comparator.comparing(m -> m.address().toString()));
    List<MemberView> members = new ArrayList<>();
    for (Member m : sorted) {
      members.add(
          new MemberView(
              m.address().toString(),
              statusName(m.status()),
              !state.getUnreachable().contains(m),
              m.getRoles().stream().sorted().toList(),
              upSince.get(m.address())));
    }
    Address leader = state.getLeader();
    String self = cluster.selfMember().address().toString();

    Map<String, CompletableFuture<ShardRegion.ClusterShardingStats>> asks = new LinkedHashMap<>();
    for (EntityTypeKey<?> type : entityTypes) asks.put(type.name(), stats(type));
    return CompletableFuture.allOf(asks.values().toArray(CompletableFuture[]::new))
        .thenApply(
            done -> {
              Map<String, Map<String, Integer>> entities = new TreeMap<>();
              Map<String, Map<String, Integer>> shardCounts = new TreeMap<>();
              Map<String, Map<String, List<String>>> shardIds = new TreeMap<>();
              List<String> unknown = new ArrayList<>();
              asks.forEach(
                  (type, ask) -> {
                    ShardRegion.ClusterShardingStats stats = ask.join();
                    // The coordinator answers an empty map when a region did not answer in time.
                    if (stats == null || stats.getRegions().isEmpty()) {
                      unknown.add(type);
                      return;
                    }
                    Map<String, Integer> perMemberEntities = new TreeMap<>();
                    Map<String, Integer> perMemberShards = new TreeMap<>();
                    Map<String, List<String>> perMemberShardIds = new TreeMap<>();
                    stats
                        .getRegions()
                        .forEach(
                            (address, region) -> {
                              int count = 0;
                              for (Object n : region.getStats().values())
                                count += ((Number) n).intValue();
                              perMemberEntities.put(address.toString(), count);
                              perMemberShards.put(address.toString(), region.getStats().size());
                              perMemberShardIds.put(
                                  address.toString(),
                                  region.getStats().keySet().stream().sorted(SHARD_ORDER).toList());
                            });
                    entities.put(type, perMemberEntities);
                    shardCounts.put(type, perMemberShards);
                    shardIds.put(type, perMemberShardIds);
                  });
              return new View(
                  self,
                  leader == null ? null : leader.toString(),
                  members,
                  entities,
                  shardCounts,
                  shardIds,
                  unknown);
            });
  }

  private CompletableFuture<ShardRegion.ClusterShardingStats> stats(EntityTypeKey<?> type) {
    return AskPattern.<ClusterShardingQuery, ShardRegion.ClusterShardingStats>ask(
            ClusterSharding.get(system).shardState(),
            replyTo -> new GetClusterShardingStats(type, timeout, replyTo),
            timeout.plusMillis(500),
            system.scheduler())
        .toCompletableFuture()
        .exceptionally(error -> null);
  }

  /** {@code Up} → {@code up}, {@code WeaklyUp} → {@code weaklyUp}: the API's camelCase. */
  public static String statusName(org.apache.pekko.cluster.MemberStatus status) {
    String name = status.toString();
    return Character.toLowerCase(name.charAt(0)) + name.substring(1);
  }
}
