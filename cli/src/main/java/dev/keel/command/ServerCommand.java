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
      names = "--database-replica-url",
      description =
          "PostgreSQL read replica for lists, history and audit (KEEL_DATABASE_REPLICA_URL)")
  String databaseReplicaUrl;

  @Option(
      names = "--database-replica-user",
      description = "KEEL_DATABASE_REPLICA_USER (default: the primary's)")
  String databaseReplicaUser;

  @Option(names = "--database-replica-password", description = "KEEL_DATABASE_REPLICA_PASSWORD")
  String databaseReplicaPassword;

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
      names = "--workflows-default-retry-attempts",
      description =
          "Attempts of a step that names no retry policy; 1 = not retried"
              + " (KEEL_WORKFLOWS_DEFAULT_RETRY_ATTEMPTS)")
  Integer defaultRetryAttempts;

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
      names = "--otel",
      arity = "0..1",
      description =
          "export traces over OTLP (KEEL_OTEL; the SDK reads OTEL_EXPORTER_OTLP_ENDPOINT,"
              + " OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES; default off)")
  Boolean otel;

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

  @Option(
      names = "--tls-cert",
      paramLabel = "PEM",
      description = "Serve HTTPS with this certificate (chain) (KEEL_TLS_CERT; with --tls-key)")
  String tlsCert;

  @Option(
      names = "--tls-key",
      paramLabel = "PEM",
      description = "The certificate's PKCS#8 private key (KEEL_TLS_KEY)")
  String tlsKey;

  @Option(
      names = "--tls-client-ca",
      paramLabel = "PEM",
      description =
          "Require client certificates signed by this CA: mutual TLS (KEEL_TLS_CLIENT_CA)")
  String tlsClientCa;

  @Override
  public Integer call() {
    // Before the first logger: logback picks its appender from this property when it starts.
    Optional<String> badLogFormat = LogFormat.select(logFormat, System.getenv("KEEL_LOG_FORMAT"));
    if (badLogFormat.isPresent()) {
      System.err.println("keel: KEEL_LOG_FORMAT: " + badLogFormat.get());
      return 2;
    }
    Map<String, Object> flags = new HashMap<>();
    flagOf.clear();
    put(flags, "keel.node.host", host, "KEEL_HOST", "--host");
    put(flags, "keel.http.port", httpPort, "KEEL_HTTP_PORT", "--http-port");
    put(flags, "keel.cluster.port", clusterPort, "KEEL_CLUSTER_PORT", "--cluster-port");
    put(flags, "keel.cluster.seed-nodes", seedNodes, "KEEL_SEED_NODES", "--seed-nodes");
    put(flags, "keel.node.data-dir", dataDir, "KEEL_DATA_DIR", "--data-dir");
    put(flags, "keel.database.url", databaseUrl, "KEEL_DATABASE_URL", "--database-url");
    put(flags, "keel.database.user", databaseUser, "KEEL_DATABASE_USER", "--database-user");
    put(
        flags,
        "keel.database.password",
        databasePassword,
        "KEEL_DATABASE_PASSWORD",
        "--database-password");
    put(
        flags,
        "keel.database.replica.url",
        databaseReplicaUrl,
        "KEEL_DATABASE_REPLICA_URL",
        "--database-replica-url");
    put(
        flags,
        "keel.database.replica.user",
        databaseReplicaUser,
        "KEEL_DATABASE_REPLICA_USER",
        "--database-replica-user");
    put(
        flags,
        "keel.database.replica.password",
        databaseReplicaPassword,
        "KEEL_DATABASE_REPLICA_PASSWORD",
        "--database-replica-password");
    put(
        flags,
        "keel.database.max-connections",
        databaseMaxConnections,
        "KEEL_DATABASE_MAX_CONNECTIONS",
        "--database-max-connections");
    put(flags, "keel.node.admin-token", adminToken, "KEEL_ADMIN_TOKEN", "--admin-token");
    put(flags, "keel.node.plugins-dir", pluginsDir, "KEEL_PLUGINS_DIR", "--plugins-dir");
    put(
        flags,
        "keel.workflows.max-concurrent",
        maxConcurrent,
        "KEEL_WORKFLOWS_MAX_CONCURRENT",
        "--max-concurrent");
    put(
        flags,
        "keel.workflows.default-retry.max-attempts",
        defaultRetryAttempts,
        "KEEL_WORKFLOWS_DEFAULT_RETRY_ATTEMPTS",
        "--workflows-default-retry-attempts");
    put(flags, "keel.cluster.shards", shards, "KEEL_SHARDS", "--shards");
    put(
        flags,
        "keel.cluster.entity-recovery.batch",
        entityRecoveryBatch,
        "KEEL_ENTITY_RECOVERY_BATCH",
        "--entity-recovery-batch");
    put(
        flags,
        "keel.cluster.entity-recovery.interval",
        entityRecoveryInterval,
        "KEEL_ENTITY_RECOVERY_INTERVAL",
        "--entity-recovery-interval");
    put(
        flags,
        "keel.cluster.downing-stable-after",
        downingStableAfter,
        "KEEL_DOWNING_STABLE_AFTER",
        "--downing-stable-after");
    put(
        flags,
        "keel.cluster.lease.timeout",
        clusterLeaseTimeout,
        "KEEL_CLUSTER_LEASE_TIMEOUT",
        "--cluster-lease-timeout");
    put(flags, "keel.cluster.discovery", discovery, "KEEL_DISCOVERY", "--discovery");
    put(
        flags,
        "keel.cluster.management-port",
        managementPort,
        "KEEL_MANAGEMENT_PORT",
        "--management-port");
    put(
        flags,
        "keel.cluster.kubernetes.pod-label-selector",
        podLabelSelector,
        "KEEL_DISCOVERY_POD_LABEL_SELECTOR",
        "--discovery-pod-label-selector");
    put(
        flags,
        "keel.cluster.kubernetes.namespace",
        namespace,
        "KEEL_DISCOVERY_NAMESPACE",
        "--discovery-namespace");
    put(
        flags,
        "keel.cluster.kubernetes.required-contact-points",
        requiredContactPoints,
        "KEEL_DISCOVERY_REQUIRED_CONTACT_POINTS",
        "--discovery-required-contact-points");
    put(flags, "keel.tenants.dns-server", dnsServer, "KEEL_DNS_SERVER", "--dns-server");
    put(
        flags,
        "keel.workflows.outbound.allow",
        outboundAllow,
        "KEEL_OUTBOUND_ALLOW",
        "--outbound-allow");
    put(flags, "keel.http.tls.cert", tlsCert, "KEEL_TLS_CERT", "--tls-cert");
    put(flags, "keel.http.tls.key", tlsKey, "KEEL_TLS_KEY", "--tls-key");
    put(flags, "keel.http.tls.client-ca", tlsClientCa, "KEEL_TLS_CLIENT_CA", "--tls-client-ca");
    put(flags, "keel.http.metrics-port", metricsPort, "KEEL_METRICS_PORT", "--metrics-port");
    put(flags, "keel.node.instance-id", instanceId, "KEEL_INSTANCE_ID", "--instance-id");
    put(flags, "keel.tracing.enabled", otel, "KEEL_OTEL", "--otel");
    put(flags, "keel.node.region", region, "KEEL_REGION", "--region");
    // A node started from the command line ends its JVM when its actor system ends.
    flags.put("pekko.coordinated-shutdown.exit-jvm", "on");
    Config overrides = ConfigFactory.parseMap(flags);
    try {
      KeelNode.start(overrides, new NodeWorkflowRegistry());
      return 0;
    } catch (ConfigProblem p) {
      // The setting as the user gave it: a flag's value is named by the flag, not its variable.
      System.err.println(p.line(flagOf.getOrDefault(p.setting(), p.setting())));
      return 2;
    } catch (com.typesafe.config.ConfigException e) {
      System.err.println("keel: configuration: " + e.getMessage());
      return 2;
    }
  }

  /** KEEL_* variable -> the flag that set its value on this command line. */
  private final Map<String, String> flagOf = new HashMap<>();

  private void put(
      Map<String, Object> flags, String path, Object value, String variable, String flag) {
    if (value == null) return;
    flags.put(path, value);
    flagOf.put(variable, flag);
  }
}
