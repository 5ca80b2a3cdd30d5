package dev.keel.node;

import java.util.concurrent.ForkJoinPool;

/**
 * Gives the JVM's common pool at least two threads. Pekko's Java API answers asks with Scala's
 * {@code CompletionStage}, which runs every callback ({@code thenApply}, {@code handle}, {@code
 * thenCompose}, ...) asynchronously on {@code CompletableFuture}'s default executor; that executor
 * is the common pool only when the pool has two threads or more, and the pool has one fewer than
 * the machine has cores. On a two-core machine (or a container limited to two CPUs) every callback
 * of every request therefore started a new thread: a GET of a workflow cost 2.7 times the CPU it
 * costs with the pool (README, Performance).
 */
public final class CommonPool {

  static final String PARALLELISM = "java.util.concurrent.ForkJoinPool.common.parallelism";

  private CommonPool() {}

  /**
   * Before anything uses the pool (first thing in {@code main}); a value set with {@code -D} wins.
   */
  public static void atLeastTwoThreads() {
    if (System.getProperty(PARALLELISM) == null && Runtime.getRuntime().availableProcessors() < 3) {
      System.setProperty(PARALLELISM, "2");
    }
  }

  /** Whether callbacks run on the pool rather than on a new thread each. */
  static boolean sharedByCallbacks() {
    return ForkJoinPool.getCommonPoolParallelism() > 1;
  }
}
