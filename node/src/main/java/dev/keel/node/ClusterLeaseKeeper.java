package dev.keel.node;

import com.zaxxer.hikari.HikariDataSource;
import dev.keel.persistence.ClusterFence;
import dev.keel.persistence.ClusterLease;
import dev.keel.persistence.DatabaseSettings;
import dev.keel.persistence.KeelDataSource;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.UniqueAddress;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps this node's cluster the only one writing the journal (PostgreSQL): it forms a new cluster
 * only when the lease says no other lives, learns the epoch of a cluster it joined, renews the
 * lease while a member, and leaves the cluster when another one took the journal over.
 *
 * <p>Why a lease and not only seed nodes: Pekko's first seed node forms a cluster of its own when
 * no other seed node answers within the seed-node timeout (5 s), which a stalled or starved
 * survivor does not. Here the first seed node never forms a cluster through Pekko (it joins the
 * other seed nodes); it asks the lease instead, and forms one only when no cluster renewed it for
 * {@code keel.cluster.lease.timeout}, or when every node the lease names is certainly gone (see
 * {@link #gone}: a single node or a whole cluster restarted after a crash). The fence ({@link
 * ClusterFence}) covers what the lease cannot: a cluster that was stalled for longer than the
 * timeout and wakes up beside the new one has its writes refused, and leaves at its next renewal.
 */
final class ClusterLeaseKeeper {

  private static final Logger log = LoggerFactory.getLogger(ClusterLeaseKeeper.class);

  /** Settings of the lease, from {@code keel.cluster.lease}. */
  record Settings(Duration timeout, Duration renewInterval, Duration learnEpochTimeout) {}

  /**
   * Why a node stops when its cluster no longer owns the journal. cluster.conf gives it exit code
   * 75 (EX_TEMPFAIL: start it again), so that a supervisor (systemd's Restart=on-failure,
   * Kubernetes) restarts it, and it joins the cluster that owns the journal.
   */
  static final class Fenced implements CoordinatedShutdown.Reason {
    static final Fenced INSTANCE = new Fenced();

    private Fenced() {}

    @Override
    public String toString() {
      return "cluster fenced: another cluster owns the journal";
    }
  }

  private static final Duration PROBE_TIMEOUT = Duration.ofMillis(500);

  private final ActorSystem<?> system;
  private final Cluster cluster;
  private final ClusterLease lease;
  private final ClusterFence fence;
  private final Settings settings;
  private final Clock clock;
  private final String self;
  private volatile boolean mayForm;
  private volatile Instant formNotBefore = Instant.MAX;
  private Instant memberSince;
  private Instant lastWaitingLog = Instant.EPOCH;
  private Instant lastErrorLog = Instant.EPOCH;

  /**
   * The keeper's own connections and thread. Why not the node's read-model pool and blocking
   * dispatcher: when a stalled node wakes up, everything it queued meanwhile (projections, reads,
   * wake-ups) floods those at once, and a renewal queued behind them came too late. In CI a woken
   * survivor's keeper had not run 11 s after the wake-up, and the split-brain resolver downed the
   * node before the keeper could tell it that its cluster had lost the journal.
   */
  record OwnPool(HikariDataSource connections, Duration statementTimeout) {}

  /** Statements time out after a renew interval: a late answer is as good as none. */
  static OwnPool ownPool(DatabaseSettings database, Duration renewInterval) {
    return new OwnPool(KeelDataSource.create(database, "keel-cluster-lease", 2), renewInterval);
  }

