package dev.keel.client;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The background heartbeats of {@link KeelClient#startHeartbeats}: one daemon thread that beats at
 * the interval, registers the service again after a 404, and backs off (exponentially, with jitter,
 * never longer than the interval) while Keel is unreachable, not ready or refusing. It logs one
 * line per change of state, never per beat, and never the token.
 *
 * <p>Everything but {@link #stop} runs on the loop's own thread.
 */
final class HeartbeatLoop {

  private static final System.Logger LOG = KeelClient.LOG;

  private final KeelClient client;
  private final String serviceId;
  private final Duration interval;
  private final MetricsProvider metrics;
  private final HealthChecker checker;
  private final CountDownLatch stopped = new CountDownLatch(1);
  private final Thread thread;

  /**
   * The loop's state as last logged: {@code starting}, {@code ok}, {@code unavailable}, {@code
   * reregistering}, ...
   */
  private String state = "starting";

  /** Consecutive failed rounds; 0 after a beat Keel accepted. */
  private int failures;

  /** Consecutive 404s: the first re-registers at once, more back off. */
  private int notFound;

  /** What made the last beat unhealthy (a throwing checker or provider), or null. */
  private String reportProblem;

  HeartbeatLoop(
      KeelClient client,
      String serviceId,
      Duration interval,
      MetricsProvider metrics,
      HealthChecker checker) {
    this.client = client;
    this.serviceId = serviceId;
    this.interval = interval;
    this.metrics = metrics;
    this.checker = checker;
    this.thread = new Thread(this::run, "keel-heartbeat-" + serviceId);
    thread.setDaemon(true);
  }

  String serviceId() {
    return serviceId;
  }

  Thread thread() {
    return thread;
  }

  void start() {
    thread.start();
  }

  /**
   * Ends the loop: wakes it, interrupts a request in flight, and waits up to {@code wait} for the
   * thread.
   */
  void stop(Duration wait) {
    stopped.countDown();
    thread.interrupt();
    if (Thread.currentThread() == thread) return;
    try {
      thread.join(wait.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private boolean stopping() {
    return stopped.getCount() == 0;
  }

  private void run() {
    while (!stopping()) {
      Duration next;
      try {
        if (client.needsRegistration(serviceId)) client.registerAgain();
        Report report = report();
        if (stopping()) break;
        HeartbeatAck ack =
            client.sendHeartbeat(serviceId, report.status, report.metrics, report.details);
        next = accepted(ack);
      } catch (KeelApiException e) {
        if (stopping()) break;
        next = e.status() == 404 ? notRegistered() : refused(e);
      } catch (KeelUnavailableException e) {
        if (stopping()) break;
        next = unavailable(e);
      } catch (RuntimeException e) {
        if (stopping()) break;
        failures++;
        change(
            "error:" + e.getClass().getName(),
            Level.WARNING,
            "heartbeat of service '"
                + serviceId
                + "' failed: "
                + client.http().redact(String.valueOf(e))
                + "; retrying with backoff");
        next = backoff(null);
      }
      if (!pause(next)) break;
    }
    LOG.log(Level.DEBUG, () -> "heartbeats of service '" + serviceId + "' stopped");
  }

  // ---------------------------------------------------------------- outcomes

  private Duration accepted(HeartbeatAck ack) {
    if (!state.equals("ok")) {
      String message =
          state.equals("starting") || state.equals("reregistering")
              ? (state.equals("starting") ? "heartbeating" : "registered again; heartbeating")
                  + " service '"
                  + serviceId
                  + "' to Keel at "
                  + client.endpoint()
                  + " every "
                  + interval
              : "Keel at "
                  + client.endpoint()
                  + " accepts heartbeats of service '"
                  + serviceId
                  + "' again after "
                  + failures
                  + (failures == 1 ? " failed attempt" : " failed attempts");
      change("ok", Level.INFO, message);
      if (ack != null
          && ack.ttlSeconds() != null
          && interval.compareTo(Duration.ofSeconds(ack.ttlSeconds())) >= 0) {
        LOG.log(
            Level.WARNING,
            "the heartbeat interval "
                + interval
                + " is not shorter than the TTL of service '"
                + serviceId
                + "' ("
                + ack.ttlSeconds()
                + " s): it will turn stale between beats");
      }
    }
    failures = 0;
    notFound = 0;
    return interval;
  }

  private Duration notRegistered() {
    failures++;
    notFound++;
    if (!client.canRegister(serviceId)) {
      change(
          "unknown",
          Level.WARNING,
          "Keel does not know service '"
              + serviceId
              + "' and this client has no ServiceInfo to register it with; call register(...)");
      return backoff(null);
    }
    client.forgotten(serviceId);
    change(
        "reregistering",
        Level.INFO,
        "Keel does not know service '" + serviceId + "' (any more); registering it again");
    return notFound == 1 ? Duration.ZERO : backoff(null);
  }

  private Duration refused(KeelApiException e) {
    failures++;
    change(
        "refused:" + e.status(),
        Level.WARNING,
        "Keel at "
            + client.endpoint()
            + " refuses heartbeats of service '"
            + serviceId
            + "': "
            + e.getMessage()
            + "; retrying with backoff");
    return backoff(e.retryAfter().orElse(null));
  }

  private Duration unavailable(KeelUnavailableException e) {
    failures++;
    change(
        "unavailable:" + e.status(),
        Level.WARNING,
        e.getMessage()
            + "; heartbeats of service '"
            + serviceId
            + "' retry with backoff (at most every "
            + interval
            + ")");
    return backoff(e.retryAfter().orElse(null));
  }

  private void change(String newState, Level level, String message) {
    if (newState.equals(state)) return;
    state = newState;
    LOG.log(level, message);
  }

  private Duration backoff(Duration retryAfter) {
    return backoff(failures, interval, retryAfter);
  }

  /**
   * The pause after {@code failures} failed rounds in a row: exponential from a tenth of the
   * interval (at most 1 s), doubled per failure, capped at the interval, with "equal jitter" (half
   * fixed, half random) so that many clients do not retry in step. A Retry-After from Keel
   * lengthens it, still within the interval, so that the service never goes a whole TTL unreported
   * once Keel is back.
   */
  static Duration backoff(int failures, Duration interval, Duration retryAfter) {
    long cap = Math.max(1, interval.toMillis());
    long base = Math.max(1, Math.min(1000, cap / 10));
    long exp = base << Math.min(Math.max(failures - 1, 0), 20);
    long ceiling = Math.min(cap, exp);
    long delay = ceiling / 2 + ThreadLocalRandom.current().nextLong(ceiling / 2 + 1);
    if (retryAfter != null) delay = Math.max(delay, Math.min(cap, retryAfter.toMillis()));
    return Duration.ofMillis(delay);
  }

  /** Waits {@code d} unless stopped first; false when the loop must end. */
  private boolean pause(Duration d) {
    if (d.isZero()) return !stopping();
    try {
      return !stopped.await(d.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      return false;
    }
  }

  // ---------------------------------------------------------------- what to report

  private record Report(
      HealthStatus status, Map<String, Double> metrics, Map<String, String> details) {}

  private Report report() {
    HealthStatus status;
    Map<String, String> details = new LinkedHashMap<>();
    String problem = null;
    try {
      HealthCheck check = checker.check();
      if (check == null) {
        status = HealthStatus.UNHEALTHY;
        details.put("healthCheckError", "the health checker returned no status");
        problem = "health check returned null";
      } else {
        status = check.status();
        details.putAll(check.details());
      }
    } catch (Exception e) {
      status = HealthStatus.UNHEALTHY;
      details.put("healthCheckError", message(e));
      problem = "health check threw " + e.getClass().getName();
    }
    Map<String, Double> numbers = Map.of();
    try {
      Map<String, Double> m = metrics.metrics();
      if (m != null) numbers = m;
    } catch (Exception e) {
      status = HealthStatus.UNHEALTHY;
      details.put("metricsError", message(e));
      if (problem == null) problem = "metrics provider threw " + e.getClass().getName();
    }
    if (problem != null && !problem.equals(reportProblem)) {
      LOG.log(
          Level.WARNING,
          "service '" + serviceId + "' reports unhealthy: its " + problem + ": " + details);
    } else if (problem == null && reportProblem != null) {
      LOG.log(Level.INFO, "service '" + serviceId + "': health check and metrics work again");
    }
    reportProblem = problem;
    return new Report(status, numbers, details);
  }

  private static String message(Exception e) {
    return e.getMessage() != null ? e.getMessage() : e.getClass().getName();
  }
}
