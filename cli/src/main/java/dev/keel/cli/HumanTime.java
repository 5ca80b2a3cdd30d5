package dev.keel.cli;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;

/** Durations and instants as people read them in a terminal: {@code 3h12m}, {@code 4s ago}. */
public final class HumanTime {

  private HumanTime() {}

  /**
   * The two largest units: {@code 45s}, {@code 12m5s}, {@code 3h12m}, {@code 2d3h}; a duration
   * under a second is {@code 0s}, a negative one (clocks apart) too.
   */
  static String duration(Duration d) {
    long s = Math.max(0, d.getSeconds());
    long days = s / 86_400;
    long hours = s % 86_400 / 3_600;
    long minutes = s % 3_600 / 60;
    long seconds = s % 60;
    if (days > 0) return days + "d" + (hours > 0 ? hours + "h" : "");
    if (hours > 0) return hours + "h" + (minutes > 0 ? minutes + "m" : "");
    if (minutes > 0) return minutes + "m" + (seconds > 0 ? seconds + "s" : "");
    return seconds + "s";
  }

  /** Time from {@code from} to {@code now}, or {@code -} when there is no instant. */
  static String since(Instant from, Instant now) {
    return from == null ? "-" : duration(Duration.between(from, now));
  }

  /** {@code 4s ago}, or {@code -} when there is no instant. */
  public static String ago(Instant at, Instant now) {
    return at == null ? "-" : duration(Duration.between(at, now)) + " ago";
  }

  /** {@code 1.5}, {@code 3}, {@code 0.001}: no exponent, no trailing zeros. */
  public static String number(Double value) {
    if (value == null) return "-";
    if (value.isNaN() || value.isInfinite()) return value.toString();
    return BigDecimal.valueOf(value).stripTrailingZeros().toPlainString();
  }
}