  private final HikariDataSource connections;
  private final ScheduledExecutorService thread =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "keel-cluster-lease");
            t.setDaemon(true);
            return t;
          });

  ClusterLeaseKeeper(
      ActorSystem<?> system, OwnPool pool, ClusterFence fence, Settings settings, Clock clock) {
    this(
        system,
        new ClusterLease(pool.connections(), pool.statementTimeout()),
        pool.connections(),
        fence,
        settings,
        clock);
  }

  ClusterLeaseKeeper(
      ActorSystem<?> system,
      ClusterLease lease,
      HikariDataSource connections,
      ClusterFence fence,
      Settings settings,
      Clock clock) {
    this.system = system;
    this.cluster = Cluster.get(system);
    this.lease = lease;
    this.connections = connections;
    this.fence = fence;
    this.settings = settings;
    this.clock = clock;
    this.self = id(cluster.selfMember().uniqueAddress());
  }

  /** Renews (and forms, adopts) every renew interval from now on, on a thread of its own. */
  ClusterLeaseKeeper start() {
    long every = settings.renewInterval().toMillis();
    thread.scheduleWithFixedDelay(this::tick, 0, every, TimeUnit.MILLISECONDS);
    CoordinatedShutdown shutdown = CoordinatedShutdown.get(Adapter.toClassic(system));
    shutdown.addTask(
        CoordinatedShutdown.PhaseClusterExitingDone(),
        "release-cluster-lease",
        () ->
            CompletableFuture.supplyAsync(
                () -> {
                  releaseIfLast();
                  return Done.getInstance();
                },
                thread));
    shutdown.addTask(
        CoordinatedShutdown.PhaseActorSystemTerminate(),
        "close-cluster-lease",
        () -> {
          thread.shutdownNow();
          if (connections != null) connections.close();
          return CompletableFuture.completedFuture(Done.getInstance());
        });
    return this;
  }

  /**
   * This node is the first seed node (or has none): it may form the cluster, after {@code delay}.
   */
  void formWhenFree(Duration delay) {
    formNotBefore = clock.instant().plus(delay);
    mayForm = true;
  }

  private synchronized void tick() {
    if (fence.lost()) return;
    try {
      Member me = cluster.selfMember();
      if (me.status() == MemberStatus.removed()) {
        if (mayForm && !clock.instant().isBefore(formNotBefore)) tryToForm();
        return;
      }
      if (me.status() == MemberStatus.down() || me.status() == MemberStatus.exiting()) return;
      if (fence.epoch().isEmpty()) {
        learnEpoch();
      } else if (!lease.renew(fence.epoch().get(), members(), self)) {
        ClusterLease.Lease now = lease.read();
        fenced(
            "cluster epoch "
                + fence.epoch().get()
                + " no longer owns the journal: epoch "
                + now.epoch()
                + " formed by "
                + now.formedBy()
                + " holds the lease");
      }
    } catch (SQLException | RuntimeException e) {
      // The database may be restarting; writes are refused or retried meanwhile, the lease waits.
      if (clock.instant().isAfter(lastErrorLog.plusSeconds(30))) {
        lastErrorLog = clock.instant();
        log.warn("cluster lease not renewed: {}", e.getMessage());
      }
    }
  }

  private void tryToForm() throws SQLException {
    // Probed outside the transaction, which holds the fence and so every journal write.
    ClusterLease.Lease seen = lease.read();
    boolean allGone = !seen.members().isEmpty() && seen.members().stream().allMatch(this::gone);
    OptionalLong epoch =
        lease.form(
            self,
            l ->
                !l.freshWithin(settings.timeout())
                    || (allGone && l.members().equals(seen.members())));
    if (epoch.isPresent()) {
      mayForm = false;
      fence.hold(epoch.getAsLong());
      log.info(
          "cluster forming epoch={} self={} (no other cluster holds the journal's lease)",
          epoch.getAsLong(),
          self);
      if (cluster.selfMember().status() == MemberStatus.removed()) {
        cluster.manager().tell(Join.create(cluster.selfMember().address()));
      }
      return;
    }
    if (clock.instant().isAfter(lastWaitingLog.plusSeconds(10))) {
      lastWaitingLog = clock.instant();
      log.info(
          "cluster not forming: epoch={} members={} renewed the lease {} ms ago; joining them once"
              + " they answer",
          seen.epoch(),
          seen.members(),
          seen.renewedAgo().map(Duration::toMillis).orElse(-1L));
    }
  }

  /**
   * A lease member that certainly runs no more: an earlier run of this node (it holds the same host
   * and port now), or one whose cluster port refuses connections. A stalled process still accepts
   * them (the kernel answers for it), so a stall never counts as gone; a timeout does not either.
   */
  private boolean gone(String member) {
    String hostPort = hostPort(member);
    if (hostPort.equals(hostPort(cluster.selfMember().address()))) return true;
    int colon = hostPort.lastIndexOf(':');
    try (java.net.Socket probe = new java.net.Socket()) {
      probe.connect(
          new java.net.InetSocketAddress(
              hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1))),
          (int) PROBE_TIMEOUT.toMillis());
      return false;
    } catch (java.net.ConnectException refused) {
      return true;
    } catch (java.io.IOException | RuntimeException e) {
      return false;
    }
  }

  /** A node that joined reads its cluster's epoch from the lease, recognising a member it knows. */
  private void learnEpoch() throws SQLException {
    if (memberSince == null) memberSince = clock.instant();
    Set<String> known =
        StreamSupport.stream(cluster.state().getMembers().spliterator(), false)
            .map(m -> id(m.uniqueAddress()))
            .collect(Collectors.toSet());
    ClusterLease.Lease held = lease.read();
    if (held.members().stream().anyMatch(known::contains)) {
      fence.hold(held.epoch());
      log.info(
          "cluster epoch={} learnt from the lease (formed by {})", held.epoch(), held.formedBy());
      return;
    }
    if (held.epoch() == 0 || (!held.freshWithin(settings.timeout()) && oldest())) {
      // A cluster formed before the lease existed (an upgrade), or formed by cluster bootstrap: its
      // oldest member takes the lease over once no other cluster renews it.
      OptionalLong taken =
          lease.form(self, l -> l.epoch() == 0 || !l.freshWithin(settings.timeout()));
      if (taken.isPresent()) {
        fence.hold(taken.getAsLong());
        log.info(
            "cluster epoch={} taken over by this member (the lease was {})",
            taken.getAsLong(),
            held.epoch() == 0 ? "never held" : "stale");
      }
      return;
    }
    if (clock.instant().isAfter(memberSince.plus(settings.learnEpochTimeout()))) {
      fenced(
          "this node's cluster is not the one holding the journal's lease (epoch "
              + held.epoch()
              + ", members "
              + held.members()
              + ")");
    }
  }

  private void fenced(String why) {
    fence.lose(why);
    log.error(
        "cluster fenced: {}; this node's writes are refused and it stops (exit code 75)", why);
    CoordinatedShutdown.get(Adapter.toClassic(system)).runAll(Fenced.INSTANCE);
  }

  /**
   * On a deliberate stop (SIGTERM, {@code stop()}) of the last member, the next start need not wait
   * for the lease to go stale. Never when this node was downed: a downed node's view of the others
   * is the one that cannot be trusted.
   */
  private void releaseIfLast() {
    if (fence.lost() || fence.epoch().isEmpty()) return;
    Object reason =
        CoordinatedShutdown.get(Adapter.toClassic(system)).getShutdownReason().orElse(null);
    boolean deliberate =
        reason == CoordinatedShutdown.jvmExitReason()
            || reason == CoordinatedShutdown.unknownReason()
            || reason == CoordinatedShutdown.clusterLeavingReason();
    if (!deliberate) return;
    boolean othersUp =
        StreamSupport.stream(cluster.state().getMembers().spliterator(), false)
            .anyMatch(
                m ->
                    !m.uniqueAddress().equals(cluster.selfMember().uniqueAddress())
                        && (m.status() == MemberStatus.up()
                            || m.status() == MemberStatus.weaklyUp()));
    if (othersUp) return;
    try {
      lease.release(fence.epoch().get());
      log.info("cluster lease released epoch={} (last member leaving)", fence.epoch().get());
    } catch (SQLException e) {
      log.warn("cluster lease not released: {}", e.getMessage());
    }
  }

  private boolean oldest() {
    Member me = cluster.selfMember();
    return StreamSupport.stream(cluster.state().getMembers().spliterator(), false)
        .filter(m -> m.status() == MemberStatus.up() || m.status() == MemberStatus.leaving())
        .noneMatch(m -> m.isOlderThan(me));
  }

  private List<String> members() {
    return StreamSupport.stream(cluster.state().getMembers().spliterator(), false)
        .map(m -> id(m.uniqueAddress()))
        .sorted()
        .toList();
  }

  static String id(UniqueAddress address) {
    return address.address().toString() + "#" + address.longUid();
  }

  /** {@code host:port} of an address or of an {@link #id}. */
  static String hostPort(Object address) {
    String s = address.toString();
    int at = s.indexOf('@');
    int hash = s.indexOf('#');
    return s.substring(at + 1, hash < 0 ? s.length() : hash);
  }
}
