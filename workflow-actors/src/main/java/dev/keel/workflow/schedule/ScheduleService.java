package dev.keel.workflow.schedule;

import dev.keel.persistence.JournaledEntities;
import dev.keel.persistence.RequestScope;
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

  public ScheduleService(ActorSystem<?> system, ScheduleSettings settings) {
    this.sharding = ClusterSharding.get(system);
    this.settings = settings;
    this.journaled = new JournaledEntities(system);
  }

  private EntityRef<Schedule.Command> entity(String id) {
    return sharding.entityRefFor(Schedule.ENTITY_KEY, id);
  }

  /** Creates or replaces a schedule; fails with {@link InvalidCronException} before asking when the cron is bad. */
  public CompletionStage<Schedule.PutResult> put(String id, Schedule.ScheduleDefinition definition) {
    validate(definition);
    return entity(id).<Schedule.PutResult>askWithStatus(
            r -> RequestScope.<Schedule.Command>onBehalf(new Schedule.Put(definition, r), Schedule.Traced::new), settings.askTimeout())
        .thenApply(result -> {
          journaled.created(Schedule.persistenceId(id).id());
          return result;
        });
  }

  /** Checks the cron expression and zone; throws {@link InvalidCronException} naming the field. */
  public void validate(Schedule.ScheduleDefinition definition) {
    Schedule.validate(definition);
  }

  public CompletionStage<Schedule.ScheduleView> get(String id) {
    return journaled.askIfJournaled(entity(id), Schedule.persistenceId(id).id(), () -> Schedule.doesNotExist(id),
        Schedule.Get::new, settings.askTimeout());
  }

  public CompletionStage<Done> delete(String id) {
    return journaled.askIfJournaled(entity(id), Schedule.persistenceId(id).id(), () -> Schedule.doesNotExist(id),
        r -> RequestScope.<Schedule.Command>onBehalf(new Schedule.Delete(r), Schedule.Traced::new), settings.askTimeout());
  }
}
