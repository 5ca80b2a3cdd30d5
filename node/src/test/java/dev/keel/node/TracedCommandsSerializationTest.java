package dev.keel.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import dev.keel.registry.alert.AlertRule;
import dev.keel.registry.service.RegisteredService;
import dev.keel.tenant.SlugReservation;
import dev.keel.tenant.Tenant;
import dev.keel.tenant.domain.CustomDomain;
import dev.keel.workflow.execution.WorkflowExecution;
import dev.keel.workflow.schedule.Schedule;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A command sent on behalf of a request goes to whichever node holds its entity, so each entity
 * type's {@code Traced} wrapper, with the command inside it, must survive Pekko's serialization.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TracedCommandsSerializationTest {

  private ActorTestKit testKit;

  @BeforeAll
  void start() {
    testKit =
        ActorTestKit.create(
            "TracedCommandsSerializationTest",
            ConfigFactory.parseString("pekko.actor.provider = local")
                .withFallback(ConfigFactory.load()));
  }

  @AfterAll
  void stop() {
    testKit.shutdownTestKit();
  }

  @Test
  void everyEntityTypesTracedCommandCrossesNodesIntact() throws Exception {
    ActorRef<Object> replyTo = testKit.createTestProbe().ref();
    List<Object> commands =
        List.of(
            new WorkflowExecution.Traced(
                "req-1",
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                new WorkflowExecution.Cancel("not needed", replyTo.narrow())),
            new Schedule.Traced("req-2", null, new Schedule.Delete(replyTo.narrow())),
            new RegisteredService.Traced(
                "req-3", null, new RegisteredService.Deregister(null, replyTo.narrow())),
            new AlertRule.Traced("req-4", null, new AlertRule.Delete("t-1", replyTo.narrow())),
            new Tenant.Traced("req-5", null, new Tenant.Suspend("unpaid", replyTo.narrow())),
            new SlugReservation.Traced(
                "req-7", null, new SlugReservation.Reserve("t-1", replyTo.narrow())),
            new CustomDomain.Traced(
                "req-6", null, new CustomDomain.Claim("t-1", "token-1", replyTo.narrow())));

    Serialization serialization = SerializationExtension.get(testKit.system());
    for (Object command : commands) {
      byte[] bytes = serialization.serialize(command).get();
      var serializer = serialization.findSerializerFor(command);
      Object back =
          serialization
              .deserialize(
                  bytes, serializer.identifier(), Serializers.manifestFor(serializer, command))
              .get();

      assertThat(back).as(command.getClass().getName()).isEqualTo(command);
    }
  }
}
