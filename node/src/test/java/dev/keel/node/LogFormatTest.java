package dev.keel.node;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code --log-format} and {@code KEEL_LOG_FORMAT}: the flag wins, and a bad value is refused
 * before logging starts.
 */
class LogFormatTest {

  @AfterEach
  void clear() {
    System.clearProperty(LogFormat.PROPERTY);
  }

  @Test
  void textUnlessTold() {
    assertThat(LogFormat.select(null, null)).isEmpty();
    assertThat(System.getProperty(LogFormat.PROPERTY)).isEqualTo("text");
    assertThat(LogFormat.select(null, " ")).isEmpty();
    assertThat(System.getProperty(LogFormat.PROPERTY)).isEqualTo("text");
  }

  @Test
  void theFlagWinsOverTheVariable() {
    assertThat(LogFormat.select("json", "xml")).isEmpty();
    assertThat(System.getProperty(LogFormat.PROPERTY)).isEqualTo("json");
    assertThat(LogFormat.select(null, "JSON")).isEmpty();
    assertThat(System.getProperty(LogFormat.PROPERTY)).isEqualTo("json");
  }

  @Test
  void anUnknownFormatIsRefusedWithTheChoices() {
    assertThat(LogFormat.select("xml", null))
        .hasValueSatisfying(reason -> assertThat(reason).contains("text or json").contains("xml"));
    assertThat(LogFormat.select(null, "logfmt")).isPresent();
    assertThat(System.getProperty(LogFormat.PROPERTY)).isNull();
  }
}
