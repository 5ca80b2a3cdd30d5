package dev.keel.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import dev.keel.persistence.RequestScope;
import dev.keel.registry.alert.AlertRule;
import dev.keel.registry.service.RegisteredService;
import dev.keel.tenant.SlugReservation;
import dev.keel.tenant.Tenant;
import dev.keel.tenant.domain.CustomDomain;
import dev.keel.workflow.execution.WorkflowExecution;
import dev.keel.workflow.schedule.Schedule;
import java.nio.charset.StandardCharsets;
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
    Serialization serialization = SerializationExtension.get(testKit.system());
    for (Object command : tracedCommands()) {
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

  /**
   * A rolling upgrade mixes nodes of two versions: the command inside a {@code Traced} is named as
   * nodes of earlier versions name it, {@code "@class"} with its class name, whether the entity
   * lists its traced commands by name or not.
   */
  @Test
  void tracedCommandsAreNamedAsEarlierVersionsNameThem() throws Exception {
    Serialization serialization = SerializationExtension.get(testKit.system());
    for (Object command : tracedCommands()) {
      Object inner = ((RequestScope.Traced<?>) command).command();
      String json = new String(serialization.serialize(command).get(), StandardCharsets.UTF_8);

      assertThat(json)
          .as(command.getClass().getName())
          .contains("\"@class\":\"" + inner.getClass().getName() + "\"");
    }
  }

  private List<Object> tracedCommands() {
    ActorRef<Object> replyTo = testKit.createTestProbe().ref();
    return List.of(
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
            "req-6", null, new CustomDomain.Claim("t-1", "token-1", replyTo.narrow())),
        new RegisteredService.Traced(
            "req-8", null, new RegisteredService.Get("t-1", replyTo.narrow())),
        new AlertRule.Traced(
            "req-9",
            null,
            new AlertRule.Put(
                new AlertRule.AlertDefinition(
                    "svc-1", "status != healthy", "https://hooks.example/a", 60, "t-1"),
                "t-1",
                replyTo.narrow())),
        new Tenant.Traced("req-10", null, new Tenant.Get(replyTo.narrow())),
        new CustomDomain.Traced(
            "req-11",
            null,
            new CustomDomain.SetCertificate("t-1", "issued", null, "renewed", replyTo.narrow())));
  }
}
