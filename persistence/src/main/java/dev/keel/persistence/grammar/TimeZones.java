package dev.keel.persistence.grammar;

import java.time.ZoneId;
import java.util.Optional;
import java.util.Set;

/**
 * Time zones: an IANA time zone id as the JDK's tz database knows it ({@code Europe/Berlin}, {@code
 * UTC}), spelled exactly. {@link ZoneId#of} alone also takes offsets ({@code +01:00}) and, after a
 * {@code trim()}, ids wrapped in spaces or control characters ({@code "UTC\u0000"}), which would be
 * stored as sent.
 */
public final class TimeZones {

  private static final Set<String> IANA = ZoneId.getAvailableZoneIds();

  private TimeZones() {}

  /** What is wrong with {@code id} as a time zone; empty when it is one. */
  public static Optional<String> problem(String id) {
    if (id == null || id.isEmpty())
      return Optional.of("is required: an IANA time zone id such as 'Europe/Berlin' or 'UTC'");
    if (!IANA.contains(id))
      return Optional.of("must be an IANA time zone id such as 'Europe/Berlin' or 'UTC'");
    return Optional.empty();
  }
}
