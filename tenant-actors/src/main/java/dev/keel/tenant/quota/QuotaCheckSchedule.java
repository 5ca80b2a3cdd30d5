package dev.keel.tenant.quota;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.keel.persistence.Rejection;
import dev.keel.workflow.schedule.Schedule;
import dev.keel.workflow.schedule.ScheduleService;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.pattern.Patterns;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The built-in schedule {@value QuotaCheckWorkflow#SCHEDULE_ID}: {@code quota-check} on the 1st of
 * every month at 09:00 UTC, with input {@code {}} (the month just ended). Defined at node start-up
 * only when absent, so an operator's change or pause stays; a deleted one comes back at the next
 * start, so pause it ({@code "paused": true}) to turn it off.
 */
public final class QuotaCheckSchedule {

  private static final Logger log = LoggerFactory.getLogger(QuotaCheckSchedule.class);

  private QuotaCheckSchedule() {}

  public static Schedule.ScheduleDefinition definition() {
    return new Schedule.ScheduleDefinition(
        QuotaCheckWorkflow.NAME,
        QuotaCheckWorkflow.CRON,
        "UTC",
        JsonNodeFactory.instance.objectNode(),
        false,
        null);
  }

  /**
   * Defines the schedule unless it exists; answers whether it did. Asks are retried every {@code
   * delay} (the cluster may still be forming) up to {@code attempts} times.
   */
  public static CompletionStage<Boolean> ensure(
      ScheduleService schedules, ActorSystem<?> system, int attempts, Duration delay) {
    CompletionStage<Boolean> done =
        Patterns.retry(
            () -> defineIfAbsent(schedules),
            attempts,
            delay,
            system.classicSystem().scheduler(),
            system.executionContext());
    return done.whenComplete(
        (created, failure) -> {
          if (failure != null) {
            log.warn(
                "built-in schedule not defined scheduleId={} reason={}",
                QuotaCheckWorkflow.SCHEDULE_ID,
                failure.getMessage());
          } else if (created) {
            log.info(
                "built-in schedule defined scheduleId={} workflow={} cron=\"{}\" timezone=UTC",
                QuotaCheckWorkflow.SCHEDULE_ID,
                QuotaCheckWorkflow.NAME,
                QuotaCheckWorkflow.CRON);
          }
        });
  }

  private static CompletionStage<Boolean> defineIfAbsent(ScheduleService schedules) {
    return schedules
        .get(QuotaCheckWorkflow.SCHEDULE_ID)
        .handle(
            (existing, failure) -> {
              if (failure == null) return CompletableFuture.completedFuture(false);
              if (Rejection.of(failure)
                  .map(r -> r.kind() == Rejection.Kind.NOT_FOUND)
                  .orElse(false)) {
                return schedules
                    .put(QuotaCheckWorkflow.SCHEDULE_ID, definition())
                    .thenApply(r -> r.created());
              }
              return CompletableFuture.<Boolean>failedFuture(failure);
            })
        .thenCompose(s -> s);
  }
}
