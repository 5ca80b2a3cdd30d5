package dev.keel.node;

import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * {@code --log-format} / {@code KEEL_LOG_FORMAT}: the appender {@code logback.xml} writes through.
 * Chosen once, before logging starts, because logback reads its configuration only then.
 */
public final class LogFormat {

  /** The system property (and variable) {@code logback.xml} substitutes into its appender-ref. */
  static final String PROPERTY = "KEEL_LOG_FORMAT";

  private static final Set<String> FORMATS = Set.of("text", "json");

  private LogFormat() {}

  /**
   * Sets the format from the flag, else the variable, else {@code text}; answers why a value is
   * refused instead (logback would otherwise drop every line for a missing appender).
   */
  public static Optional<String> select(String flag, String variable) {
    String chosen =
        flag != null ? flag : variable == null || variable.isBlank() ? "text" : variable;
    String format = chosen.trim().toLowerCase(Locale.ROOT);
    if (!FORMATS.contains(format)) return Optional.of("must be text or json, not '" + chosen + "'");
    System.setProperty(PROPERTY, format);
    return Optional.empty();
  }
}
