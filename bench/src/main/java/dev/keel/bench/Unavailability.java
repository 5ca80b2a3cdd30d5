package dev.keel.bench;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/** The longest stretch of time in which no start succeeded anywhere in the cluster. */
final class Unavailability {

  private Unavailability() {}

  /**
   * The longest gap between {@code from}, each success inside {@code [from, to]} in time order, and
   * {@code to}: with no success at all, the whole window.
   */
  static Duration longest(Collection<Instant> successes, Instant from, Instant to) {
    List<Instant> inside = new ArrayList<>();
    for (Instant at : successes) if (!at.isBefore(from) && !at.isAfter(to)) inside.add(at);
    inside.sort(null);
    Duration longest = Duration.ZERO;
    Instant previous = from;
    for (Instant at : inside) {
      Duration gap = Duration.between(previous, at);
      if (gap.compareTo(longest) > 0) longest = gap;
      previous = at;
    }
    Duration last = Duration.between(previous, to);
    return last.compareTo(longest) > 0 ? last : longest;
  }
}
