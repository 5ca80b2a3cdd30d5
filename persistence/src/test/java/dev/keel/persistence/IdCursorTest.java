package dev.keel.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/** A cursor a client made up never reaches a query: only ids a page could have ended on decode. */
class IdCursorTest {

  @Test
  void anIdRoundTrips() {
    assertThat(IdCursor.decode(IdCursor.encode("svc-1"))).contains("svc-1");
  }

  @Test
  void controlCharactersAreNotAnId() {
    // "AAAA" is three NUL bytes: PostgreSQL refuses a NUL in a query parameter (that answered 503).
    assertThat(IdCursor.decode("AAAA")).isEmpty();
    assertThat(IdCursor.decode(encode("a\u0001b"))).isEmpty();
    assertThat(IdCursor.decode(encode("a\u0085b"))).isEmpty();
  }

  @Test
  void notBase64OrNotUtf8OrTooLongIsNotACursor() {
    assertThat(IdCursor.decode("!!!")).isEmpty();
    assertThat(
            IdCursor.decode(
                Base64.getUrlEncoder().encodeToString(new byte[] {(byte) 0xC0, (byte) 0xAF})))
        .isEmpty();
    assertThat(IdCursor.decode(encode("a".repeat(129)))).isEmpty();
  }

  private static String encode(String s) {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }
}
