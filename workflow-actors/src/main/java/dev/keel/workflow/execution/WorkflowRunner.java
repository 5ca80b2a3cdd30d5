package dev.keel.workflow.execution;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.ToIntFunction;

/**
 * The node's step runner: a dedicated pool that runs workflow attempts (their step bodies block),
 * never on Pekko's dispatchers. At most {@code maxConcurrent} attempts run at once on this node,
 * and at most a workflow's own cap of one workflow; the rest wait in arrival order, without
 * blocking any actor, and show {@code queued} until they get a slot.
 */
public final class WorkflowRunner implements AutoCloseable {

  private final int maxConcurrent;
  private final ToIntFunction<String> capOfWorkflow;
  private final ExecutorService pool;
  private final ArrayDeque<AttemptProtocol.Attempt> waiting = new ArrayDeque<>();
  private final Map<String, Integer> runningByWorkflow = new HashMap<>();
  private int running;
  private final StepStartNotes startNotes = new StepStartNotes(StepStartNotes.DEFAULT_AFTER);

  /**
   * @param capOfWorkflow the per-node cap of a workflow name, 0 for none
   */
  public WorkflowRunner(int maxConcurrent, ToIntFunction<String> capOfWorkflow) {
    this.maxConcurrent = maxConcurrent;
    this.capOfWorkflow = capOfWorkflow;
    AtomicInteger n = new AtomicInteger();
    this.pool =
        new ThreadPoolExecutor(
            maxConcurrent,
            maxConcurrent,
            60,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            r -> {
              Thread t = new Thread(r, "keel-workflow-step-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
  }

  public static WorkflowRunner forSettings(
      WorkflowSettings settings, NodeWorkflowRegistry registry) {
    return new WorkflowRunner(
        settings.maxConcurrent(),
        name -> {
          Integer configured = settings.maxConcurrentPerWorkflow().get(name);
          if (configured != null) return configured;
          return registry.find(name).map(w -> w.maxConcurrent()).orElse(0);
        });
  }

  void submit(AttemptProtocol.Attempt attempt) {
    synchronized (this) {
      waiting.addLast(attempt);
    }
    dispatch();
  }

  private void dispatch() {
    synchronized (this) {
      Iterator<AttemptProtocol.Attempt> it = waiting.iterator();
      while (running < maxConcurrent && it.hasNext()) {
        AttemptProtocol.Attempt a = it.next();
        String wf = a.data().workflow();
        int cap = capOfWorkflow.applyAsInt(wf);
        int current = runningByWorkflow.getOrDefault(wf, 0);
        if (cap > 0 && current >= cap) continue;
        it.remove();
        running++;
        runningByWorkflow.put(wf, current + 1);
        pool.execute(
            () -> {
              try {
                ReplayingContext.run(a);
              } finally {
                release(wf);
              }
            });
      }
    }
  }

  private void release(String workflow) {
    synchronized (this) {
      running--;
      runningByWorkflow.merge(workflow, -1, Integer::sum);
    }
    dispatch();
  }

  public synchronized int runningCount() {
    return running;
  }

  public synchronized int queuedCount() {
    return waiting.size();
  }

  /** Where this node's attempts announce step bodies that run long. */
  StepStartNotes startNotes() {
    return startNotes;
  }

  @Override
  public void close() {
    pool.shutdownNow();
    startNotes.close();
  }
}
