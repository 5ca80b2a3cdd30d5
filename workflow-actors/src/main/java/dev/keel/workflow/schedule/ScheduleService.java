package dev.keel.workflow.schedule;

import dev.keel.persistence.JournaledEntities;
import dev.keel.persistence.RequestScope;
import dev.keel.workflow.execution.InvalidInputException;
import dev.keel.workflow.execution.WorkflowService;
import dev.keel.workflow.sdk.InputProblem;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;

/** The schedules façade for routes: asks the schedule entity with the timeout from settings. */
public final class ScheduleService {

  private final ClusterSharding sharding;
  private final ScheduleSettings settings;
  private final JournaledEntities journaled;
  private final WorkflowService workflows;

  public ScheduleService(
      ActorSystem<?> system, ScheduleSettings settings, WorkflowService workflows) {
    this.sharding = ClusterSharding.get(system);
    this.settings = settings;
    this.workflows = workflows;
    this.journaled = new JournaledEntities(system);
  }

  private EntityRef<Schedule.Command> entity(String id) {
    return sharding.entityRefFor(Schedule.ENTITY_KEY, id);
  }

  /**
   * Creates or replaces a schedule; throws {@link InvalidCronException} or {@link
   * InvalidInputException} before asking when the cron or the input is bad, so that a schedule
   * whose ticks could never start is not defined.
   */
  public CompletionStage<Schedule.PutResult> put(
      String id, Schedule.ScheduleDefinition definition) {
    validate(definition);
    checkInput(definition);
    return entity(id)
        .<Schedule.PutResult>askWithStatus(
            r ->
                RequestScope.<Schedule.Command>onBehalf(
                    new Schedule.Put(definition, r), Schedule.Traced::new),
            settings.askTimeout())
        .thenApply(
            result -> {
              journaled.created(Schedule.persistenceId(id).id());
              return result;
            });
  }

  /** Checks the cron expression and zone; throws {@link InvalidCronException} naming the field. */
  public void validate(Schedule.ScheduleDefinition definition) {
    ScheduleRules.validate(definition);
  }

  /**
   * Checks the input as a start of the schedule's workflow would; throws {@link
   * InvalidInputException} naming every bad field ({@code input.userId}). A workflow this node does
   * not know is left to the caller (the route answers 400 naming {@code workflow}).
   */
  public void checkInput(Schedule.ScheduleDefinition definition) {
    if (definition.workflow() == null
        || workflows.definitions().stream()
            .noneMatch(d -> d.name().equals(definition.workflow()))) {
      return;
    }
    List<InputProblem> problems =
        workflows.inputProblems(definition.workflow(), definition.input(), definition.tenantId());
    if (!problems.isEmpty()) throw new InvalidInputException(problems);
  }

  public CompletionStage<Schedule.ScheduleView> get(String id) {
    return journaled.askIfJournaled(
        entity(id),
        Schedule.persistenceId(id).id(),
        () -> Schedule.doesNotExist(id),
        Schedule.Get::new,
        settings.askTimeout());
  }

  public CompletionStage<Done> delete(String id) {
    return journaled.askIfJournaled(
        entity(id),
        Schedule.persistenceId(id).id(),
        () -> Schedule.doesNotExist(id),
        r -> RequestScope.<Schedule.Command>onBehalf(new Schedule.Delete(r), Schedule.Traced::new),
        settings.askTimeout());
  }
}
