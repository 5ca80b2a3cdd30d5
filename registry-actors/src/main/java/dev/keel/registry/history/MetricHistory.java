package dev.keel.registry.history;

import dev.keel.registry.service.ServiceObservation;
import dev.keel.registry.service.ServiceObserver;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.LongAdder;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The metrics heartbeats carry, kept as time series outside the journal. A heartbeat only enqueues
 * its metrics (a bounded queue; when it is full they are dropped and counted, so that history never
 * slows heartbeats down); a flusher on the blocking dispatcher aggregates what it drains into
 * buckets per tier and merges the finest tier into {@code keel_metric_points} every flush interval
 * and the coarser ones, aggregated in memory meanwhile, every coarse flush interval. Buckets merge
 * in the database, so a shard moving to another node or a restart within a bucket adds up rather
 * than overwrites. Retention deletes each tier's expired buckets.
 */
public final class MetricHistory {

  private static final Logger log = LoggerFactory.getLogger(MetricHistory.class);

  /** What one heartbeat reported, as enqueued on the heartbeat's path. */
  private record Sample(String serviceId, String tenantId, Map<String, Double> metrics, long at) {}

  private final MetricHistorySettings settings;
  private final MetricHistoryStore store;
  private final Clock clock;
  private final ArrayBlockingQueue<Sample> queue;
  private final LongAdder dropped = new LongAdder();
  private final LongAdder rowsWritten = new LongAdder();
  private final LongAdder failedFlushes = new LongAdder();

  /** The coarser tiers' buckets since their last flush; only the flusher (synchronized) uses it. */
  private final Map<BucketAggregate.Key, BucketAggregate> coarse = new HashMap<>();

  private long coarseFlushedAt;

  public MetricHistory(MetricHistorySettings settings, MetricHistoryStore store, Clock clock) {
    this.settings = settings;
    this.store = store;
    this.clock = clock;
    this.queue = new ArrayBlockingQueue<>(settings.bufferSize());
    this.coarseFlushedAt = clock.millis();
  }

  public MetricHistorySettings settings() {
    return settings;
  }

  /** {@code next}, and before it this history recording every heartbeat's metrics. */
  public ServiceObserver observing(ServiceObserver next) {
    return new ServiceObserver() {
      @Override
      public void observe(ServiceObservation observation) {
        record(observation);
        next.observe(observation);
      }

      @Override
      public void gone(String serviceId, String tenantId) {
        next.gone(serviceId, tenantId);
      }
    };
  }

  /**
   * On a heartbeat's path: an enqueue and nothing else. A stale observation repeats the last
   * heartbeat's metrics (none arrived), so it is not a sample.
   */
  public void record(ServiceObservation o) {
    if (!settings.enabled() || o.metrics().isEmpty() || "stale".equals(o.status())) return;
    if (!queue.offer(new Sample(o.serviceId(), o.tenantId(), o.metrics(), o.at().toEpochMilli())))
      dropped.increment();
  }

  /** Heartbeats whose metrics were dropped because the queue was full. */
  public long dropped() {
    return dropped.sum();
  }

  /** Bucket rows merged into the database. */
  public long rowsWritten() {
    return rowsWritten.sum();
  }

  /** Flushes that failed (their rows are lost and counted here). */
  public long failedFlushes() {
    return failedFlushes.sum();
  }

  /**
   * Drains the queue and writes the finest tier; the coarser tiers too when their interval has
   * passed or {@code everything}.
   */
  public synchronized void flush(boolean everything) {
    List<Sample> drained = new ArrayList<>();
    queue.drainTo(drained);
    Map<BucketAggregate.Key, BucketAggregate> finest = new HashMap<>();
    List<MetricHistorySettings.Tier> tiers = settings.tiers();
    for (Sample s : drained) {
      int kept = 0;
      for (Map.Entry<String, Double> m : new TreeMap<>(s.metrics()).entrySet()) {
        if (kept++ >= settings.maxMetricsPerService()) break;
        for (int t = 0; t < tiers.size(); t++) {
          BucketAggregate a =
              BucketAggregate.of(
                  s.serviceId(),
                  s.tenantId(),
                  m.getKey(),
                  tiers.get(t).resolutionSeconds(),
                  m.getValue(),
                  s.at());
          (t == 0 ? finest : coarse).merge(a.key(), a, BucketAggregate::merge);
        }
      }
    }
    write(new ArrayList<>(finest.values()));
    long now = clock.millis();
    if (everything || now - coarseFlushedAt >= settings.coarseFlushInterval().toMillis()) {
      coarseFlushedAt = now;
      List<BucketAggregate> rows = new ArrayList<>(coarse.values());
      coarse.clear();
      write(rows);
    }
  }

  private void write(List<BucketAggregate> rows) {
    if (rows.isEmpty()) return;
    try {
      store.merge(rows);
      rowsWritten.add(rows.size());
    } catch (SQLException | RuntimeException e) {
      failedFlushes.increment();
      log.warn(
          "metric history flush failed rows={} error={}",
          rows.size(),
          e.getClass().getSimpleName());
    }
  }

  /** Deletes every tier's buckets older than its retention. */
  public void retain() {
    long nowSeconds = clock.millis() / 1000;
    for (MetricHistorySettings.Tier t : settings.tiers()) {
      try {
        int deleted =
            store.deleteBefore(t.resolutionSeconds(), nowSeconds - t.retention().toSeconds());
        if (deleted > 0)
          log.debug("metric history expired rows={} resolution={}", deleted, t.resolution());
      } catch (SQLException e) {
        log.warn(
            "metric history retention failed resolution={} error={}",
            t.resolution(),
            e.getClass().getSimpleName());
      }
    }
  }

  /**
   * Flushes and applies retention on the blocking dispatcher from now on, and flushes everything
   * once more when the node shuts down (before the read-model pool closes).
   */
  public MetricHistory start(ActorSystem<?> system) {
    if (!settings.enabled()) return this;
    var blocking =
        system.dispatchers().lookup(DispatcherSelector.fromConfig("keel.blocking-dispatcher"));
    var scheduler = system.classicSystem().scheduler();
    scheduler.scheduleWithFixedDelay(
        settings.flushInterval(), settings.flushInterval(), () -> flush(false), blocking);
    scheduler.scheduleWithFixedDelay(
        Duration.ofSeconds(30), settings.retentionInterval(), this::retain, blocking);
    CoordinatedShutdown.get(Adapter.toClassic(system))
        .addTask(
            CoordinatedShutdown.PhaseBeforeActorSystemTerminate(),
            "flush-metric-history",
            () ->
                CompletableFuture.supplyAsync(
                    () -> {
                      flush(true);
                      return Done.getInstance();
                    },
                    blocking));
    return this;
  }

  /** A service's history (see {@link HistoryQuery}); rows of an earlier owner of the id skipped. */
  public CompletionStage<HistoryQuery.History> query(
      String serviceId, String tenantId, HistoryQuery.Plan plan) {
    return store
        .read(serviceId, plan.resolution().toSeconds(), plan.fromBucket(), plan.metric())
        .thenApply(rows -> HistoryQuery.answer(serviceId, tenantId, plan, rows));
  }
}
