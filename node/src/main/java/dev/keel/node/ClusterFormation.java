package dev.keel.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.cluster.typed.JoinSeedNodes;
import org.apache.pekko.management.cluster.bootstrap.ClusterBootstrap;
import org.apache.pekko.management.javadsl.PekkoManagement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a node becomes part of a cluster: the Pekko settings that follow from {@link
 * ClusterSettings}, and the join itself — seed nodes, a cluster of its own, or Pekko Management
 * cluster bootstrap with Kubernetes API discovery.
 */
final class ClusterFormation {

  private static final Logger log = LoggerFactory.getLogger(ClusterFormation.class);

  /** Bootstrap's service name: only used to fill a {@code %s} in the pod label selector. */
  static final String SERVICE_NAME = "keel";

  /** The container port name the bootstrap contacts (deploy/kubernetes names it so). */
  static final String MANAGEMENT_PORT_NAME = "management";

  private ClusterFormation() {}

  /**
   * Pekko configuration laid over the node's: shards, entity recovery rate, downing, management.
   */
  static Config overlay(NodeSettings node) {
    ClusterSettings c = node.cluster();
    Map<String, Object> values = new HashMap<>();
    values.put("pekko.cluster.sharding.number-of-shards", c.shards());
    values.put(
        "pekko.cluster.sharding.entity-recovery-constant-rate-strategy.number-of-entities",
        c.entityRecoveryBatch());
    values.put(
        "pekko.cluster.sharding.entity-recovery-constant-rate-strategy.frequency",
        c.entityRecoveryInterval().toMillis() + "ms");
    values.put(
        "pekko.cluster.split-brain-resolver.stable-after",
        c.downingStableAfter().toMillis() + "ms");
    if (c.discovery() == ClusterSettings.Discovery.KUBERNETES) {
      values.put("pekko.management.http.hostname", node.host());
      values.put("pekko.management.http.port", c.managementPort());
      String bootstrap = "pekko.management.cluster.bootstrap.contact-point-discovery.";
      values.put(bootstrap + "discovery-method", "kubernetes-api");
      values.put(bootstrap + "service-name", SERVICE_NAME);
      values.put(bootstrap + "port-name", MANAGEMENT_PORT_NAME);
      values.put(bootstrap + "required-contact-point-nr", c.requiredContactPoints());
      values.put("pekko.discovery.kubernetes-api.pod-label-selector", c.podLabelSelector());
      c.namespace().ifPresent(ns -> values.put("pekko.discovery.kubernetes-api.pod-namespace", ns));
    }
    return ConfigFactory.parseMap(values);
  }

  /**
   * Kubernetes discovery only works inside a pod with a mounted service account: outside one, say
   * so in one line before anything starts, rather than with the discovery's stack trace.
   */
  static void checkEnvironment(Config config, NodeSettings node) {
    if (node.cluster().discovery() != ClusterSettings.Discovery.KUBERNETES) return;
    String k8s = "pekko.discovery.kubernetes-api.";
    String hostVariable = config.getString(k8s + "api-service-host-env-name");
    if (System.getenv(hostVariable) == null) {
      throw new ConfigProblem(
          "KEEL_DISCOVERY",
          "kubernetes discovery runs inside a Kubernetes pod, but " + hostVariable + " is not set");
    }
    for (String file :
        List.of(config.getString(k8s + "api-ca-path"), config.getString(k8s + "api-token-path"))) {
      if (!java.nio.file.Files.isReadable(java.nio.file.Path.of(file))) {
        throw new ConfigProblem(
            "KEEL_DISCOVERY",
            "kubernetes discovery needs the pod's service account, but "
                + file
                + " cannot be read (automountServiceAccountToken off?)");
      }
    }
  }

  /**
   * Starts joining; membership is reached later (see {@code /ready}). With {@code lease}
   * (PostgreSQL and seed nodes, or a single node), no node forms a cluster through Pekko: the first
   * seed node joins the others and asks the lease whether it may form one ({@link
   * ClusterLeaseKeeper}).
   */
  static void join(
      ActorSystem<?> system, NodeSettings node, java.util.Optional<ClusterLeaseKeeper> lease) {
    Cluster cluster = Cluster.get(system);
    ClusterSettings c = node.cluster();
    if (c.discovery() == ClusterSettings.Discovery.KUBERNETES) {
      org.apache.pekko.actor.ActorSystem classic = Adapter.toClassic(system);
      try {
        PekkoManagement.get(classic).start().toCompletableFuture().get(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        throw new ConfigProblem(
            "KEEL_MANAGEMENT_PORT",
            "cannot listen on "
                + node.host()
                + ":"
                + c.managementPort()
                + ": "
                + KeelNode.rootMessage(e));
      }
      try {
        ClusterBootstrap.get(classic).start();
      } catch (RuntimeException e) {
        throw new ConfigProblem(
            "KEEL_DISCOVERY", "cluster bootstrap did not start: " + KeelNode.rootMessage(e));
      }
      log.info(
          "cluster formation discovery=kubernetes management=http://{}:{} podLabelSelector={}"
              + " namespace={} requiredContactPoints={}",
          node.host(),
          c.managementPort(),
          c.podLabelSelector(),
          c.namespace().orElse("(own)"),
          c.requiredContactPoints());
    } else if (lease.isPresent()) {
      Address self = cluster.selfMember().address();
      List<Address> seeds = seedAddresses(system, node);
      List<Address> others = seeds.stream().filter(a -> !a.equals(self)).toList();
      if (!others.isEmpty()) cluster.manager().tell(new JoinSeedNodes(others));
      boolean first = seeds.isEmpty() || seeds.get(0).equals(self);
      // The first seed gives a running cluster the seed-node timeout to answer before it asks the
      // lease.
      if (first)
        lease.get().formWhenFree(others.isEmpty() ? Duration.ZERO : seedNodeTimeout(system));
      log.info(
          "cluster formation discovery=none seedNodes={} formsWhenLeaseFree={}",
          node.seedNodes().isEmpty() ? "none" : node.seedNodes(),
          first);
    } else if (node.seedNodes().isEmpty()) {
      cluster.manager().tell(Join.create(cluster.selfMember().address()));
      log.info("cluster formation discovery=none seedNodes=none (a cluster of one)");
    } else {
      cluster.manager().tell(new JoinSeedNodes(seedAddresses(system, node)));
      log.info("cluster formation discovery=none seedNodes={}", node.seedNodes());
    }
    log.info(
        "cluster sharding shards={} entityRecovery={}/{}ms downingStableAfter={}ms",
        c.shards(),
        c.entityRecoveryBatch(),
        c.entityRecoveryInterval().toMillis(),
        c.downingStableAfter().toMillis());
  }

  private static List<Address> seedAddresses(ActorSystem<?> system, NodeSettings node) {
    return node.seedNodes().stream()
        .map(
            s -> {
              int colon = s.lastIndexOf(':');
              return new Address(
                  "pekko",
                  system.name(),
                  s.substring(0, colon),
                  Integer.parseInt(s.substring(colon + 1)));
            })
        .toList();
  }

  private static Duration seedNodeTimeout(ActorSystem<?> system) {
    return system.settings().config().getDuration("pekko.cluster.seed-node-timeout");
  }
}
