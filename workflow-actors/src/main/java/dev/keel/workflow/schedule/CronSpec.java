package dev.keel.workflow.schedule;

import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinition;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.zone.ZoneOffsetTransition;
import java.time.zone.ZoneRules;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A 5-field UNIX cron expression ({@code minute hour day-of-month month day-of-week}) read in an
 * IANA time zone. Pure: no clock, no actors.
 *
 * <pre>{@code
 * CronSpec monthly = CronSpec.parse("0 9 1 * *", "Europe/Berlin");
 * monthly.nextAfter(Instant.parse("2026-03-15T00:00:00Z")); // 2026-04-01T07:00:00Z (09:00 CEST)
 * }</pre>
 *
 * <p>Daylight-saving changes: the expression is matched against wall-clock time in the zone. A
 * wall-clock time that a change skips (02:30 on a spring-forward night in Europe/Berlin) fires at
 * the instant of the change; one that a change repeats fires once, at its first occurrence. So
 * {@code 30 2 * * *} runs exactly once every day, and {@code *}{@code /15 * * * *} has no ticks in
 * the repeated hour. {@link #nextAfter} and {@link #latestAtOrBefore} agree on this set of ticks,
 * which matters because a tick's instant is part of the id of the workflow it starts.
 */
public final class CronSpec {

  private static final CronDefinition UNIX =
      CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX);
  private static final String[] FIELD_NAMES = {
    "minute", "hour", "day-of-month", "month", "day-of-week"
  };
  private static final String FIELD_LIST = "minute hour day-of-month month day-of-week";

  /** Enough steps to walk over any repeated stretch of wall-clock time, with every-minute ticks. */
  private static final int MAX_STEPS = 24 * 60 + 2;

  private final String expression;
  private final ZoneId zone;

  /**
   * Evaluated in a zone without transitions, so it walks wall-clock time; the zone is applied here.
   */
  private final ExecutionTime wallClock;

  private CronSpec(String expression, ZoneId zone, ExecutionTime wallClock) {
    this.expression = expression;
    this.zone = zone;
    this.wallClock = wallClock;
  }

  /**
   * Parses {@code cron} (5 fields, UNIX flavour) and {@code timezone} (an IANA id such as {@code
   * Europe/Berlin}, or {@code UTC}).
   *
   * @throws InvalidCronException naming the field at fault and why
   */
  public static CronSpec parse(String cron, String timezone) {
    ExecutionTime wallClock = parseCron(cron);
    ZoneId zone = parseZone(timezone);
    return new CronSpec(cron.trim(), zone, wallClock);
  }

  public String expression() {
    return expression;
  }

  public ZoneId zone() {
    return zone;
  }

  /** The first tick strictly after {@code instant}; empty only if none exists. */
  public Optional<Instant> nextAfter(Instant instant) {
    LocalDateTime local = instant.atZone(zone).toLocalDateTime();
    for (int i = 0; i < MAX_STEPS; i++) {
      Optional<ZonedDateTime> next = wallClock.nextExecution(local.atZone(ZoneOffset.UTC));
      if (next.isEmpty()) return Optional.empty();
      local = next.get().toLocalDateTime();
      Instant tick = resolve(local);
      // In the repeat of a set-back hour, wall-clock matches resolve to the first pass: walk on.
      if (tick.isAfter(instant)) return Optional.of(tick);
    }
    throw new IllegalStateException(
        "cron '" + expression + "' in " + zone + ": no tick found after " + instant);
  }

  /**
   * The newest tick at or before {@code instant} (for catching up a missed tick); empty if none.
   */
  public Optional<Instant> latestAtOrBefore(Instant instant) {
    ZonedDateTime at = instant.atZone(zone);
    LocalDateTime local = at.toLocalDateTime();
    ZoneOffsetTransition transition = zone.getRules().getTransition(local);
    Optional<LocalDateTime> candidate;
    if (transition != null
        && transition.isOverlap()
        && at.getOffset().equals(transition.getOffsetAfter())) {
      // In the repeat of a set-back hour every wall-clock time of that hour already fired on the
      // first pass, so the newest tick is the last match before the repeated stretch ends.
      candidate = previous(transition.getDateTimeBefore());
    } else {
      candidate = matches(local) ? Optional.of(local) : previous(local);
    }
    for (int i = 0; i < MAX_STEPS && candidate.isPresent(); i++) {
      Instant tick = resolve(candidate.get());
      if (!tick.isAfter(instant)) return Optional.of(tick);
      candidate = previous(candidate.get());
    }
    return Optional.empty();
  }

  private boolean matches(LocalDateTime local) {
    return local.getSecond() == 0
        && local.getNano() == 0
        && wallClock.isMatch(local.atZone(ZoneOffset.UTC));
  }

  private Optional<LocalDateTime> previous(LocalDateTime local) {
    return wallClock
        .lastExecution(local.atZone(ZoneOffset.UTC))
        .map(ZonedDateTime::toLocalDateTime);
  }

  /** The instant a matching wall-clock time fires at (see the class comment for DST changes). */
  private Instant resolve(LocalDateTime local) {
    ZoneRules rules = zone.getRules();
    List<ZoneOffset> offsets = rules.getValidOffsets(local);
    if (offsets.isEmpty()) {
      return rules.getTransition(local).getInstant(); // skipped by a spring-forward change
    }
    return local.toInstant(offsets.get(0)); // the earlier offset: the first pass of a repeated time
  }

  // ---------------------------------------------------------------- parsing and messages

  private static ExecutionTime parseCron(String cron) {
    if (cron == null || cron.isBlank()) {
      throw new InvalidCronException(
          "cron", "cron is required: 5 fields (" + FIELD_LIST + "), e.g. '0 9 * * *'");
    }
    String trimmed = cron.trim();
    String[] fields = trimmed.split("\\s+");
    if (fields.length != 5) {
      throw new InvalidCronException(
          "cron",
          "cron '"
              + trimmed
              + "': expected 5 fields ("
              + FIELD_LIST
              + ") but found "
              + fields.length);
    }
    CronParser parser = new CronParser(UNIX);
    ExecutionTime executionTime;
    try {
      executionTime = ExecutionTime.forCron(parser.parse(trimmed).validate());
    } catch (IllegalArgumentException e) {
      throw new InvalidCronException(
          "cron", "cron '" + trimmed + "': " + explain(parser, fields, e));
    }
    if (executionTime
        .nextExecution(ZonedDateTime.of(2000, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC))
        .isEmpty()) {
      throw new InvalidCronException(
          "cron", "cron '" + trimmed + "': never matches a date (e.g. 30 February)");
    }
    return executionTime;
  }

  /** Finds the field cron-utils objects to and rewrites its message to name that field. */
  private static String explain(
      CronParser parser, String[] fields, IllegalArgumentException whole) {
    for (int i = 0; i < fields.length; i++) {
      String[] probe = {"*", "*", "*", "*", "*"};
      probe[i] = fields[i];
      try {
        parser.parse(String.join(" ", probe)).validate();
      } catch (IllegalArgumentException e) {
        return describe(FIELD_NAMES[i], fields[i], e.getMessage());
      }
    }
    return tidy(whole.getMessage());
  }

  private static final Pattern OUT_OF_RANGE =
      Pattern.compile("Value (\\S+) not in range \\[(-?\\d+), (-?\\d+)]");
  private static final Pattern BAD_STEP =
      Pattern.compile("Period (\\S+) not in range \\[(-?\\d+), (-?\\d+)]");
  private static final Pattern BAD_RANGE = Pattern.compile("Invalid range! \\[(\\S+),\\s*(\\S+)]");
  private static final Pattern BAD_CHARS =
      Pattern.compile("Invalid chars in expression! Expression: .* Invalid chars: (.*)");

  static String describe(String field, String text, String cronUtilsMessage) {
    String message = tidy(cronUtilsMessage);
    Matcher m = OUT_OF_RANGE.matcher(message);
    if (m.find())
      return field + " " + m.group(1) + " is out of range " + m.group(2) + "-" + m.group(3);
    m = BAD_STEP.matcher(message);
    if (m.find()) return field + " step " + m.group(1) + " is out of range 1-" + m.group(3);
    m = BAD_RANGE.matcher(message);
    if (m.find()) return field + " range " + m.group(1) + "-" + m.group(2) + " runs backwards";
    m = BAD_CHARS.matcher(message);
    if (m.find())
      return field
          + " '"
          + text
          + "' has characters a UNIX cron does not allow: "
          + m.group(1).trim();
    if (message.startsWith("Invalid expression")) return field + " '" + text + "' is not valid";
    return field + " '" + text + "': " + message;
  }

  private static String tidy(String cronUtilsMessage) {
    String message = cronUtilsMessage == null ? "not valid" : cronUtilsMessage;
    return message.replace("Failed to parse cron expression. ", "").trim();
  }

  private static ZoneId parseZone(String timezone) {
    if (timezone == null || timezone.isBlank()) {
      throw new InvalidCronException(
          "timezone",
          "timezone is required: an IANA time zone id such as 'Europe/Berlin' or 'UTC'");
    }
    try {
      return ZoneId.of(timezone.trim());
    } catch (DateTimeException e) {
      throw new InvalidCronException(
          "timezone",
          "timezone '"
              + timezone
              + "' is not a known time zone: use an IANA id such as 'Europe/Berlin' or 'UTC'");
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CronSpec other
        && expression.equals(other.expression)
        && zone.equals(other.zone);
  }

  @Override
  public int hashCode() {
    return expression.hashCode() * 31 + zone.hashCode();
  }

  @Override
  public String toString() {
    return "CronSpec[" + expression + " in " + zone + "]";
  }
}
