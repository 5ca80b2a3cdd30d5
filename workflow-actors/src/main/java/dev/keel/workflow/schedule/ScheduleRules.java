package dev.keel.workflow.schedule;

import dev.keel.persistence.grammar.Texts;
import dev.keel.persistence.grammar.TimeZones;
import dev.keel.workflow.schedule.Schedule.Active;
import dev.keel.workflow.schedule.Schedule.ScheduleDefinition;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Objects;
import java.util.Optional;

/**
 * What a schedule definition must be, and what follows from one: its {@link CronSpec} and the ids
 * of the workflows its ticks start. Used by the façade (to answer 400 before asking) and by the
 * {@link Schedule} entity (before it journals).
 */
public final class ScheduleRules {

  private static final DateTimeFormatter TICK_FORMAT =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  private ScheduleRules() {}

  /**
   * Checks a new definition's cron expression and time zone, for routes to answer 400 before asking
   * and for the entity before it journals: the zone an IANA id spelled exactly, neither with
   * control characters (a NUL stops the schedules read model on PostgreSQL).
   *
   * @throws InvalidCronException naming {@code cron} or {@code timezone}
   */
  public static CronSpec validate(ScheduleDefinition def) {
    if (def.cron() != null) {
      Texts.characterProblem(def.cron(), false)
          .ifPresent(
              p -> {
                throw new InvalidCronException("cron", "cron " + p);
              });
    }
    CronSpec spec = CronSpec.parse(def.cron(), def.timezone());
    TimeZones.problem(def.timezone())
        .ifPresent(
            p -> {
              throw new InvalidCronException("timezone", "timezone " + p);
            });
    return spec;
  }

  /** The id of the workflow execution that the tick at {@code tick} starts. */
  public static String workflowIdFor(String scheduleId, Instant tick) {
    return scheduleId + "@" + TICK_FORMAT.format(tick);
  }

  /** Whether two definitions tick at the same instants. */
  static boolean sameTiming(ScheduleDefinition a, ScheduleDefinition b) {
    return Objects.equals(a.cron(), b.cron()) && Objects.equals(a.timezone(), b.timezone());
  }

  /** Why {@code def} cannot be defined, as clients may read it; empty when it can. */
  static Optional<String> problemWith(ScheduleDefinition def) {
    if (def == null) return Optional.of("a schedule definition is required");
    if (def.workflow() == null || def.workflow().isBlank())
      return Optional.of("workflow is required");
    try {
      validate(def);
      return Optional.empty();
    } catch (InvalidCronException e) {
      return Optional.of(e.getMessage());
    }
  }

  /** The cron of a defined schedule. */
  static CronSpec spec(Active state) {
    // Accepted when it was defined, so it parses; not checked again, so that journals of older
    // rules replay.
    return CronSpec.parse(state.def().cron(), state.def().timezone());
  }
}
