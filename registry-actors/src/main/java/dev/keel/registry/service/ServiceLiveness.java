package dev.keel.registry.service;

import dev.keel.registry.service.RegisteredService.CheckDeregister;
import dev.keel.registry.service.RegisteredService.CheckTtl;
import dev.keel.registry.service.RegisteredService.Command;
import dev.keel.registry.service.RegisteredService.HeartbeatAck;
import dev.keel.registry.service.RegisteredService.Registered;
import dev.keel.registry.service.RegisteredService.ServiceView;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * What one {@link RegisteredService}'s heartbeats leave in memory, never journaled (the last one's
 * time, metrics and details, and the TTL deadline they push out), and the TTL and deregistration
 * timers that this drives. Lives as long as the service's actor: after a recovery nothing is known
 * until the next heartbeat.
 */
final class ServiceLiveness {

  private static final String TTL_TIMER = "ttl";
  private static final String DEREGISTER_TIMER = "deregister";

  /** Pekko timers are never armed longer than this; a far deadline re-arms on the way. */
  private static final Duration MAX_TIMER_DELAY = Duration.ofHours(1);

  private final String serviceId;
  private final TimerScheduler<Command> timers;
  private final Clock clock;
  private final ControlPlaneCalm calm;

  /** When the last heartbeat (or registration) arrived here; null since recovery until one does. */
  private Instant lastHeartbeatAt;

  private Map<String, Double> metrics = Map.of();
  private Map<String, String> details = Map.of();

  /** Stale unless a heartbeat arrives before this; null while stale or not registered. */
  private Instant deadline;

  /** Where the TTL timer is set to fire; null when it is not armed. */
  private Instant ttlTimerAt;

  ServiceLiveness(
      String serviceId, TimerScheduler<Command> timers, Clock clock, ControlPlaneCalm calm) {
    this.serviceId = serviceId;
    this.timers = timers;
    this.clock = clock;
    this.calm = calm;
  }

  Instant lastHeartbeatAt() {
    return lastHeartbeatAt;
  }

  /** After recovery: the timers of {@code r} run again. */
  void recovered(Registered r, Instant now) {
    if (!r.status().equals("stale")) {
      // The last heartbeat time died with the previous incarnation: one TTL of grace from now.
      deadline = now.plusSeconds(r.def().ttlSeconds());
      armTtl();
    } else {
      armDeregister(r);
    }
  }

  /** A heartbeat (or registration) arrived: keep what it said in memory and push the TTL out. */
  void heard(
      Instant now,
      Map<String, Double> newMetrics,
      Map<String, String> newDetails,
      Registered state) {
    lastHeartbeatAt = now;
    metrics = newMetrics;
    details = newDetails;
    deadline = now.plusSeconds(state.def().ttlSeconds());
    timers.cancel(DEREGISTER_TIMER);
    // Armed once and re-armed when it fires early (see ttlRanOut): no timer churn per heartbeat.
    // Only a shorter TTL (a re-registration) needs it sooner.
    if (ttlTimerAt == null || !timers.isTimerActive(TTL_TIMER) || deadline.isBefore(ttlTimerAt))
      armTtl();
  }

  /** Whether {@code state}'s TTL ran out by {@code now}; when not, its timer is armed again. */
  boolean ttlRanOut(Registered state, Instant now) {
    if (state.status().equals("stale") || deadline == null) return false;
    // Heartbeats may have been held up in Keel while the cluster was disturbed: one TTL of grace
    // after it.
    Instant graceEnd = calm.disturbedUntil().plusSeconds(state.def().ttlSeconds());
    if (graceEnd.isAfter(deadline)) deadline = graceEnd;
    if (now.isBefore(deadline)) {
      armTtl(); // a heartbeat moved the deadline since the timer was armed
      return false;
    }
    return true;
  }

  /** The service turned stale: no deadline until a heartbeat, and its deregistration may be due. */
  void becameStale(Registered stale) {
    deadline = null;
    armDeregister(stale);
  }

  /** Whether stale {@code state} is due for deregistration by {@code now}; when not, re-armed. */
  boolean deregistrationDue(Registered state, Instant now) {
    Optional<Instant> due = deregisterDue(state);
    if (due.isEmpty()) return false;
    if (now.isBefore(due.get())) {
      armDeregister(state);
      return false;
    }
    return true;
  }

  /** Deregistered: nothing left to time or to remember. */
  void forget() {
    timers.cancel(TTL_TIMER);
    ttlTimerAt = null;
    timers.cancel(DEREGISTER_TIMER);
    deadline = null;
    lastHeartbeatAt = null;
    metrics = Map.of();
    details = Map.of();
  }

  ServiceObservation observation(Registered s, Instant now) {
    return new ServiceObservation(
        serviceId, s.def().tenantId(), s.def().type(), s.status(), metrics, now);
  }

  HeartbeatAck ack(Registered s) {
    return new HeartbeatAck(s.status(), s.def().ttlSeconds(), deadline);
  }

  ServiceView view(Registered s) {
    return ServiceViews.of(serviceId, s, lastHeartbeatAt, metrics, details, deadline);
  }

  private void armTtl() {
    if (deadline == null) return;
    Instant now = clock.instant();
    Duration delay = Duration.between(now, deadline);
    if (delay.isNegative()) delay = Duration.ZERO;
    if (delay.compareTo(MAX_TIMER_DELAY) > 0) delay = MAX_TIMER_DELAY;
    ttlTimerAt = now.plus(delay);
    timers.startSingleTimer(TTL_TIMER, new CheckTtl(), delay);
  }

  /** When a stale service is removed: never sooner than one TTL after this incarnation started. */
  private static Optional<Instant> deregisterDue(Registered state) {
    Integer after = state.def().deregisterAfterSeconds();
    if (after == null || !state.status().equals("stale")) return Optional.empty();
    return Optional.of(state.statusSince().plusSeconds(after));
  }

  private void armDeregister(Registered state) {
    Optional<Instant> due = deregisterDue(state);
    if (due.isEmpty()) {
      timers.cancel(DEREGISTER_TIMER);
      return;
    }
    Duration delay = Duration.between(clock.instant(), due.get());
    if (delay.isNegative()) {
      // Overdue after a restart: the control plane's outage is no reason to drop a service that
      // would have heartbeated meanwhile, so it gets one TTL to come back first.
      delay = Duration.ofSeconds(state.def().ttlSeconds());
    }
    timers.startSingleTimer(
        DEREGISTER_TIMER,
        new CheckDeregister(),
        delay.compareTo(MAX_TIMER_DELAY) > 0 ? MAX_TIMER_DELAY : delay);
  }
}
