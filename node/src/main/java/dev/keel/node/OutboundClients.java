package dev.keel.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import dev.keel.workflow.outbound.GuardedOutboundHttp;
import dev.keel.workflow.outbound.HostResolver;
import dev.keel.workflow.outbound.JdkOutboundHttp;
import dev.keel.workflow.outbound.OutboundRule;
import dev.keel.workflow.outbound.OutboundSettings;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The node's outbound HTTP clients, one per purpose, all under one {@link OutboundRule}: the
 * admin's and the operator's requests go out as before, a tenant's only where the rule allows, and
 * never to this node's own ports, which are known for certain only once bound.
 */
final class OutboundClients implements AutoCloseable {

  private final OutboundRule rule;
  private final OutboundSettings settings;
  private final AtomicReference<Set<Integer>> ownPorts;
  private final List<GuardedOutboundHttp> clients = new ArrayList<>();

  private OutboundClients(
      OutboundRule rule, OutboundSettings settings, AtomicReference<Set<Integer>> ownPorts) {
    this.rule = rule;
    this.settings = settings;
    this.ownPorts = ownPorts;
  }

  /**
   * From {@code keel.workflows.outbound}; a bad allow list stops the start naming {@value
   * OutboundRule#SETTING}.
   */
  static OutboundClients fromConfig(Config config, NodeSettings node) {
    OutboundSettings settings;
    try {
      settings = OutboundSettings.fromConfig(config.getConfig("keel.workflows.outbound"));
    } catch (ConfigException e) {
      throw new ConfigProblem(
          OutboundRule.SETTING, "must be a comma-separated list of CIDRs and host names");
    }
    int management =
        node.cluster().discovery() == ClusterSettings.Discovery.NONE
            ? 0
            : node.cluster().managementPort();
    AtomicReference<Set<Integer>> ownPorts =
        new AtomicReference<>(ports(node.httpPort(), node.clusterPort(), management));
    try {
      return new OutboundClients(
          OutboundRule.parse(settings.allow(), ownPorts::get), settings, ownPorts);
    } catch (IllegalArgumentException e) {
      throw new ConfigProblem(OutboundRule.SETTING, e.getMessage());
    }
  }

  /** A client that gives up connecting after {@code connectTimeout}. */
  GuardedOutboundHttp create(Duration connectTimeout) {
    GuardedOutboundHttp client =
        new GuardedOutboundHttp(
            new JdkOutboundHttp(connectTimeout),
            rule,
            HostResolver.SYSTEM,
            connectTimeout,
            settings.connectionLifetime());
    clients.add(client);
    return client;
  }

  /** The ports the node listens on, once bound (a configured 0 becomes the port picked). */
  void bound(int httpPort, int clusterPort) {
    ownPorts.updateAndGet(
        configured ->
            Stream.concat(configured.stream(), ports(httpPort, clusterPort, 0).stream())
                .collect(Collectors.toUnmodifiableSet()));
  }

  private static Set<Integer> ports(int... ports) {
    return java.util.Arrays.stream(ports)
        .filter(p -> p > 0)
        .boxed()
        .collect(Collectors.toUnmodifiableSet());
  }

  @Override
  public void close() {
    for (GuardedOutboundHttp client : clients) {
      try {
        client.close();
      } catch (IOException e) {
        // Closing idle connections at shutdown: nothing is waiting for them.
      }
    }
  }
}
