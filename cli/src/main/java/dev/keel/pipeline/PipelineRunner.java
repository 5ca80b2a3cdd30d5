package dev.keel.pipeline;

import dev.keel.client.HealthStatus;
import dev.keel.client.KeelApiException;
import dev.keel.client.KeelClient;
import dev.keel.client.KeelException;
import dev.keel.client.ServiceInfo;
import dev.keel.client.ServiceStatus;
import dev.keel.client.ServiceView;
import dev.keel.pipeline.PipelineSpec.Component;
import dev.keel.pipeline.PipelineSpec.RestartPolicy;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a pipeline's components against a control plane: starts them in {@link StartOrder}, each
 * once everything it depends on has registered; restarts or fails per {@code restart}; keeps the
 * live status and the pipeline's own service; on {@link #requestStop()} stops them in reverse
 * order. One thread ({@link #run()}) does all of it, in ticks, so no two decisions race.
 */
final class PipelineRunner {

  private static final Logger log = LoggerFactory.getLogger(PipelineRunner.class);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);
  private static final Duration POLL = Duration.ofSeconds(1);

  /** Timings of a run; {@code tick} is how often components are checked while they start. */
  record Settings(Duration heartbeatInterval, Duration stopGrace, Duration tick) {}

  private enum State {
    WAITING,
    STARTING,
    RUNNING,
    BACKOFF,
    FINISHED,
    STOPPED
  }

  /** One component and what keel run knows of it; touched by the run thread only. */
  private static final class Slot {
    final Component spec;
    State state = State.WAITING;
    ComponentProcess process;
    int restarts;
    Instant deadline;
    Instant restartAt;
    Instant lastPoll = Instant.EPOCH;
    ServiceView view;

    Slot(Component spec) {
      this.spec = spec;
    }
  }

  private final PipelineSpec spec;
  private final Path workDir;
  private final Path logsDir;
  private final KeelClient keel;
  private final Map<String, String> keelEnv;
  private final RunConsole console;
  private final Settings settings;
  private final Clock clock;
  private final List<Slot> slots;
  private final CountDownLatch stop = new CountDownLatch(1);
  private volatile boolean stopRequested;
  private Instant lastPipelineBeat = Instant.EPOCH;

  /**
   * @param keel a client with the pipeline's key, for the pipeline's service and reading the
   *     components'
   * @param keelEnv what every component gets besides its own KEEL_SERVICE_ID: endpoint, token,
   *     interval
   */
  PipelineRunner(
      PipelineSpec spec,
      Path workDir,
      Path logsDir,
      KeelClient keel,
      Map<String, String> keelEnv,
      RunConsole console,
      Settings settings,
      Clock clock) {
    this.spec = spec;
    this.workDir = workDir;
    this.logsDir = logsDir;
    this.keel = keel;
    this.keelEnv = Map.copyOf(keelEnv);
    this.console = console;
    this.settings = settings;
    this.clock = clock;
    this.slots = spec.components().stream().map(Slot::new).toList();
  }

  /**
   * Asks {@link #run()} to stop the components and return; safe from any thread, e.g. a signal
   * handler.
   */
  void requestStop() {
    stopRequested = true;
    stop.countDown();
  }

  /**
   * Runs until a stop is requested or a component fails the run; then stops every component in
   * reverse start order. Answers the exit code: 0 when a requested stop ended every component
   * within its grace period, 1 otherwise.
   */
  int run() {
    registerPipeline();
    Optional<String> failure = Optional.empty();
    while (!stopRequested && failure.isEmpty()) {
      failure = tick();
      if (failure.isEmpty()) showStatus();
      if (failure.isEmpty()) awaitStop(settings.tick());
    }
    failure.ifPresent(f -> console.message(f));
    boolean clean = stopAll();
    console.status(spec.name(), "stopped", snapshot());
    console.finish();
    if (failure.isPresent()) return 1;
    console.message(
        clean
            ? "stopped cleanly"
            : "stopped; some components had to be killed (SIGKILL) after "
                + settings.stopGrace().toSeconds()
                + "s");
    return clean ? 0 : 1;
  }

  /**
   * Kills whatever is left of every component at once: the JVM is exiting without {@link #run()}
   * finishing.
   */
  void killRemaining() {
    for (Slot s : slots) {
      ComponentProcess p = s.process;
      if (p != null) p.kill();
    }
  }

  // ---------------------------------------------------------------- one tick

  /** Moves every component on by one step; answers why the run must stop, if it must. */
  private Optional<String> tick() {
    for (Slot s : slots) {
      Instant now = clock.instant();
      switch (s.state) {
        case WAITING, BACKOFF -> {
          boolean due = s.state == State.WAITING ? dependenciesUp(s) : !now.isBefore(s.restartAt);
          if (due) {
            Optional<String> failure = start(s);
            if (failure.isPresent()) return failure;
          }
        }
        case STARTING, RUNNING -> {
          if (s.process.exited()) {
            Optional<String> failure = exited(s);
            if (failure.isPresent()) return failure;
            continue;
          }
          boolean starting = s.state == State.STARTING;
          if (starting || !now.isBefore(s.lastPoll.plus(POLL))) poll(s, now);
          if (starting && s.view != null && s.view.status() == ServiceStatus.HEALTHY) {
            s.state = State.RUNNING;
            event(s, "registered", s.spec.id() + " registered (pid " + s.process.pgid() + ")");
          } else if (starting && now.isAfter(s.deadline)) {
            return Optional.of(
                failure(
                    s,
                    "did not register within "
                        + s.spec.registerTimeout().toSeconds()
                        + "s (registerTimeoutSeconds)"));
          }
        }
        default -> {}
      }
    }
    return Optional.empty();
  }

  private boolean dependenciesUp(Slot s) {
    for (String dep : s.spec.dependsOn()) {
      // A dependency that finished (exit 0 under on-failure, e.g. a one-off migration) has done its
      // part.
      State d = slot(dep).state;
      if (d != State.RUNNING && d != State.FINISHED) return false;
    }
    // Start order: nothing starts while a component earlier in the order is still coming up.
    for (Slot earlier : slots) {
      if (earlier == s) break;
      if (earlier.state == State.WAITING || earlier.state == State.STARTING) return false;
    }
    return true;
  }

  private Optional<String> start(Slot s) {
    // A registration left from an earlier run or an earlier process must not count as this one's.
    try {
      keel.deregister(s.spec.id());
    } catch (KeelException e) {
      log.debug(
          "deregister before start failed component={} reason={}", s.spec.id(), e.getMessage());
    }
    s.view = null;
    Map<String, String> env = new LinkedHashMap<>(s.spec.env());
    env.putAll(keelEnv);
    env.put("KEEL_SERVICE_ID", s.spec.id());
    try {
      s.process =
          ComponentProcess.start(
              s.spec.id(), s.spec.command(), workDir, env, logFile(s), console::output);
    } catch (IOException e) {
      // Nothing ran (setsid missing, the folder or the log file not writable).
      s.state = State.STOPPED;
      return Optional.of(failure(s, "could not be started: " + e.getMessage()));
    }
    s.state = State.STARTING;
    s.deadline = clock.instant().plus(s.spec.registerTimeout());
    event(
        s,
        "started",
        "started "
            + s.spec.id()
            + " (pid "
            + s.process.pgid()
            + "): "
            + String.join(" ", s.spec.command()));
    return Optional.empty();
  }

  /** The component's process ended by itself: restart, finish or fail the run, per its policy. */
  private Optional<String> exited(Slot s) {
    int code = s.process.exitCode();
    // Anything the command left running in its group goes too.
    s.process.stop(settings.stopGrace());
    if (s.spec.restart() == RestartPolicy.NEVER) {
      s.state = State.STOPPED;
      return Optional.of(failure(s, "exited with code " + code + " (restart: never)"));
    }
    if (code == 0) {
      s.state = State.FINISHED;
      event(s, "finished", s.spec.id() + " finished (exit code 0); not restarted");
      return Optional.empty();
    }
    s.restarts++;
    Duration backoff = backoff(s.restarts);
    s.state = State.BACKOFF;
    s.restartAt = clock.instant().plus(backoff);
    event(
        s,
        "crashed",
        s.spec.id()
            + " exited with code "
            + code
            + "; restart "
            + s.restarts
            + " in "
            + backoff.toSeconds()
            + "s");
    return Optional.empty();
  }

  /** 1 s, 2 s, 4 s … up to 30 s. */
  static Duration backoff(int restart) {
    long seconds = 1L << Math.min(Math.max(restart - 1, 0), 5);
    return seconds > MAX_BACKOFF.toSeconds() ? MAX_BACKOFF : Duration.ofSeconds(seconds);
  }

  private void poll(Slot s, Instant now) {
    s.lastPoll = now;
    try {
      s.view = keel.getService(s.spec.id());
    } catch (KeelApiException e) {
      if (e.status() != 404)
        log.debug("service lookup failed component={} status={}", s.spec.id(), e.status());
      s.view = null;
    } catch (KeelException e) {
      log.debug("service lookup failed component={} reason={}", s.spec.id(), e.getMessage());
    }
  }

  private String failure(Slot s, String what) {
    log.warn("pipeline={} component={} event=failed reason=\"{}\"", spec.name(), s.spec.id(), what);
    StringBuilder b =
        new StringBuilder("component " + s.spec.id() + " " + what + "; stopping the pipeline.");
    List<String> tail = s.process == null ? List.of() : s.process.tail();
    Path file = workDir.relativize(logFile(s).toAbsolutePath());
    if (tail.isEmpty()) {
      b.append(" It wrote nothing (").append(file).append(").");
    } else {
      b.append(" Last lines of ").append(file).append(':');
      tail.forEach(line -> b.append("\n  ").append(line));
    }
    return b.toString();
  }

  // ---------------------------------------------------------------- stopping

  /**
   * Stops the started components in reverse start order; answers whether each one ended within the
   * grace period.
   */
  private boolean stopAll() {
    boolean clean = true;
    List<Slot> reverse = new ArrayList<>(slots);
    java.util.Collections.reverse(reverse);
    for (Slot s : reverse) {
      if (s.process == null || s.state == State.STOPPED || s.state == State.FINISHED) continue;
      if (s.process.exited()) {
        s.process.release();
      } else {
        console.message(
            "stopping " + s.spec.id() + " (SIGTERM to process group " + s.process.pgid() + ")");
        boolean ended = s.process.stop(settings.stopGrace());
        event(
            s,
            ended ? "stopped" : "killed",
            ended
                ? s.spec.id() + " stopped"
                : s.spec.id()
                    + " still ran after "
                    + settings.stopGrace().toSeconds()
                    + "s: killed (SIGKILL)");
        clean &= ended;
      }
      s.state = State.STOPPED;
      s.view = null;
    }
    return clean;
  }

  private void awaitStop(Duration d) {
    try {
      stop.await(d.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stopRequested = true;
    }
  }

  // ---------------------------------------------------------------- status and the pipeline's own
  // service

  private List<ComponentStatus> snapshot() {
    List<ComponentStatus> rows = new ArrayList<>();
    for (Slot s : slots) {
      ServiceView v = s.view;
      String state =
          switch (s.state) {
            case WAITING -> "waiting";
            case STARTING -> "starting";
            case BACKOFF -> "restarting";
            case FINISHED -> "finished";
            case STOPPED -> "stopped";
            case RUNNING -> v == null ? "unknown" : v.status().wire();
          };
      boolean live = s.state == State.RUNNING && v != null;
      rows.add(
          new ComponentStatus(
              s.spec.id(),
              state,
              s.restarts,
              live ? v.lastHeartbeatAt() : null,
              live ? StatusView.keyMetric(v.metrics()) : null));
    }
    return rows;
  }

  /**
   * The pipeline's health: the worst of its components'; one not up (starting, restarting…) counts
   * as unhealthy.
   */
  static HealthStatus worst(List<ComponentStatus> components) {
    HealthStatus worst = HealthStatus.HEALTHY;
    for (ComponentStatus c : components) {
      HealthStatus h =
          switch (c.state()) {
            case "healthy", "finished" -> HealthStatus.HEALTHY;
            case "degraded" -> HealthStatus.DEGRADED;
            default -> HealthStatus.UNHEALTHY;
          };
      if (h.ordinal() > worst.ordinal()) worst = h;
    }
    return worst;
  }

  private void showStatus() {
    List<ComponentStatus> rows = snapshot();
    HealthStatus health = worst(rows);
    console.status(spec.name(), health.wire(), rows);
    Instant now = clock.instant();
    if (!stopRequested && !now.isBefore(lastPipelineBeat.plus(settings.heartbeatInterval()))) {
      lastPipelineBeat = now;
      try {
        keel.heartbeat(
            spec.name(),
            health,
            Map.of(
                "components",
                (double) rows.size(),
                "restarts",
                (double) rows.stream().mapToInt(ComponentStatus::restarts).sum()),
            rows.stream().collect(Collectors.toMap(ComponentStatus::id, ComponentStatus::state)));
      } catch (KeelApiException e) {
        if (e.status() == 404) registerPipeline();
      } catch (KeelException e) {
        log.debug("pipeline heartbeat failed reason={}", e.getMessage());
      }
    }
  }

  private void registerPipeline() {
    try {
      keel.register(
          ServiceInfo.builder(spec.name())
              .name(spec.name())
              .type("pipeline")
              .metadata(
                  "components",
                  slots.stream().map(s -> s.spec.id()).collect(Collectors.joining(",")))
              .ttl(settings.heartbeatInterval().multipliedBy(3))
              .build());
    } catch (KeelException e) {
      log.warn("pipeline registration failed pipeline={} reason={}", spec.name(), e.getMessage());
    }
  }

  private void event(Slot s, String event, String line) {
    log.info(
        "pipeline={} component={} event={} restarts={}",
        spec.name(),
        s.spec.id(),
        event,
        s.restarts);
    console.message(line);
  }

  private Slot slot(String id) {
    return slots.stream().filter(s -> s.spec.id().equals(id)).findFirst().orElseThrow();
  }

  private Path logFile(Slot s) {
    return logsDir.resolve(s.spec.id() + ".log");
  }
}
