package dev.keel.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import dev.keel.persistence.DatabaseSettings;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * {@code keel.cluster.*} beyond the port and the seed nodes, read once; each problem names its
 * KEEL_* variable. Also the rule that several nodes need PostgreSQL: a node that would join others
 * (seed nodes or discovery) on the embedded H2 database does not start.
 */
public record ClusterSettings(
    int shards,
    int entityRecoveryBatch,
    Duration entityRecoveryInterval,
    Duration downingStableAfter,
    Discovery discovery,
    int managementPort,
    String podLabelSelector,
    Optional<String> namespace,
    int requiredContactPoints,
    Duration statusTimeout,
    ClusterLeaseKeeper.Settings lease) {

  /** How nodes find each other. */
  public enum Discovery {
    /** Seed nodes from configuration, or a cluster of one. */
    NONE,
    /** Pekko Management cluster bootstrap with Kubernetes API discovery. */
    KUBERNETES
  }

  /** Upper bound of {@code KEEL_SHARDS}: more shards than this only costs coordinator state. */
  static final int MAX_SHARDS = 10_000;

  static ClusterSettings fromConfig(
      Config k, List<String> seedNodes, DatabaseSettings.Kind database) {
    int shards = intIn(k, "cluster.shards", "KEEL_SHARDS", 1, MAX_SHARDS);
    int batch = intIn(k, "cluster.entity-recovery.batch", "KEEL_ENTITY_RECOVERY_BATCH", 1, 10_000);
    Duration interval =
        positiveDuration(k, "cluster.entity-recovery.interval", "KEEL_ENTITY_RECOVERY_INTERVAL");
    Duration stableAfter =
        positiveDuration(k, "cluster.downing-stable-after", "KEEL_DOWNING_STABLE_AFTER");
    if (stableAfter.compareTo(Duration.ofSeconds(2)) < 0) {
      // Below the failure detector's own pause, a node that merely paused would be downed.
      throw new ConfigProblem(
          "KEEL_DOWNING_STABLE_AFTER", "must be at least 2s, got " + stableAfter.toMillis() + "ms");
    }
    String discoveryName = k.getString("cluster.discovery").trim().toLowerCase(Locale.ROOT);
    Discovery discovery;
    if (discoveryName.isEmpty() || discoveryName.equals("none")) {
      discovery = Discovery.NONE;
    } else if (discoveryName.equals("kubernetes")) {
      discovery = Discovery.KUBERNETES;
    } else {
      throw new ConfigProblem(
          "KEEL_DISCOVERY", "'" + discoveryName + "' is not one of none, kubernetes");
    }
    int managementPort = intIn(k, "cluster.management-port", "KEEL_MANAGEMENT_PORT", 0, 65535);
    String selector = k.getString("cluster.kubernetes.pod-label-selector").trim();
    String namespace = k.getString("cluster.kubernetes.namespace").trim();
    int contactPoints =
        intIn(
            k,
            "cluster.kubernetes.required-contact-points",
            "KEEL_DISCOVERY_REQUIRED_CONTACT_POINTS",
            1,
            1000);

    if (discovery == Discovery.KUBERNETES) {
      if (!seedNodes.isEmpty()) {
        throw new ConfigProblem(
            "KEEL_DISCOVERY",
            "kubernetes discovery finds the other nodes itself; leave KEEL_SEED_NODES empty");
      }
      if (selector.isEmpty())
        throw new ConfigProblem(
            "KEEL_DISCOVERY_POD_LABEL_SELECTOR",
            "must not be empty with KEEL_DISCOVERY=kubernetes");
      if (database == DatabaseSettings.Kind.H2) {
        throw new ConfigProblem(
            "KEEL_DISCOVERY",
            "a cluster of several nodes needs PostgreSQL (set KEEL_DATABASE_URL); "
                + "the embedded H2 database serves one node only");
      }
    }
    if (!seedNodes.isEmpty() && database == DatabaseSettings.Kind.H2) {
      // Each node would write a journal of its own: two live copies of one entity, two histories.
      throw new ConfigProblem(
          "KEEL_SEED_NODES",
          "a cluster of several nodes needs PostgreSQL (set KEEL_DATABASE_URL); the embedded H2"
              + " database serves one node only, so leave KEEL_SEED_NODES empty for a single node");
    }
    Duration leaseTimeout =
        positiveDuration(k, "cluster.lease.timeout", "KEEL_CLUSTER_LEASE_TIMEOUT");
    Duration renewInterval =
        positiveDuration(k, "cluster.lease.renew-interval", "keel.cluster.lease.renew-interval");
    if (leaseTimeout.compareTo(renewInterval.multipliedBy(3)) < 0) {
      // A renewal late by one interval must not let a second cluster form.
      throw new ConfigProblem(
          "KEEL_CLUSTER_LEASE_TIMEOUT",
          "must be at least three renew intervals ("
              + renewInterval.multipliedBy(3).toMillis()
              + "ms), got "
              + leaseTimeout.toMillis()
              + "ms");
    }
    ClusterLeaseKeeper.Settings lease =
        new ClusterLeaseKeeper.Settings(
            leaseTimeout,
            renewInterval,
            positiveDuration(
                k, "cluster.lease.learn-epoch-timeout", "keel.cluster.lease.learn-epoch-timeout"));
    return new ClusterSettings(
        shards,
        batch,
        interval,
        stableAfter,
        discovery,
        managementPort,
        selector,
        namespace.isEmpty() ? Optional.empty() : Optional.of(namespace),
        contactPoints,
        positiveDuration(k, "cluster.status-timeout", "keel.cluster.status-timeout"),
        lease);
  }

  private static int intIn(Config k, String path, String variable, int min, int max) {
    int value;
    try {
      value = k.getInt(path);
    } catch (ConfigException e) {
      throw new ConfigProblem(
          variable, "'" + k.getValue(path).unwrapped() + "' is not a whole number");
    }
    if (value < min || value > max)
      throw new ConfigProblem(
          variable, "must be between " + min + " and " + max + ", got " + value);
    return value;
  }

  private static Duration positiveDuration(Config k, String path, String variable) {
    Duration value;
    try {
      value = k.getDuration(path);
    } catch (ConfigException e) {
      throw new ConfigProblem(
          variable,
          "'" + k.getValue(path).unwrapped() + "' is not a duration such as 100ms or 10s");
    }
    if (value.isNegative() || value.isZero())
      throw new ConfigProblem(variable, "must be longer than zero");
    return value;
  }
}
