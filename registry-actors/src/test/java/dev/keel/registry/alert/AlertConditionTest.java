package dev.keel.registry.alert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.registry.service.ServiceObservation;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class AlertConditionTest {

  private static ServiceObservation obs(String status, Map<String, Double> metrics) {
    return new ServiceObservation(
        "svc-1", null, "processor", status, metrics, Instant.parse("2026-03-01T10:00:00Z"));
  }

  private static ServiceObservation obs(String status) {
    return obs(status, Map.of());
  }

  private static boolean holds(String condition, ServiceObservation o) {
    return AlertCondition.parse(condition).holds(o);
  }

  // ---------------------------------------------------------------- status

  @Test
  void statusComparesWithEqualsAndNotEquals() {
    assertThat(holds("status != healthy", obs("healthy"))).isFalse();
    assertThat(holds("status != healthy", obs("stale"))).isTrue();
    assertThat(holds("status != healthy", obs("degraded"))).isTrue();
    assertThat(holds("status == stale", obs("stale"))).isTrue();
    assertThat(holds("status == stale", obs("unhealthy"))).isFalse();
  }

  @Test
  void statusWordsMayBeQuotedAndAreCanonicallyBare() {
    assertThat(AlertCondition.parse("status == \"unhealthy\"").toString())
        .isEqualTo("status == unhealthy");
    assertThat(AlertCondition.parse("status=='degraded'").toString())
        .isEqualTo("status == degraded");
    assertThat(holds("status == 'degraded'", obs("degraded"))).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {"healthy", "degraded", "unhealthy", "stale"})
  void everyStatusWordIsAccepted(String word) {
    assertThat(holds("status == " + word, obs(word))).isTrue();
  }

  // ---------------------------------------------------------------- metrics

  @ParameterizedTest
  @CsvSource({
    "metrics.lag > 30, 31, true",
    "metrics.lag > 30, 30, false",
    "metrics.lag >= 30, 30, true",
    "metrics.lag < 0.5, 0.49, true",
    "metrics.lag < 0.5, 0.5, false",
    "metrics.lag <= -1, -1, true",
    "metrics.lag == 1e3, 1000, true",
    "metrics.lag != 1e3, 1000, false",
    "metrics.lag != 1e3, 999.5, true",
    "metrics.lag > .5, 0.6, true",
    "metrics.lag > 1.5E-3, 0.002, true",
  })
  void metricsCompareNumerically(String condition, double value, boolean expected) {
    assertThat(holds(condition, obs("healthy", Map.of("lag", value)))).isEqualTo(expected);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "metrics.lag > 30",
        "metrics.lag < 30",
        "metrics.lag == 30",
        "metrics.lag != 30",
        "metrics.lag >= 30",
        "metrics.lag <= 30"
      })
  void aMissingMetricMakesEveryComparisonFalse(String condition) {
    assertThat(holds(condition, obs("healthy", Map.of("other", 30.0)))).isFalse();
    assertThat(holds(condition, obs("healthy", Map.of("lag", Double.NaN)))).isFalse();
  }

  @Test
  void metricNamesMayHoldDotsAndUnderscores() {
    var o = obs("healthy", Map.of("kafka.consumer_lag", 12.0, "_x9", 1.0));
    assertThat(holds("metrics.kafka.consumer_lag > 10", o)).isTrue();
    assertThat(holds("metrics._x9 == 1", o)).isTrue();
  }

  // ---------------------------------------------------------------- and, or, parentheses

  @Test
  void andBindsTighterThanOr() {
    String c = "status == stale or status == degraded and metrics.lag > 30";
    assertThat(holds(c, obs("stale"))).isTrue();
    assertThat(holds(c, obs("degraded", Map.of("lag", 10.0)))).isFalse();
    assertThat(holds(c, obs("degraded", Map.of("lag", 31.0)))).isTrue();
    assertThat(AlertCondition.parse(c).toString()).isEqualTo(c);
  }

  @Test
  void parenthesesGroup() {
    String c = "(status == stale or status == degraded) and metrics.lag > 30";
    assertThat(holds(c, obs("stale"))).isFalse();
    assertThat(holds(c, obs("stale", Map.of("lag", 31.0)))).isTrue();
    assertThat(holds(c, obs("healthy", Map.of("lag", 31.0)))).isFalse();
    assertThat(AlertCondition.parse(c).toString()).isEqualTo(c);
  }

  @Test
  void theCanonicalTextIsOneSpellingForEquivalentInputs() {
    AlertCondition a =
        AlertCondition.parse("  ((status!=healthy))\tand(metrics.x>=1e3 and metrics.y<-0.50)\n");
    assertThat(a.toString())
        .isEqualTo("status != healthy and metrics.x >= 1000 and metrics.y < -0.5");
    assertThat(
            AlertCondition.parse("status != healthy and (metrics.x >= 1000 and metrics.y < -0.5)"))
        .isEqualTo(a);
    assertThat(
            AlertCondition.parse("status == stale or (status == degraded or status == unhealthy)")
                .toString())
        .isEqualTo("status == stale or status == degraded or status == unhealthy");
    assertThat(AlertCondition.parse("metrics.x > -0").toString()).isEqualTo("metrics.x > 0");
    assertThat(AlertCondition.parse("metrics.x > 30.000").toString()).isEqualTo("metrics.x > 30");
    assertThat(AlertCondition.parse("metrics.x > 1e20").toString()).isEqualTo("metrics.x > 1.0E20");
    assertThat(AlertCondition.parse("metrics.x > 0.000001").toString())
        .isEqualTo("metrics.x > 1.0E-6");
    assertThat(a.hashCode()).isEqualTo(AlertCondition.parse(a.toString()).hashCode());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "status != healthy",
        "metrics.lag_seconds > 30",
        "status == stale or status == unhealthy and metrics.errors >= 1e3",
        "(status == stale or status == unhealthy) and (metrics.a > 1 or metrics.b < 0.25)",
        "metrics.x == 1.0E-7 or metrics.y != 123456789012345678",
      })
  void theCanonicalTextParsesBackToTheSameCondition(String text) {
    AlertCondition c = AlertCondition.parse(text);
    assertThat(AlertCondition.parse(c.toString())).isEqualTo(c);
    assertThat(AlertCondition.parse(c.toString()).toString()).isEqualTo(c.toString());
  }

  // ---------------------------------------------------------------- errors

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      value = {
        "metrics.lag > abc                 | at 15: expected a number after '>' but found 'abc'",
        "metrics.lag >                     | at 14: expected a number after '>' but found the end",
        "metrics.lag > 30s                 | at 15: expected a number after '>' but found '30s'",
        "metrics.lag > \"30\"              | at 15: expected a number after '>' but found \"30\"",
        "metrics.lag 30                    | at 13: expected an operator (==, !=, <, <=, >, >=)"
            + " after 'metrics.lag' but found '30'",
        "metrics. > 3                      | at 9: expected a metric name ([A-Za-z_][A-Za-z0-9_.]*)"
            + " after 'metrics.' but found nothing",
        "metrics.9lives > 3                | at 9: expected a metric name ([A-Za-z_][A-Za-z0-9_.]*)"
            + " after 'metrics.' but found '9lives'",
        "status == sick                    | at 11: unknown status 'sick'; expected one of healthy,"
            + " degraded, unhealthy, stale",
        "status == HEALTHY                 | at 11: unknown status 'HEALTHY'; expected one of"
            + " healthy, degraded, unhealthy, stale",
        "status == 'sick'                  | at 11: unknown status \"sick\"; expected one of"
            + " healthy, degraded, unhealthy, stale",
        "status > healthy                  | at 8: 'status' can only be compared with == or !=, not"
            + " '>'",
        "status healthy                    | at 8: expected '==' or '!=' after 'status' but found"
            + " 'healthy'",
        "status == 3                       | at 11: unknown status '3'; expected one of healthy,"
            + " degraded, unhealthy, stale",
        "status ==                         | at 10: expected a status (healthy, degraded,"
            + " unhealthy, stale) after '==' but found the end",
        "cpu > 3                           | at 1: expected 'status', 'metrics.<name>' or '(' but"
            + " found 'cpu'",
        "metrics > 3                       | at 1: expected 'status', 'metrics.<name>' or '(' but"
            + " found 'metrics'",
        "status = healthy                  | at 8: unexpected '='; the operators are ==, !=, <, <=,"
            + " >, >=",
        "status != healthy and             | at 22: expected 'status', 'metrics.<name>' or '(' but"
            + " found the end",
        "status != healthy or or           | at 22: expected 'status', 'metrics.<name>' or '(' but"
            + " found 'or'",
        "status != healthy AND status == x | at 19: expected 'and', 'or' or the end but found"
            + " 'AND'",
        "status != healthy)                | at 18: expected 'and', 'or' or the end but found ')'",
        "(status != healthy                | at 19: expected ')' to close the '(' at 1 but found"
            + " the end",
        "()                                | at 2: expected 'status', 'metrics.<name>' or '(' but"
            + " found ')'",
        "status != healthy # comment       | at 19: unexpected character '#'",
        "status == 'healthy                | at 11: the text starting with ' is not closed with '",
        "metrics.x > 1e999                 | at 13: the number '1e999' is out of range",
      })
  void parseErrorsNameThePositionAndWhatWasExpected(String text, String message) {
    assertThatThrownBy(() -> AlertCondition.parse(text.strip()))
        .isInstanceOf(InvalidConditionException.class)
        .hasMessage(message);
  }

  @Test
  void emptyNullLongAndDeepTextsAreRefused() {
    assertThatThrownBy(() -> AlertCondition.parse(""))
        .hasMessage("at 1: expected a condition such as 'status != healthy' but found the end");
    assertThatThrownBy(() -> AlertCondition.parse("   "))
        .hasMessage("at 4: expected a condition such as 'status != healthy' but found the end");
    assertThatThrownBy(() -> AlertCondition.parse(null))
        .isInstanceOf(InvalidConditionException.class);

    String longText = "status != healthy" + " or status != healthy".repeat(50);
    assertThat(longText.length()).isGreaterThan(AlertCondition.MAX_LENGTH);
    assertThatThrownBy(() -> AlertCondition.parse(longText))
        .isInstanceOf(InvalidConditionException.class)
        .hasMessage("is longer than 1000 characters");

    String deep = "(".repeat(40) + "status != healthy" + ")".repeat(40);
    assertThatThrownBy(() -> AlertCondition.parse(deep))
        .hasMessage("at 33: parentheses nested deeper than 32");
    String fine = "(".repeat(32) + "status != healthy" + ")".repeat(32);
    assertThat(AlertCondition.parse(fine).toString()).isEqualTo("status != healthy");
  }

  @Test
  void aConditionAtTheLengthLimitIsLongerInCanonicalFormAndStillReadsBack() {
    String compact = "metrics.a>1e14" + " or metrics.a>1e14".repeat(54);
    assertThat(compact.length()).isLessThanOrEqualTo(AlertCondition.MAX_LENGTH);
    AlertCondition c = AlertCondition.parse(compact);
    assertThat(c.toString().length()).isGreaterThan(AlertCondition.MAX_LENGTH);
    assertThat(AlertCondition.parseCanonical(c.toString())).isEqualTo(c);
  }

  @Test
  void errorsShowLongTokensShortened() {
    String word = "x".repeat(200);
    assertThatThrownBy(() -> AlertCondition.parse("metrics.lag > " + word))
        .hasMessage("at 15: expected a number after '>' but found '" + "x".repeat(30) + "…'");
    InvalidConditionException e =
        org.assertj.core.api.Assertions.catchThrowableOfType(
            InvalidConditionException.class, () -> AlertCondition.parse("metrics.lag > " + word));
    assertThat(e.position()).isEqualTo(15);
  }
}
