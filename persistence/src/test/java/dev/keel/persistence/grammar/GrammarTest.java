package dev.keel.persistence.grammar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The grammar of each kind of value, at its edges: what a route answers 400 for, and what passes.
 */
class GrammarTest {

  @ParameterizedTest
  @ValueSource(strings = {"a", "order-1234", "A.b_c:d-e", "9"})
  void idsOfTheContractPass(String id) {
    assertThat(Ids.problem(id)).isEmpty();
    assertThat(Ids.problem("x".repeat(128))).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {".", "..", "-a", "_a", "a/b", "a%2fb", "a b", "a\u0000", "é", "a@b", ""})
  void idsOutsideTheContractAreRefused(String id) {
    assertThat(Ids.problem(id)).isPresent();
  }

  @Test
  void idsAreAtMost128Characters() {
    assertThat(Ids.problem("x".repeat(129))).hasValue("must match " + Ids.PATTERN.pattern());
  }

  @Test
  void tenantIdsAreIdsThatFitTheTenantsTable() {
    assertThat(Ids.tenantIdProblem("acme")).isEmpty();
    assertThat(Ids.tenantIdProblem("tabcdefghijklmnopqrstuvwxyz")).isEmpty();
    assertThat(Ids.tenantIdProblem("t".repeat(64))).isEmpty();
    assertThat(Ids.tenantIdProblem("t".repeat(65))).get().asString().contains("at most 64");
    assertThat(Ids.tenantIdProblem("..")).isPresent();
    assertThat(Ids.tenantIdProblem("acme\u0000")).isPresent();
  }

  @Test
  void aScheduleTickOfTheLongestScheduleIdIsAWorkflowId() {
    String tick = "s".repeat(128) + "@2026-11-22T09:00:00.000Z";
    assertThat(tick).hasSize(153);
    assertThat(Ids.workflowIdProblem(tick)).isEmpty();
    assertThat(Ids.workflowIdProblem("x".repeat(257))).isPresent();
    assertThat(Ids.workflowIdProblem("a/b")).isPresent();
  }

  @Test
  void namesAreOneLineWithoutControlCharacters() {
    assertThat(Texts.nameProblem("Acme Inc", 200)).isEmpty();
    assertThat(Texts.nameProblem("Bücher 📚 GmbH", 200)).isEmpty();
    assertThat(Texts.nameProblem("Acme\u0000Inc", 200))
        .hasValue("must not contain control characters (U+0000 at 4)");
    assertThat(Texts.nameProblem("Acme\nInc", 200)).get().asString().contains("U+000A");
    assertThat(Texts.nameProblem("Acme\u009bInc", 200)).get().asString().contains("U+009B");
    assertThat(Texts.nameProblem("Acme\u007f", 200)).isPresent();
    assertThat(Texts.nameProblem("x".repeat(201), 200)).hasValue("is longer than 200 characters");
    assertThat(Texts.nameProblem("  ", 200)).hasValue("is required");
  }

  @Test
  void loneSurrogatesAreNotText() {
    assertThat(Texts.nameProblem("a\ud800b", 200))
        .hasValue("is not valid Unicode (a lone surrogate at 1)");
    assertThat(Texts.nameProblem("a\udc00", 200)).isPresent();
    assertThat(Texts.nameProblem("\ud83d\udcda", 200)).isEmpty();
  }

  @Test
  void freeTextMayBreakLinesButHoldsNoOtherControlCharacter() {
    assertThat(Texts.freeTextProblem("line 1\r\n\tline 2", 1000)).isEmpty();
    assertThat(Texts.freeTextProblem(null, 1000)).isEmpty();
    assertThat(Texts.freeTextProblem("", 1000)).isEmpty();
    assertThat(Texts.freeTextProblem("stop\u0000", 1000)).isPresent();
    assertThat(Texts.freeTextProblem("\u001b[31mred", 1000)).isPresent();
    assertThat(Texts.freeTextProblem("x".repeat(1001), 1000))
        .hasValue("must be at most 1000 characters");
  }

