package dev.keel.bench;

import java.time.Duration;

/**
 * When each heartbeat of a run is due, spread evenly: within every interval, service {@code n} of
 * {@code N} is due at {@code n · interval / N}. Slot {@code k} is the run's k-th heartbeat: service
 * {@code k mod N} in interval {@code k div N}. Offsets are in nanoseconds from the start of the
 * schedule.
 *
 * <pre>{@code
 * HeartbeatSchedule s = new HeartbeatSchedule(4, Duration.ofSeconds(10));
 * s.offsetNanos(5);   // 12.5 s: service 1, second interval
 * s.service(5);       // 1
 * }</pre>
 */
record HeartbeatSchedule(int services, long intervalNanos) {

  /** Keeps {@code services × intervalNanos} within a long. */
  static final int MAX_SERVICES = 1_000_000;

  static final Duration MAX_INTERVAL = Duration.ofHours(1);

  HeartbeatSchedule {
    if (services < 1 || services > MAX_SERVICES) {
      throw new IllegalArgumentException(
          "services must be in [1, " + MAX_SERVICES + "], was " + services);
    }
    if (intervalNanos < 1 || intervalNanos > MAX_INTERVAL.toNanos()) {
      throw new IllegalArgumentException(
          "the interval must be positive and at most " + MAX_INTERVAL);
    }
  }

  HeartbeatSchedule(int services, Duration interval) {
    this(services, interval.toNanos());
  }

  int service(long slot) {
    return (int) (slot % services);
  }

  long offsetNanos(long slot) {
    return (slot / services) * intervalNanos + (slot % services) * intervalNanos / services;
  }

  /** The first slot due at or after {@code offsetNanos} (0 for a negative offset). */
  long firstSlotAtOrAfter(long offsetNanos) {
    if (offsetNanos <= 0) {
      return 0;
    }
    long interval = offsetNanos / intervalNanos;
    long within = offsetNanos % intervalNanos;
    // offset(n) = floor(n·I/N) >= within  ⇔  n·I >= within·N  ⇔  n >= ceil(within·N / I)
    long n = (within * services + intervalNanos - 1) / intervalNanos;
    return interval * services + n;
  }

  /** Heartbeats per second that this schedule offers. */
  double perSecond() {
    return services * 1e9 / intervalNanos;
  }
}
