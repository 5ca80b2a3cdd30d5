package dev.keel.workflow.execution;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Announces step bodies that run for a while. A step's start is journaled with its outcome (one
 * write for a quick step instead of two); a body still running after {@code after} has its start
 * journaled on its own, so that the execution shows it running and a crash counts it as an attempt.
 * One thread per node looks at the running bodies a few times a second: watching a body costs two
 * map operations, not a timer.
 */
public final class StepStartNotes implements AutoCloseable {

  /** How long a body runs before its start is journaled on its own. */
  public static final Duration DEFAULT_AFTER = Duration.ofMillis(250);

  /** A watched body; {@link #done()} when it returns or throws (idempotent). */
  public interface Running {
    void done();
  }

  private record Watched(long startNanos, Runnable announce, AtomicBoolean over) {}

  private final long afterNanos;
  private final ConcurrentHashMap<Long, Watched> watched = new ConcurrentHashMap<>();
  private final java.util.concurrent.atomic.AtomicLong ids =
      new java.util.concurrent.atomic.AtomicLong();
  private final ScheduledExecutorService ticker;

  public StepStartNotes(Duration after) {
    this.afterNanos = after.toNanos();
    this.ticker =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "keel-step-start-notes");
              t.setDaemon(true);
              return t;
            });
    long tick = Math.max(10, after.toMillis() / 4);
    ticker.scheduleWithFixedDelay(this::announceLongBodies, tick, tick, TimeUnit.MILLISECONDS);
  }

  /** Watches a body about to run; {@code announce} is called at most once, if it runs long. */
  Running watch(Runnable announce) {
    long id = ids.incrementAndGet();
    Watched w = new Watched(System.nanoTime(), announce, new AtomicBoolean());
    watched.put(id, w);
    return () -> {
      w.over().set(true);
      watched.remove(id);
    };
  }

  private void announceLongBodies() {
    long now = System.nanoTime();
    watched.forEach(
        (id, w) -> {
          if (now - w.startNanos() < afterNanos) return;
          watched.remove(id);
          if (!w.over().get()) {
            try {
              w.announce().run();
            } catch (RuntimeException e) {
              // A tell does not throw; should it, the body's outcome still records its start.
            }
          }
        });
  }

  @Override
  public void close() {
    ticker.shutdownNow();
  }
}