  @Test
  void metadataFitsItsTable() {
    assertThat(Texts.metadataKeyProblem("region")).isEmpty();
    assertThat(Texts.metadataKeyProblem("k".repeat(128))).isEmpty();
    assertThat(Texts.metadataKeyProblem("k".repeat(129))).isPresent();
    assertThat(Texts.metadataKeyProblem("")).isPresent();
    assertThat(Texts.metadataKeyProblem("a=b")).hasValue("keys must not contain '='");
    assertThat(Texts.metadataKeyProblem("a\u0000")).isPresent();
    assertThat(Texts.metadataValueProblem("eu-west-1")).isEmpty();
    assertThat(Texts.metadataValueProblem("a=b")).isEmpty();
    assertThat(Texts.metadataValueProblem("v".repeat(1024))).isEmpty();
    assertThat(Texts.metadataValueProblem("v".repeat(1025))).isPresent();
    assertThat(Texts.metadataValueProblem("eu\u0000")).isPresent();
    assertThat(Texts.metadataValueProblem(null)).isPresent();
  }

  @Test
  void timeZonesAreIanaIdsSpelledExactly() {
    assertThat(TimeZones.problem("Europe/Berlin")).isEmpty();
    assertThat(TimeZones.problem("UTC")).isEmpty();
    assertThat(TimeZones.problem("America/Argentina/Buenos_Aires")).isEmpty();
    for (String bad :
        new String[] {
          "UTC\u0000", " UTC", "+01:00", "Z", "UTC+1", "Mars/Base", "", "europe/berlin"
        }) {
      assertThat(TimeZones.problem(bad)).as(bad).isPresent();
    }
  }

  @Test
  void durationsAreBoundedAndNeverOverflow() {
    assertThat(Durations.parse("PT30S", Durations.MAX_TIMER, false))
        .isEqualTo(Duration.ofSeconds(30));
    assertThat(Durations.parse("PT0S", Durations.MAX_TIMER, false)).isZero();
    assertThat(Durations.parse("P3650D", Durations.MAX_TIMER, true)).isEqualTo(Durations.MAX_TIMER);
    assertThatThrownBy(() -> Durations.parse("PT9223372036854775807S", Durations.MAX_TIMER, false))
        .isInstanceOf(InvalidValueException.class)
        .hasMessage("must be at most 3650 days (P3650D)");
    assertThatThrownBy(() -> Durations.parse("PT9223372036854775808S", Durations.MAX_TIMER, false))
        .hasMessage("must be an ISO-8601 duration such as PT30S");
    assertThatThrownBy(() -> Durations.parse("P106751991167301D", Durations.MAX_TIMER, false))
        .isInstanceOf(InvalidValueException.class);
    assertThatThrownBy(() -> Durations.parse("P3651D", Durations.MAX_TIMER, false))
        .isInstanceOf(InvalidValueException.class);
    assertThatThrownBy(() -> Durations.parse("-PT1S", Durations.MAX_TIMER, false))
        .hasMessage("must not be negative");
    assertThatThrownBy(() -> Durations.parse("PT0S", Durations.MAX_TIMER, true))
        .hasMessage("must be positive");
    assertThatThrownBy(() -> Durations.parse("PT30S\u0000", Durations.MAX_TIMER, true))
        .isInstanceOf(InvalidValueException.class);
    assertThatThrownBy(() -> Durations.parse("30s", Durations.MAX_TIMER, true))
        .isInstanceOf(InvalidValueException.class);
    assertThatThrownBy(
            () -> Durations.check(Duration.ofSeconds(Long.MAX_VALUE), Durations.MAX_TIMER, true))
        .isInstanceOf(InvalidValueException.class);
  }

  @Test
  void instantsStayWithinWhatTimestampColumnsHold() {
    assertThat(Instants.parse("2027-01-31T09:00:00.000Z"))
        .isEqualTo(Instant.parse("2027-01-31T09:00:00Z"));
    assertThat(Instants.parse("9999-12-31T23:59:59.999Z")).isEqualTo(Instants.MAX);
    for (String bad :
        new String[] {
          "+1000000000-12-31T23:59:59Z",
          "+10000-01-01T00:00:00Z",
          "1969-12-31T23:59:59Z",
          "2027-01-31",
          "2027-01-31T09:00:00",
          "2027-01-31T09:00:00Z\u0000",
          ""
        }) {
      assertThatThrownBy(() -> Instants.parse(bad))
          .as(bad)
          .isInstanceOf(InvalidValueException.class);
    }
  }
}
