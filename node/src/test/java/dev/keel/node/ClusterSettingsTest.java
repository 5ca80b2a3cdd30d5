package dev.keel.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The cluster settings as an operator sets them (flags and KEEL_* variables end up as these {@code
 * keel.*} paths): defaults, the one-line refusals, and the Pekko settings they become.
 */
class ClusterSettingsTest {

  private static final String POSTGRES = "jdbc:postgresql://127.0.0.1:5432/keel";

  @Test
  void defaultsAreASingleNodeWithoutDiscovery() {
    ClusterSettings c = settings(Map.of()).cluster();
    assertThat(c.shards()).isEqualTo(100);
    assertThat(c.discovery()).isEqualTo(ClusterSettings.Discovery.NONE);
    assertThat(c.managementPort()).isEqualTo(8558);
    assertThat(c.entityRecoveryBatch()).isEqualTo(20);
    assertThat(c.entityRecoveryInterval()).isEqualTo(Duration.ofMillis(100));
    assertThat(c.downingStableAfter()).isEqualTo(Duration.ofSeconds(10));
    assertThat(c.podLabelSelector()).isEqualTo("app=keel");
    assertThat(c.namespace()).isEmpty();
    assertThat(c.requiredContactPoints()).isEqualTo(2);
  }

  @Test
  void seedNodesOnTheEmbeddedDatabaseAreRefused_namingSeedNodes() {
    assertThatThrownBy(() -> settings(Map.of("keel.cluster.seed-nodes", "127.0.0.1:25520")))
        .isInstanceOfSatisfying(
            ConfigProblem.class,
            p -> {
              assertThat(p.setting()).isEqualTo("KEEL_SEED_NODES");
              assertThat(p.line())
                  .startsWith("keel: KEEL_SEED_NODES: ")
                  .contains("PostgreSQL", "KEEL_DATABASE_URL");
            });
  }

  @Test
  void seedNodesOnPostgresAreAccepted() {
    NodeSettings s =
        settings(
            Map.of(
                "keel.cluster.seed-nodes",
                "10.0.0.1:25520, 10.0.0.2:25520",
                "keel.database.url",
                POSTGRES));
    assertThat(s.seedNodes()).containsExactly("10.0.0.1:25520", "10.0.0.2:25520");
  }

  @Test
  void kubernetesDiscoveryNeedsPostgresAndNoSeedNodes() {
    assertThatThrownBy(() -> settings(Map.of("keel.cluster.discovery", "kubernetes")))
        .isInstanceOfSatisfying(
            ConfigProblem.class, p -> assertThat(p.setting()).isEqualTo("KEEL_DISCOVERY"));
    assertThatThrownBy(
            () ->
                settings(
                    Map.of(
                        "keel.cluster.discovery",
                        "kubernetes",
                        "keel.database.url",
                        POSTGRES,
                        "keel.cluster.seed-nodes",
                        "10.0.0.1:25520")))
        .isInstanceOfSatisfying(
            ConfigProblem.class, p -> assertThat(p.getMessage()).contains("KEEL_SEED_NODES"));
    ClusterSettings c =
        settings(
                Map.of(
                    "keel.cluster.discovery",
                    "Kubernetes",
                    "keel.database.url",
                    POSTGRES,
                    "keel.cluster.kubernetes.namespace",
                    "keel-prod"))
            .cluster();
    assertThat(c.discovery()).isEqualTo(ClusterSettings.Discovery.KUBERNETES);
    assertThat(c.namespace()).hasValue("keel-prod");
  }

  @Test
  void anUnknownDiscoveryIsRefused() {
    assertThatThrownBy(
            () ->
                settings(Map.of("keel.cluster.discovery", "consul", "keel.database.url", POSTGRES)))
        .isInstanceOfSatisfying(
            ConfigProblem.class,
            p -> {
              assertThat(p.setting()).isEqualTo("KEEL_DISCOVERY");
              assertThat(p.getMessage()).contains("consul", "none, kubernetes");
            });
  }

