package dev.keel.persistence.grammar;

import java.util.Optional;

/**
 * Human text: names (one line), free text such as a reason (line breaks allowed), and metadata keys
 * and values. None may hold a NUL or another control character, nor half of a surrogate pair:
 * PostgreSQL refuses a NUL in a text column ({@code invalid byte sequence 0x00}), which would stop
 * the read model that meets it, and control characters forge log lines and terminals. Lengths count
 * UTF-16 units ({@link String#length()}), never fewer than the characters a column counts, so a
 * value within its limit fits its column.
 *
 * <pre>{@code
 * Texts.nameProblem("Acme Inc", 200)        // empty
 * Texts.nameProblem("Acme\u0000Inc", 200)   // "must not contain control characters (U+0000 at 4)"
 * Texts.freeTextProblem("line 1\nline 2", 1000) // empty
 * }</pre>
 */
public final class Texts {

  /** {@code keel_services.name}. */
  public static final int MAX_SERVICE_NAME_LENGTH = 256;

  /** {@code keel_tenants.name}. */
  public static final int MAX_TENANT_NAME_LENGTH = 200;

  /** Reasons (cancel, suspend, certificate failure). */
  public static final int MAX_REASON_LENGTH = 1000;

  /** {@code keel_service_metadata.meta_key}. */
  public static final int MAX_METADATA_KEY_LENGTH = 128;

  /** {@code keel_service_metadata.meta_value}. */
  public static final int MAX_METADATA_VALUE_LENGTH = 1024;

  private Texts() {}

  /** A name people read: not blank, at most {@code max} characters, one line. */
  public static Optional<String> nameProblem(String name, int max) {
    if (name == null || name.isBlank()) return Optional.of("is required");
    if (name.length() > max) return Optional.of("is longer than " + max + " characters");
    return characterProblem(name, false);
  }

  /** Free text: may be empty, at most {@code max} characters; tabs and line breaks allowed. */
  public static Optional<String> freeTextProblem(String text, int max) {
    if (text == null) return Optional.empty();
    if (text.length() > max) return Optional.of("must be at most " + max + " characters");
    return characterProblem(text, true);
  }

  /**
   * A metadata key: 1 to 128 characters, no {@code =} (the list filter is {@code
   * ?metadata=key=value}).
   */
  public static Optional<String> metadataKeyProblem(String key) {
    if (key == null || key.isEmpty() || key.length() > MAX_METADATA_KEY_LENGTH) {
      return Optional.of("keys must be 1 to " + MAX_METADATA_KEY_LENGTH + " characters");
    }
    if (key.indexOf('=') >= 0) return Optional.of("keys must not contain '='");
    return characterProblem(key, false).map(p -> "keys " + p);
  }

  /** A metadata value: at most 1024 characters, one line. */
  public static Optional<String> metadataValueProblem(String value) {
    if (value == null) return Optional.of("must be a string");
    if (value.length() > MAX_METADATA_VALUE_LENGTH)
      return Optional.of("is longer than " + MAX_METADATA_VALUE_LENGTH + " characters");
    return characterProblem(value, false);
  }

  /**
   * A control character (U+0000 to U+001F, U+007F to U+009F; with {@code lineBreaks} tab, CR and LF
   * pass) or a lone surrogate in {@code text}, named by code point and position; empty when none.
   */
  public static Optional<String> characterProblem(String text, boolean lineBreaks) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (Character.isISOControl(c)) {
        if (lineBreaks && (c == '\t' || c == '\n' || c == '\r')) continue;
        return Optional.of(
            "must not contain control characters ("
                + String.format("U+%04X", (int) c)
                + " at "
                + i
                + ")");
      }
      if (Character.isHighSurrogate(c)
          && i + 1 < text.length()
          && Character.isLowSurrogate(text.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        return Optional.of("is not valid Unicode (a lone surrogate at " + i + ")");
      }
    }
    return Optional.empty();
  }
}
