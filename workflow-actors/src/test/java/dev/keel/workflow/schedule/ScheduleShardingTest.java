package dev.keel.workflow.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.keel.persistence.ManualClock;
import dev.keel.persistence.Rejection;
import dev.keel.workflow.schedule.Schedule.Get;
import dev.keel.workflow.schedule.Schedule.Put;
import dev.keel.workflow.schedule.Schedule.PutResult;
import dev.keel.workflow.schedule.Schedule.ScheduleDefinition;
import dev.keel.workflow.schedule.Schedule.ScheduleView;
import java.time.Duration;
import java.time.Instant;
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

/** {@link Schedule#init} on a self-joined one-node cluster, every message through serialization. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ScheduleShardingTest {

  private ActorTestKit testKit;
  private final ManualClock clock = new ManualClock(Instant.parse("2026-03-01T07:30:00Z"));
  private final RecordingStarter starter = new RecordingStarter();
  private final Duration timeout = Duration.ofSeconds(5);

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
    testKit = ActorTestKit.create("ScheduleShardingTest", node.withFallback(ScheduleTest.CONFIG));
    Cluster cluster = Cluster.get(testKit.system());
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    Schedule.init(
        testKit.system(),
        starter,
        clock,
        new ScheduleSettings(timeout, Duration.ofSeconds(10), Duration.ofMinutes(15)),
        ScheduleMetrics.NONE);
  }

  @AfterAll
  void stopNode() {
    testKit.shutdownTestKit();
  }

  private EntityRef<Schedule.Command> schedule(String id) {
    return ClusterSharding.get(testKit.system()).entityRefFor(Schedule.ENTITY_KEY, id);
  }

  @Test
  void putGetAndDeleteThroughSharding() {
    ScheduleDefinition def =
        new ScheduleDefinition(
            "nightly-report",
            "0 9 * * *",
            "Europe/Berlin",
            JsonNodeFactory.instance.objectNode().put("region", "eu"),
            false,
            "acme");

    PutResult created =
        schedule("nightly")
            .<PutResult>askWithStatus(r -> new Put(def, r), timeout)
            .toCompletableFuture()
            .join();
    assertThat(created.created()).isTrue();
    assertThat(created.view().nextRunAt()).isEqualTo(Instant.parse("2026-03-01T08:00:00Z"));

    ScheduleView view =
        schedule("nightly")
            .<ScheduleView>askWithStatus(Get::new, timeout)
            .toCompletableFuture()
            .join();
    assertThat(view).isEqualTo(created.view());

    Done done =
        schedule("nightly")
            .<Done>askWithStatus(Schedule.Delete::new, timeout)
            .toCompletableFuture()
            .join();
    assertThat(done).isEqualTo(Done.getInstance());

    // After the delete the entity passivated itself; the next ask starts it again, as Deleted.
    CompletionException notFound =
        org.assertj.core.api.Assertions.catchThrowableOfType(
            CompletionException.class,
            () ->
                schedule("nightly")
                    .<ScheduleView>askWithStatus(Get::new, timeout)
                    .toCompletableFuture()
                    .join());
    assertThat(Rejection.of(notFound).map(Rejection::kind)).contains(Rejection.Kind.NOT_FOUND);
  }
}
