package dev.keel.workflow.schedule;

import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;

/** The schedules façade for routes: asks the schedule entity with the timeout from settings. */
public final class ScheduleService {

  private final ClusterSharding sharding;
  private final ScheduleSettings settings;

  public ScheduleService(ActorSystem<?> system, ScheduleSettings settings) {
    this.sharding = ClusterSharding.get(system);
    this.settings = settings;
  }

  private EntityRef<Schedule.Command> entity(String id) {
    return sharding.entityRefFor(Schedule.ENTITY_KEY, id);
  }

  /** Creates or replaces a schedule; fails with {@link InvalidCronException} before asking when the cron is bad. */
  public CompletionStage<Schedule.PutResult> put(String id, Schedule.ScheduleDefinition definition) {
    validate(definition);
    return entity(id).askWithStatus(r -> new Schedule.Put(definition, r), settings.askTimeout());
  }

  /** Checks the cron expression and zone; throws {@link InvalidCronException} naming the field. */
  public void validate(Schedule.ScheduleDefinition definition) {
    Schedule.validate(definition);
  }

  public CompletionStage<Schedule.ScheduleView> get(String id) {
    return entity(id).askWithStatus(Schedule.Get::new, settings.askTimeout());
  }

  public CompletionStage<Done> delete(String id) {
    return entity(id).askWithStatus(Schedule.Delete::new, settings.askTimeout());
  }
}
