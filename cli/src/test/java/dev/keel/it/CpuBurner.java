package dev.keel.it;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Keeps cores of the machine busy while a fault test breaks a cluster: the failures these tests
 * guard against (a first seed node giving up on starved survivors, a lease renewal or a downing
 * decision that comes late) showed on a loaded machine and not on an idle one. Spinning threads at
 * normal priority in the test's own JVM compete with the nodes' JVMs and PostgreSQL for the cores.
 *
 * <p>{@code -Dkeel.it.cpu-burners=N} sets the number of threads (default 1: half of a 2-core CI
 * machine, which keeps the suite's time in bounds); 0 turns the burner off for a quick local run.
 */
final class CpuBurner implements AutoCloseable {

  static final String THREADS_PROPERTY = "keel.it.cpu-burners";

  /** Read by nobody; written so that the JIT cannot drop the spinning loop. */
  @SuppressWarnings("unused")
  private static volatile long sink;

  private final AtomicBoolean burning = new AtomicBoolean(true);
  private final List<Thread> threads = new ArrayList<>();

  private CpuBurner(int count) {
    for (int i = 0; i < count; i++) {
      Thread thread = new Thread(this::spin, "cpu-burner-" + i);
      thread.setDaemon(true);
      threads.add(thread);
      thread.start();
    }
  }

  /** As many spinning threads as {@value #THREADS_PROPERTY} says (default 1). */
  static CpuBurner start() {
    return new CpuBurner(Math.max(0, Integer.getInteger(THREADS_PROPERTY, 1)));
  }

  /** How many threads spin: for a test's printed timings, which mean little without it. */
  int threads() {
    return threads.size();
  }

  private void spin() {
    long x = 0;
    while (burning.get()) x += System.nanoTime() % 7;
    sink = x;
  }

  @Override
  public void close() {
    burning.set(false);
    for (Thread thread : threads) {
      try {
        thread.join(1_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
