package dev.keel.workflow.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CronSpecTest {

  private static Instant at(String iso) {
    return Instant.parse(iso);
  }

  @Test
  void monthlyInBerlinFollowsTheWallClockAcrossTheSpringChange() {
    CronSpec monthly = CronSpec.parse("0 9 1 * *", "Europe/Berlin");

    // 09:00 CET is 08:00Z; after 29 March 2026 09:00 CEST is 07:00Z.
    assertThat(monthly.nextAfter(at("2026-02-15T00:00:00Z"))).contains(at("2026-03-01T08:00:00Z"));
    assertThat(monthly.nextAfter(at("2026-03-01T08:00:00Z"))).contains(at("2026-04-01T07:00:00Z"));
    assertThat(monthly.nextAfter(at("2026-10-15T00:00:00Z"))).contains(at("2026-11-01T08:00:00Z"));

    assertThat(monthly.latestAtOrBefore(at("2026-04-01T07:00:00Z")))
        .contains(at("2026-04-01T07:00:00Z"));
    assertThat(monthly.latestAtOrBefore(at("2026-04-01T06:59:59.999Z")))
        .contains(at("2026-03-01T08:00:00Z"));
    assertThat(monthly.latestAtOrBefore(at("2026-04-20T12:00:00Z")))
        .contains(at("2026-04-01T07:00:00Z"));
  }

  @Test
  void everyQuarterHour() {
    CronSpec quarter = CronSpec.parse("*/15 * * * *", "UTC");

    assertThat(quarter.nextAfter(at("2026-05-04T10:07:30Z"))).contains(at("2026-05-04T10:15:00Z"));
    assertThat(quarter.nextAfter(at("2026-05-04T10:15:00Z"))).contains(at("2026-05-04T10:30:00Z"));
    assertThat(quarter.nextAfter(at("2026-05-04T23:59:00Z"))).contains(at("2026-05-05T00:00:00Z"));
    assertThat(quarter.latestAtOrBefore(at("2026-05-04T10:15:00Z")))
        .contains(at("2026-05-04T10:15:00Z"));
    assertThat(quarter.latestAtOrBefore(at("2026-05-04T10:14:59.999Z")))
        .contains(at("2026-05-04T10:00:00Z"));
  }

  @Test
  void aWallClockTimeSkippedBySpringForwardFiresAtTheChange() {
    CronSpec nightly = CronSpec.parse("30 2 * * *", "Europe/Berlin");

    // 29 March 2026: 02:00 CET jumps to 03:00 CEST (01:00Z); 02:30 does not exist that night.
    assertThat(nightly.nextAfter(at("2026-03-28T12:00:00Z"))).contains(at("2026-03-29T01:00:00Z"));
    assertThat(nightly.nextAfter(at("2026-03-29T01:00:00Z"))).contains(at("2026-03-30T00:30:00Z"));
    assertThat(nightly.latestAtOrBefore(at("2026-03-29T05:00:00Z")))
        .contains(at("2026-03-29T01:00:00Z"));
    assertThat(nightly.latestAtOrBefore(at("2026-03-29T00:59:59Z")))
        .contains(at("2026-03-28T01:30:00Z"));
  }

  @Test
  void aWallClockTimeRepeatedByFallBackFiresOnce() {
    CronSpec nightly = CronSpec.parse("30 2 * * *", "Europe/Berlin");

    // 25 October 2026: 03:00 CEST falls back to 02:00 CET (01:00Z); 02:30 happens twice.
    assertThat(nightly.nextAfter(at("2026-10-24T12:00:00Z"))).contains(at("2026-10-25T00:30:00Z"));
    assertThat(nightly.nextAfter(at("2026-10-25T00:30:00Z"))).contains(at("2026-10-26T01:30:00Z"));
    // 01:45Z is 02:45 CET, the second pass: the newest tick is still the first-pass 02:30.
    assertThat(nightly.latestAtOrBefore(at("2026-10-25T01:45:00Z")))
        .contains(at("2026-10-25T00:30:00Z"));

    CronSpec quarter = CronSpec.parse("*/15 * * * *", "Europe/Berlin");
    assertThat(quarter.nextAfter(at("2026-10-25T00:45:00Z"))).contains(at("2026-10-25T02:00:00Z"));
    assertThat(quarter.latestAtOrBefore(at("2026-10-25T01:50:00Z")))
        .contains(at("2026-10-25T00:45:00Z"));
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "*/15 * * * * | Europe/Berlin | 2026-03-28T22:00:00Z",
        "*/15 * * * * | Europe/Berlin | 2026-10-24T22:00:00Z",
        "30 2 * * * | Europe/Berlin | 2026-03-20T00:00:00Z",
        "30 2 * * * | Europe/Berlin | 2026-10-20T00:00:00Z",
        "0,30 1-3 * * * | America/New_York | 2026-03-07T00:00:00Z",
        "0,30 1-3 * * * | America/New_York | 2026-10-31T00:00:00Z",
        "*/10 1-3 * * * | Australia/Lord_Howe | 2026-04-04T00:00:00Z",
        "0 9 * * 1-5 | Asia/Tokyo | 2026-01-01T00:00:00Z",
      })
  void nextAfterAndLatestAtOrBeforeAgreeOnTheTicks(String cron, String zone, String from) {
    CronSpec spec = CronSpec.parse(cron, zone);
    List<Instant> ticks = new ArrayList<>();
    Instant t = Instant.parse(from);
    for (int i = 0; i < 200; i++) {
      t = spec.nextAfter(t).orElseThrow();
      ticks.add(t);
    }
    for (int i = 1; i < ticks.size(); i++) {
      Instant tick = ticks.get(i);
      assertThat(tick).isAfter(ticks.get(i - 1));
      assertThat(spec.latestAtOrBefore(tick)).contains(tick);
      assertThat(spec.latestAtOrBefore(tick.minusNanos(1))).contains(ticks.get(i - 1));
      Instant between =
          ticks.get(i - 1).plus(Duration.between(ticks.get(i - 1), tick).dividedBy(2));
      assertThat(spec.latestAtOrBefore(between)).contains(ticks.get(i - 1));
    }
  }

  @Test
  void leapDayOnlyCronIsValid() {
    CronSpec leap = CronSpec.parse("0 0 29 2 *", "UTC");
    assertThat(leap.nextAfter(at("2026-01-01T00:00:00Z"))).contains(at("2028-02-29T00:00:00Z"));
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "0 25 * * *     | cron '0 25 * * *': hour 25 is out of range 0-23",
        "60 * * * *     | cron '60 * * * *': minute 60 is out of range 0-59",
        "0 9 32 * *     | cron '0 9 32 * *': day-of-month 32 is out of range 1-31",
        "0 9 * 13 *     | cron '0 9 * 13 *': month 13 is out of range 1-12",
        "0 9 * * 8      | cron '0 9 * * 8': day-of-week 8 is out of range 0-7",
        "5-3 * * * *    | cron '5-3 * * * *': minute range 5-3 runs backwards",
        "* * * * * *    | cron '* * * * * *': expected 5 fields (minute hour day-of-month month"
            + " day-of-week) but found 6",
        "garbage        | cron 'garbage': expected 5 fields (minute hour day-of-month month"
            + " day-of-week) but found 1",
        "@daily         | cron '@daily': expected 5 fields (minute hour day-of-month month"
            + " day-of-week) but found 1",
        "0 0 30 2 *     | cron '0 0 30 2 *': never matches a date (e.g. 30 February)",
      })
  void badExpressionsAreRejectedWithAReadableReason(String cron, String message) {
    assertThatThrownBy(() -> CronSpec.parse(cron, "UTC"))
        .isInstanceOfSatisfying(
            InvalidCronException.class,
            e -> {
              assertThat(e.field()).isEqualTo("cron");
              assertThat(e.getMessage()).isEqualTo(message);
            });
  }

  @Test
  void garbageInsideAFieldNamesTheField() {
    assertThatThrownBy(() -> CronSpec.parse("x y z w v", "UTC"))
        .isInstanceOfSatisfying(
            InvalidCronException.class,
            e -> {
              assertThat(e.field()).isEqualTo("cron");
              assertThat(e.getMessage()).startsWith("cron 'x y z w v': minute 'x'");
            });
    assertThatThrownBy(() -> CronSpec.parse("0 9 L * *", "UTC"))
        .hasMessage(
            "cron '0 9 L * *': day-of-month 'L' has characters a UNIX cron does not allow: L");
  }

  @Test
  void missingCronIsRequired() {
    assertThatThrownBy(() -> CronSpec.parse(" ", "UTC"))
        .isInstanceOfSatisfying(
            InvalidCronException.class, e -> assertThat(e.field()).isEqualTo("cron"))
        .hasMessageStartingWith("cron is required");
    assertThatThrownBy(() -> CronSpec.parse(null, "UTC")).isInstanceOf(InvalidCronException.class);
  }

  @Test
  void badTimeZonesAreRejected() {
    assertThatThrownBy(() -> CronSpec.parse("0 9 * * *", "Mars/Olympus_Mons"))
        .isInstanceOfSatisfying(
            InvalidCronException.class,
            e -> {
              assertThat(e.field()).isEqualTo("timezone");
              assertThat(e.getMessage())
                  .isEqualTo(
                      "timezone 'Mars/Olympus_Mons' is not a known time zone: use an IANA id such"
                          + " as 'Europe/Berlin' or 'UTC'");
            });
    assertThatThrownBy(() -> CronSpec.parse("0 9 * * *", "not a zone!"))
        .isInstanceOfSatisfying(
            InvalidCronException.class, e -> assertThat(e.field()).isEqualTo("timezone"));
    assertThatThrownBy(() -> CronSpec.parse("0 9 * * *", null))
        .isInstanceOfSatisfying(
            InvalidCronException.class, e -> assertThat(e.field()).isEqualTo("timezone"))
        .hasMessageStartingWith("timezone is required");
  }

  @Test
  void theCronIsCheckedBeforeTheZone() {
    assertThatThrownBy(() -> CronSpec.parse("0 25 * * *", "Nowhere/Nothing"))
        .isInstanceOfSatisfying(
            InvalidCronException.class, e -> assertThat(e.field()).isEqualTo("cron"));
  }

  @Test
  void everyMinuteNeverRunsOut() {
    CronSpec everyMinute = CronSpec.parse("* * * * *", "Europe/Berlin");
    assertThat(everyMinute.nextAfter(at("2026-10-25T00:59:00Z")))
        .isEqualTo(Optional.of(at("2026-10-25T02:00:00Z")));
    assertThat(everyMinute.nextAfter(at("2026-03-29T00:59:00Z")))
        .isEqualTo(Optional.of(at("2026-03-29T01:00:00Z")));
    assertThat(everyMinute.nextAfter(at("2026-03-29T01:00:00Z")))
        .isEqualTo(Optional.of(at("2026-03-29T01:01:00Z")));
  }
}
