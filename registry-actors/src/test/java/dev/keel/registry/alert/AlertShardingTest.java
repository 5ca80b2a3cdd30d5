package dev.keel.registry.alert;

import static dev.keel.registry.alert.AlertRuleTest.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.keel.persistence.ManualClock;
import dev.keel.persistence.Rejection;
import dev.keel.registry.alert.AlertRule.AlertDefinition;
import dev.keel.registry.alert.AlertRule.AlertView;
import dev.keel.registry.alert.AlertRule.PutResult;
import dev.keel.registry.service.ServiceObservation;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletionException;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * {@link AlertRule#init} on a self-joined one-node cluster, every message through serialization,
 * driven the way a node drives it: the façade asks, the evaluator tells.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AlertShardingTest {

  private ActorTestKit testKit;
  private final ManualClock clock = new ManualClock(Instant.parse("2026-03-01T07:30:00Z"));
  private final RecordingStarter starter = new RecordingStarter();
  private final Duration timeout = Duration.ofSeconds(15);
  private AlertCatalog catalog;
  private AlertService service;
  private AlertEvaluator evaluator;

  @BeforeAll
  void startNode() {
    Config node =
        ConfigFactory.parseString(
            """
            pekko.actor.provider = cluster
            pekko.actor.serialize-messages = on
            pekko.remote.artery.canonical.hostname = 127.0.0.1
            pekko.remote.artery.canonical.port = 0
            pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
            pekko.cluster.sharding.remember-entities-store = eventsourced
            """);
    testKit = ActorTestKit.create("AlertShardingTest", node.withFallback(AlertRuleTest.CONFIG));
    Cluster cluster = Cluster.get(testKit.system());
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    AlertSettings configured =
        AlertSettings.fromConfig(testKit.system().settings().config().getConfig("keel.alerts"));
    // The first ask waits for the cluster to form and the shard to start: a busy machine needs
    // time.
    AlertSettings settings =
        new AlertSettings(
            timeout,
            configured.startRetryBackoff(),
            configured.catalogRefresh(),
            configured.catalogLocalGrace(),
            configured.retellAfter(),
            configured.deliveryFollowWait());
    AlertRule.init(testKit.system(), starter, starter, clock, settings);
    catalog = new AlertCatalog(null, clock, settings.catalogLocalGrace());
    service = new AlertService(testKit.system(), settings, null, catalog);
    evaluator = AlertEvaluator.forSystem(testKit.system(), catalog, settings, clock);
  }

  @AfterAll
  void stopNode() {
    testKit.shutdownTestKit();
  }

  private EntityRef<AlertRule.Command> rule(String id) {
    return ClusterSharding.get(testKit.system()).entityRefFor(AlertRule.ENTITY_KEY, id);
  }

  private AlertView get(String id) {
    return rule(id)
        .<AlertView>askWithStatus(r -> new AlertRule.Get(null, r), timeout)
        .toCompletableFuture()
        .join();
  }

  @Test
  void putObserveAndDeleteThroughShardingAndTheEvaluator() {
    AlertDefinition def =
        new AlertDefinition("ingest-1", "metrics.lag > 30", "https://h.example/x", 0, null);
    PutResult created = service.put("lag", def, null).toCompletableFuture().join();
    assertThat(created.created()).isTrue();
    assertThat(catalog.rulesFor("ingest-1", null))
        .extracting(AlertCatalog.Rule::id)
        .containsExactly("lag");
    assertThat(service.get("lag", null).toCompletableFuture().join()).isEqualTo(created.view());

    // Heartbeats through the evaluator, as a service entity reports them.
    evaluator.observe(
        new ServiceObservation(
            "ingest-1", null, "source", "healthy", Map.of("lag", 3.0), clock.instant()));
    evaluator.observe(
        new ServiceObservation(
            "ingest-1", null, "source", "healthy", Map.of("lag", 45.0), clock.instant()));
    eventually(
        () ->
            assertThat(get("lag").firings())
                .singleElement()
                .satisfies(f -> assertThat(f.delivery()).isEqualTo("started")));
    assertThat(starter.startedIds()).containsExactly("alert.lag.1");
    assertThat(get("lag").triggered()).containsExactly("ingest-1");

    evaluator.gone("ingest-1", null);
    eventually(() -> assertThat(get("lag").triggered()).isEmpty());

    assertThat(service.delete("lag", null).toCompletableFuture().join())
        .isEqualTo(Done.getInstance());
    assertThat(catalog.all()).isEmpty();
    // After the delete the entity passivated itself; the next ask starts it again, as Deleted.
    CompletionException notFound =
        org.assertj.core.api.Assertions.catchThrowableOfType(
            CompletionException.class, () -> service.get("lag", null).toCompletableFuture().join());
    assertThat(Rejection.of(notFound).map(Rejection::kind)).contains(Rejection.Kind.NOT_FOUND);
  }
}