  @Test
  void badNumbersAndDurationsNameTheirVariable() {
    assertProblem(Map.of("keel.cluster.shards", "0"), "KEEL_SHARDS");
    assertProblem(Map.of("keel.cluster.shards", "lots"), "KEEL_SHARDS");
    assertProblem(Map.of("keel.cluster.shards", "100000"), "KEEL_SHARDS");
    assertProblem(Map.of("keel.cluster.entity-recovery.batch", "0"), "KEEL_ENTITY_RECOVERY_BATCH");
    assertProblem(
        Map.of("keel.cluster.entity-recovery.interval", "soon"), "KEEL_ENTITY_RECOVERY_INTERVAL");
    assertProblem(Map.of("keel.cluster.downing-stable-after", "1s"), "KEEL_DOWNING_STABLE_AFTER");
    assertProblem(Map.of("keel.cluster.management-port", "70000"), "KEEL_MANAGEMENT_PORT");
  }

  @Test
  void theOverlaySetsShardsRecoveryAndDowning_andManagementOnlyWithDiscovery() {
    Config plain =
        ClusterFormation.overlay(
            settings(
                Map.of(
                    "keel.cluster.shards",
                    "30",
                    "keel.cluster.entity-recovery.batch",
                    "5",
                    "keel.cluster.entity-recovery.interval",
                    "250ms")));
    assertThat(plain.getInt("pekko.cluster.sharding.number-of-shards")).isEqualTo(30);
    assertThat(
            plain.getInt(
                "pekko.cluster.sharding.entity-recovery-constant-rate-strategy.number-of-entities"))
        .isEqualTo(5);
    assertThat(
            plain.getDuration(
                "pekko.cluster.sharding.entity-recovery-constant-rate-strategy.frequency"))
        .isEqualTo(Duration.ofMillis(250));
    assertThat(plain.getDuration("pekko.cluster.split-brain-resolver.stable-after"))
        .isEqualTo(Duration.ofSeconds(10));
    assertThat(plain.hasPath("pekko.management")).isFalse();

    Config k8s =
        ClusterFormation.overlay(
            settings(
                Map.of(
                    "keel.cluster.discovery",
                    "kubernetes",
                    "keel.database.url",
                    POSTGRES,
                    "keel.node.host",
                    "10.1.2.3",
                    "keel.cluster.kubernetes.pod-label-selector",
                    "app=keel-prod")));
    assertThat(k8s.getString("pekko.management.http.hostname")).isEqualTo("10.1.2.3");
    assertThat(k8s.getInt("pekko.management.http.port")).isEqualTo(8558);
    assertThat(
            k8s.getString(
                "pekko.management.cluster.bootstrap.contact-point-discovery.discovery-method"))
        .isEqualTo("kubernetes-api");
    assertThat(
            k8s.getString("pekko.management.cluster.bootstrap.contact-point-discovery.port-name"))
        .isEqualTo("management");
    assertThat(k8s.getString("pekko.discovery.kubernetes-api.pod-label-selector"))
        .isEqualTo("app=keel-prod");
    assertThat(k8s.hasPath("pekko.discovery.kubernetes-api.pod-namespace")).isFalse();
  }

  @Test
  void theNodeConfigurationKeepsTheRebalanceAndRecoveryStrategy() {
    Config node = ConfigFactory.load();
    assertThat(node.getString("pekko.cluster.sharding.entity-recovery-strategy"))
        .isEqualTo("constant");
    assertThat(node.getString("pekko.cluster.sharding.remember-entities-store"))
        .isEqualTo("eventsourced");
    assertThat(
            node.getInt(
                "pekko.cluster.sharding.least-shard-allocation-strategy.rebalance-absolute-limit"))
        .isPositive();
    assertThat(node.getString("pekko.cluster.split-brain-resolver.active-strategy"))
        .isEqualTo("keep-majority");
  }

  private static void assertProblem(Map<String, String> values, String variable) {
    assertThatThrownBy(() -> settings(values))
        .as(values.toString())
        .isInstanceOfSatisfying(
            ConfigProblem.class, p -> assertThat(p.setting()).isEqualTo(variable));
  }

  private static NodeSettings settings(Map<String, String> values) {
    Map<String, Object> all = new HashMap<>(values);
    // Independent of whoever runs the build: no KEEL_* variable of theirs decides these.
    all.putIfAbsent("keel.cluster.seed-nodes", "");
    all.putIfAbsent("keel.cluster.discovery", "none");
    all.putIfAbsent("keel.database.url", "");
    return NodeSettings.fromConfig(
        ConfigFactory.parseMap(all).withFallback(ConfigFactory.load()).resolve());
  }
}
