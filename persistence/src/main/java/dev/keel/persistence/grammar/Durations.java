package dev.keel.persistence.grammar;

import java.time.Duration;
import java.time.format.DateTimeParseException;

/**
 * Durations clients send as ISO-8601 text ({@code PT30S}, {@code P3D}), within bounds. A timer's
 * deadline is {@code now + duration} in milliseconds, kept in the journal and in timestamp columns:
 * {@code PT9223372036854775807S} parses, but overflows that arithmetic, so every duration has a
 * maximum and the check is made where the value is read, never when the timer starts.
 *
 * <pre>{@code
 * Durations.parse("PT30S", Durations.MAX_TIMER, false)                 // PT30S
 * Durations.parse("PT9223372036854775807S", Durations.MAX_TIMER, false) // InvalidValueException
 * }</pre>
 */
public final class Durations {

  /** The longest sleep or signal timeout: 3650 days, about ten years. */
  public static final Duration MAX_TIMER = Duration.ofDays(3650);

  private Durations() {}

  /**
   * {@code text} as a duration from zero ({@code positive}: from just above zero) to {@code max}.
   *
   * @throws InvalidValueException saying what is wrong, for the field's 400 entry
   */
  public static Duration parse(String text, Duration max, boolean positive) {
    if (text == null || text.isEmpty())
      throw new InvalidValueException("is required: an ISO-8601 duration such as PT30S");
    Duration duration;
    try {
      duration = Duration.parse(text);
    } catch (DateTimeParseException | ArithmeticException e) {
      throw new InvalidValueException("must be an ISO-8601 duration such as PT30S");
    }
    check(duration, max, positive);
    return duration;
  }

  /**
   * Checks a duration already parsed (a workflow's own {@code ctx.sleep}).
   *
   * @throws InvalidValueException saying what is wrong
   */
  public static void check(Duration duration, Duration max, boolean positive) {
    if (duration == null) throw new InvalidValueException("is required");
    if (duration.isNegative() || (positive && duration.isZero())) {
      throw new InvalidValueException(positive ? "must be positive" : "must not be negative");
    }
    if (duration.compareTo(max) > 0)
      throw new InvalidValueException("must be at most " + describe(max));
  }

  /** {@code 3650 days (P3650D)}, {@code 1 day (P1D)}, else the ISO text. */
  static String describe(Duration d) {
    if (!d.isZero() && d.toSeconds() % 86_400 == 0 && d.getNano() == 0) {
      long days = d.toDays();
      return days + (days == 1 ? " day" : " days") + " (P" + days + "D)";
    }
    return d.toString();
  }
}
