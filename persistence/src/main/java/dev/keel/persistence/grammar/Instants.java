package dev.keel.persistence.grammar;

import java.time.Instant;
import java.time.format.DateTimeParseException;

/**
 * Instants clients send as ISO-8601 UTC text ({@code 2027-01-31T09:00:00.000Z}), from 1970 to the
 * end of year 9999: what every timestamp column on H2 and PostgreSQL holds and what date arithmetic
 * on it cannot overflow. {@link Instant#parse} alone accepts years up to a billion.
 */
public final class Instants {

  public static final Instant MIN = Instant.EPOCH;
  public static final Instant MAX = Instant.parse("9999-12-31T23:59:59.999Z");

  private Instants() {}

  /**
   * {@code text} as an instant within {@link #MIN} and {@link #MAX}.
   *
   * @throws InvalidValueException saying what is wrong, for the field's 400 entry
   */
  public static Instant parse(String text) {
    if (text == null || text.isEmpty())
      throw new InvalidValueException(
          "is required: an ISO-8601 UTC instant such as 2027-01-31T09:00:00.000Z");
    Instant instant;
    try {
      instant = Instant.parse(text);
    } catch (DateTimeParseException e) {
      throw new InvalidValueException(
          "must be an ISO-8601 UTC instant such as 2027-01-31T09:00:00.000Z");
    }
    if (instant.isBefore(MIN) || instant.isAfter(MAX)) {
      throw new InvalidValueException(
          "must be between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z");
    }
    return instant;
  }
}
