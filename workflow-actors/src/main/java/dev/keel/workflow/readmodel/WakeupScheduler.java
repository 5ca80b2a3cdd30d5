package dev.keel.workflow.readmodel;

import dev.keel.persistence.ReadModelSql;
import dev.keel.workflow.execution.WorkflowExecution;
import dev.keel.workflow.execution.WorkflowSettings;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import javax.sql.DataSource;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.SingletonActor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wakes parked executions on time: one per cluster (a singleton), it reads the due wake-up index a
 * short way ahead and sends each execution {@code Wake} at its instant, through sharding, so the
 * execution comes back on whichever node owns it — after any restart, with no live actor meanwhile.
 * Short waits never depend on it: a live execution keeps its own timer.
 */
public final class WakeupScheduler {

  private static final Logger log = LoggerFactory.getLogger(WakeupScheduler.class);

  interface Msg {}

  enum Poll implements Msg {
    INSTANCE
  }

  record Due(List<Map.Entry<String, Instant>> rows) implements Msg {}

  record PollFailed(String reason) implements Msg {}

  record Fire(String workflowId, Instant wakeAt) implements Msg {}

  private WakeupScheduler() {}

  public static void init(
      ActorSystem<?> system, DataSource dataSource, WorkflowSettings settings, Clock clock) {
    Executor blocking =
        system.dispatchers().lookup(DispatcherSelector.fromConfig("keel.blocking-dispatcher"));
    ClusterSingleton.get(system)
        .init(
            SingletonActor.of(
                Behaviors.supervise(create(dataSource, blocking, settings, clock))
                    .onFailure(SupervisorStrategy.restart()),
                "workflow-wakeups"));
  }

  static Behavior<Msg> create(
      DataSource dataSource, Executor blocking, WorkflowSettings settings, Clock clock) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers -> {
                  ClusterSharding sharding = ClusterSharding.get(ctx.getSystem());
                  // What is armed, by id, so that each poll adds only what is new.
                  Map<String, Instant> armed = new HashMap<>();
                  timers.startTimerWithFixedDelay(
                      "poll", Poll.INSTANCE, Duration.ZERO, settings.wakeupPollInterval());
                  return Behaviors.receive(Msg.class)
                      .onMessageEquals(
                          Poll.INSTANCE,
                          () -> {
                            Instant horizon = clock.instant().plus(settings.wakeupLookahead());
                            ctx.pipeToSelf(
                                CompletableFuture.supplyAsync(
                                    () -> due(dataSource, horizon), blocking),
                                (rows, error) ->
                                    error != null
                                        ? new PollFailed(error.getMessage())
                                        : new Due(rows));
                            return Behaviors.same();
                          })
                      .onMessage(
                          Due.class,
                          due -> {
                            Instant now = clock.instant();
                            for (Map.Entry<String, Instant> row : due.rows()) {
                              if (row.getValue().equals(armed.get(row.getKey()))) continue;
                              armed.put(row.getKey(), row.getValue());
                              Duration delay = Duration.between(now, row.getValue());
                              timers.startSingleTimer(
                                  "wake-" + row.getKey(),
                                  new Fire(row.getKey(), row.getValue()),
                                  delay.isNegative() ? Duration.ZERO : delay);
                            }
                            return Behaviors.same();
                          })
                      .onMessage(
                          PollFailed.class,
                          failed -> {
                            log.warn(
                                "wake-up index unreadable, retrying next poll reason={}",
                                failed.reason());
                            return Behaviors.same();
                          })
                      .onMessage(
                          Fire.class,
                          fire -> {
                            armed.remove(fire.workflowId());
                            sharding
                                .entityRefFor(WorkflowExecution.ENTITY_KEY, fire.workflowId())
                                .tell(WorkflowExecution.Wake.INSTANCE);
                            return Behaviors.same();
                          })
                      .build();
                }));
  }

  private static List<Map.Entry<String, Instant>> due(DataSource dataSource, Instant horizon) {
    List<Map.Entry<String, Instant>> rows = new ArrayList<>();
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT workflow_id, wake_at FROM keel_workflow_wakeups WHERE wake_at <= ? ORDER BY"
                    + " wake_at LIMIT 5000")) {
      ps.setObject(1, ReadModelSql.ts(horizon));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) rows.add(Map.entry(rs.getString(1), ReadModelSql.instant(rs, 2)));
      }
    } catch (Exception e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
    return rows;
  }
}
