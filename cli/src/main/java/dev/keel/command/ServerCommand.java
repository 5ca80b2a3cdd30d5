package dev.keel.command;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.keel.node.ConfigProblem;
import dev.keel.node.KeelNode;
import dev.keel.node.LogFormat;
import dev.keel.workflow.execution.NodeWorkflowRegistry;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code keel server}: starts a node and runs until SIGTERM. */
@Command(
    name = "server",
    mixinStandardHelpOptions = true,
    description =
        "Start a node. Each option is also a KEEL_* environment variable; the option wins.")
final class ServerCommand implements Callable<Integer> {
  @Option(
      names = "--host",
      description = "Interface for HTTP and cluster (KEEL_HOST, default 127.0.0.1)")
  String host;

  @Option(names = "--http-port", description = "HTTP port (KEEL_HTTP_PORT, default 8080)")
  Integer httpPort;

  @Option(
      names = "--cluster-port",
      description = "Cluster port, 0 = any free (KEEL_CLUSTER_PORT, default 25520)")
  Integer clusterPort;

  @Option(
      names = "--seed-nodes",
      description = "host:port,... of seed nodes (KEEL_SEED_NODES; empty = own cluster)")
  String seedNodes;

  @Option(
      names = "--data-dir",
      description = "Embedded database and admin token (KEEL_DATA_DIR, default ./data)")
  String dataDir;

  @Option(
      names = "--database-url",
      description = "PostgreSQL JDBC URL (KEEL_DATABASE_URL; empty = embedded H2)")
  String databaseUrl;

  @Option(names = "--database-user", description = "KEEL_DATABASE_USER")
  String databaseUser;

  @Option(names = "--database-password", description = "KEEL_DATABASE_PASSWORD")
  String databasePassword;

  @Option(
      names = "--database-max-connections",
      description = "KEEL_DATABASE_MAX_CONNECTIONS (default 10)")
  Integer databaseMaxConnections;

  @Option(
      names = "--admin-token",
      description = "KEEL_ADMIN_TOKEN (empty = generated into <data-dir>/admin-token)")
  String adminToken;

  @Option(
      names = "--plugins-dir",
      description = "Folder of workflow plug-in jars (KEEL_PLUGINS_DIR)")
  String pluginsDir;

  @Option(
      names = {"--workflows-max-concurrent", "--max-concurrent"},
      description = "Attempts running step bodies at once (KEEL_WORKFLOWS_MAX_CONCURRENT)")
  Integer maxConcurrent;

  @Option(
      names = "--shards",
      description =
          "Shards per entity type, about ten per node the cluster may grow to; the same on every"
              + " node and never changed for a running cluster (KEEL_SHARDS, default 100)")
  Integer shards;

  @Option(
      names = "--entity-recovery-batch",
      description =
          "Remembered entities restarted per shard each interval (KEEL_ENTITY_RECOVERY_BATCH,"
              + " default 20)")
  Integer entityRecoveryBatch;

  @Option(
      names = "--entity-recovery-interval",
      description = "KEEL_ENTITY_RECOVERY_INTERVAL (default 100ms)")
  String entityRecoveryInterval;

  @Option(
      names = "--downing-stable-after",
      description =
          "Unreachable nodes are downed after membership is stable this long"
              + " (KEEL_DOWNING_STABLE_AFTER, default 10s)")
  String downingStableAfter;

  @Option(
      names = "--cluster-lease-timeout",
      description =
          "A cluster whose nodes have not renewed its lease in PostgreSQL for this long counts as"
              + " gone; only then may a node form a new one (KEEL_CLUSTER_LEASE_TIMEOUT, default"
              + " 20s)")
  String clusterLeaseTimeout;

  @Option(
      names = "--discovery",
      description =
          "none (seed nodes) or kubernetes (cluster bootstrap) (KEEL_DISCOVERY, default none)")
  String discovery;

  @Option(
      names = "--management-port",
      description =
          "Pekko Management port, open with discovery only (KEEL_MANAGEMENT_PORT, default 8558)")
  Integer managementPort;

  @Option(
      names = "--discovery-pod-label-selector",
      description = "KEEL_DISCOVERY_POD_LABEL_SELECTOR (default app=keel)")
  String podLabelSelector;

