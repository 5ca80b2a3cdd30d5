package dev.keel.persistence;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Optional;

/**
 * The cursor of lists that page by id ascending: the last id of the page, in URL-safe base64 so
 * that clients treat it as opaque.
 */
public final class IdCursor {

  private IdCursor() {}

  public static String encode(String lastId) {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(lastId.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * The last id of the page {@code cursor} continues from; empty when it is not a cursor this class
   * made.
   */
  public static Optional<String> decode(String cursor) {
    return decode(cursor, 128);
  }

  /**
   * As {@link #decode(String)}, for ids up to {@code maxLength} characters (hostnames reach 253).
   */
  public static Optional<String> decode(String cursor, int maxLength) {
    try {
      String id =
          StandardCharsets.UTF_8
              .newDecoder()
              .decode(ByteBuffer.wrap(Base64.getUrlDecoder().decode(cursor)))
              .toString();
      // No id holds a control character; a NUL would reach the read model's query (PostgreSQL
      // refuses it).
      boolean control = id.chars().anyMatch(Character::isISOControl);
      return id.isBlank() || id.length() > maxLength || control
          ? Optional.empty()
          : Optional.of(id);
    } catch (IllegalArgumentException | CharacterCodingException e) {
      return Optional.empty();
    }
  }
}
