package dev.keel.workflow;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.keel.workflow.execution.WorkflowExecution;
import dev.keel.workflow.schedule.Schedule;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A traced command crosses nodes as it did when its type was written with {@code Id.CLASS}: the
 * class name under {@code @class}, now read from a closed list of names instead of any class on the
 * class path. Every command a façade may send is on that list; the entities' own timers and the
 * workflow attempt's messages never leave their node.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TracedCommandsTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  private NodeSerialization node;

  @BeforeAll
  void start() {
    node = new NodeSerialization("TracedCommandsTest");
  }

  @AfterAll
  void stop() {
    node.close();
  }

  @Test
  void executionCommandsCarryTheirClassNameAndEveryFacadeCommandIsNamed() throws Exception {
    ActorRef<Object> replyTo = node.system().deadLetters();
    for (WorkflowExecution.Command command :
        List.<WorkflowExecution.Command>of(
            new WorkflowExecution.Cancel("not needed", replyTo.narrow()),
            new WorkflowExecution.Start(
                "w", 1, TextNode.valueOf("in"), "acme", Instant.EPOCH, replyTo.narrow()),
            new WorkflowExecution.SendSignal("go", TextNode.valueOf("p"), replyTo.narrow()),
            new WorkflowExecution.SaveSnapshot(replyTo.narrow()))) {
      assertCrossesWithItsClassName(new WorkflowExecution.Traced("req-1", null, command), command);
    }
    assertNamesEveryCommandBut(
        WorkflowExecution.Traced.class,
        WorkflowExecution.Command.class,
        Set.of("Traced", "Wake", "Idle", "ToEntity"));
  }

  @Test
  void scheduleCommandsCarryTheirClassNameAndEveryFacadeCommandIsNamed() throws Exception {
    ActorRef<Object> replyTo = node.system().deadLetters();
    for (Schedule.Command command :
        List.<Schedule.Command>of(
            new Schedule.Delete(replyTo.narrow()),
            new Schedule.Put(
                new Schedule.ScheduleDefinition("w", "0 9 * * *", "UTC", null, false, "acme"),
                replyTo.narrow()))) {
      assertCrossesWithItsClassName(new Schedule.Traced("req-2", null, command), command);
    }
    assertNamesEveryCommandBut(
        Schedule.Traced.class,
        Schedule.Command.class,
        Set.of("Traced", "Tick", "TickStarted", "TickFailed"));
  }

  private void assertCrossesWithItsClassName(Object traced, Object command) throws Exception {
    assertThat(JSON.readTree(node.bytes(traced)).get("command").get("@class").asText())
        .isEqualTo(command.getClass().getName());
    assertThat(node.roundTrip(traced)).isEqualTo(traced);
  }

  private static void assertNamesEveryCommandBut(
      Class<?> traced, Class<?> command, Set<String> local) throws Exception {
    List<Class<?>> named =
        Arrays.stream(traced.getDeclaredField("command").getAnnotation(JsonSubTypes.class).value())
            .<Class<?>>map(JsonSubTypes.Type::value)
            .toList();
    List<Class<?>> sent =
        Arrays.stream(command.getPermittedSubclasses())
            .filter(c -> !local.contains(c.getSimpleName()))
            .toList();
    assertThat(named).containsExactlyInAnyOrderElementsOf(sent);
  }
}