  @Option(
      names = "--discovery-namespace",
      description = "KEEL_DISCOVERY_NAMESPACE (default: the pod's own)")
  String namespace;

  @Option(
      names = "--discovery-required-contact-points",
      description = "KEEL_DISCOVERY_REQUIRED_CONTACT_POINTS (default 2)")
  Integer requiredContactPoints;

  @Option(
      names = "--dns-server",
      description =
          "host:port of the DNS server that verifies custom hostnames (KEEL_DNS_SERVER; empty = the"
              + " system's)")
  String dnsServer;

  @Option(
      names = "--outbound-allow",
      description =
          "CIDRs and host names that tenants' outbound requests may reach anyway, "
              + "comma-separated (KEEL_OUTBOUND_ALLOW; empty = public addresses only)")
  String outboundAllow;

  @Option(
      names = "--metrics-port",
      description =
          "serve /metrics on this port, and not on the HTTP port (KEEL_METRICS_PORT; default 0 ="
              + " on the HTTP port)")
  Integer metricsPort;

  @Option(
      names = "--instance-id",
      description = "this node's label on every metric and log line (KEEL_INSTANCE_ID)")
  String instanceId;

  @Option(
      names = "--region",
      description = "this node's region label on every metric and log line (KEEL_REGION)")
  String region;

  @Option(
      names = "--log-format",
      description =
          "text (one line per event) or json (one JSON object per line) (KEEL_LOG_FORMAT, default"
              + " text)")
  String logFormat;

  @Override
  public Integer call() {
    // Before the first logger: logback picks its appender from this property when it starts.
    Optional<String> badLogFormat = LogFormat.select(logFormat, System.getenv("KEEL_LOG_FORMAT"));
    if (badLogFormat.isPresent()) {
      System.err.println("keel: KEEL_LOG_FORMAT: " + badLogFormat.get());
      return 2;
    }
    Map<String, Object> flags = new HashMap<>();
    put(flags, "keel.node.host", host);
    put(flags, "keel.http.port", httpPort);
    put(flags, "keel.cluster.port", clusterPort);
    put(flags, "keel.cluster.seed-nodes", seedNodes);
    put(flags, "keel.node.data-dir", dataDir);
    put(flags, "keel.database.url", databaseUrl);
    put(flags, "keel.database.user", databaseUser);
    put(flags, "keel.database.password", databasePassword);
    put(flags, "keel.database.max-connections", databaseMaxConnections);
    put(flags, "keel.node.admin-token", adminToken);
    put(flags, "keel.node.plugins-dir", pluginsDir);
    put(flags, "keel.workflows.max-concurrent", maxConcurrent);
    put(flags, "keel.cluster.shards", shards);
    put(flags, "keel.cluster.entity-recovery.batch", entityRecoveryBatch);
    put(flags, "keel.cluster.entity-recovery.interval", entityRecoveryInterval);
    put(flags, "keel.cluster.downing-stable-after", downingStableAfter);
    put(flags, "keel.cluster.lease.timeout", clusterLeaseTimeout);
    put(flags, "keel.cluster.discovery", discovery);
    put(flags, "keel.cluster.management-port", managementPort);
    put(flags, "keel.cluster.kubernetes.pod-label-selector", podLabelSelector);
    put(flags, "keel.cluster.kubernetes.namespace", namespace);
    put(flags, "keel.cluster.kubernetes.required-contact-points", requiredContactPoints);
    put(flags, "keel.tenants.dns-server", dnsServer);
    put(flags, "keel.workflows.outbound.allow", outboundAllow);
    put(flags, "keel.http.metrics-port", metricsPort);
    put(flags, "keel.node.instance-id", instanceId);
    put(flags, "keel.node.region", region);
    // A node started from the command line ends its JVM when its actor system ends.
    flags.put("pekko.coordinated-shutdown.exit-jvm", "on");
    Config overrides = ConfigFactory.parseMap(flags);
    try {
      KeelNode.start(overrides, new NodeWorkflowRegistry());
      return 0;
    } catch (ConfigProblem p) {
      System.err.println(p.line());
      return 2;
    } catch (com.typesafe.config.ConfigException e) {
      System.err.println("keel: configuration: " + e.getMessage());
      return 2;
    }
  }

  private static void put(Map<String, Object> flags, String path, Object value) {
    if (value != null) flags.put(path, value);
  }
}
