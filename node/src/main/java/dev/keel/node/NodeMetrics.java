package dev.keel.node;

import dev.keel.http.HttpMetrics;
import dev.keel.persistence.ClusterStatus;
import dev.keel.persistence.ProjectionLag;
import dev.keel.registry.service.ServiceMetrics;
import dev.keel.workflow.execution.WorkflowMetrics;
import dev.keel.workflow.execution.WorkflowRunner;
import dev.keel.workflow.schedule.ScheduleMetrics;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.DoubleSupplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's meters: one Prometheus registry with the JVM's binders, the counters the entities and
 * routes increment ({@link WorkflowMetrics}, {@link ScheduleMetrics}, {@link ServiceMetrics},
 * {@link HttpMetrics}), and gauges of what costs a query (entity counts, cluster shards) refreshed
 * in the background every {@link #REFRESH}, so a scrape never touches the database. Also the
 * figures of {@code GET /api/v1/metrics}.
 */
public final class NodeMetrics implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(NodeMetrics.class);
  static final Duration REFRESH = Duration.ofSeconds(10);
  static final Duration RATE_WINDOW = Duration.ofSeconds(60);
  static final Duration RATE_SAMPLE = Duration.ofSeconds(5);

  /**
   * {@code GET /api/v1/metrics}. Entity counts and projection lag are cluster-wide; rates are
   * {@code rates.node}'s.
   */
  public record Figures(
      Instant at,
      Map<String, Map<String, Long>> entities,
      Rates rates,
      Map<String, EntityCounts.Lag> projections,
      int clusterMembers) {}

  /** Per second over the last {@code windowSeconds} on {@code node}. */
  public record Rates(
      String node,
      double windowSeconds,
      double workflowsStarted,
      double workflowsCompleted,
      double workflowsFailed,
      double stepRetries,
      double heartbeats,
      double httpRequests) {}

  private final PrometheusMeterRegistry registry;
  private final JvmGcMetrics gc = new JvmGcMetrics();
  private final WorkflowMetrics workflows;
  private final ScheduleMetrics schedules;
  private final ServiceMetrics services;
  private final HttpMetrics http;
  private final Map<String, AtomicLong> entityGauges = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> shardGauges = new ConcurrentHashMap<>();

  /**
   * Projection instances whose lag gauge is registered: Micrometer warns when one is registered
   * again.
   */
  private final java.util.Set<String> lagGauges = ConcurrentHashMap.newKeySet();

  private final Deque<double[]> samples = new ArrayDeque<>();

  public NodeMetrics() {
    this("", "");
  }

  /**
   * With {@code instance} and {@code region} as tags of every meter (each when not empty), set
   * before the first meter so that all carry them.
   */
  public NodeMetrics(String instance, String region) {
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    List<io.micrometer.core.instrument.Tag> tags = new java.util.ArrayList<>();
    if (!instance.isEmpty()) tags.add(io.micrometer.core.instrument.Tag.of("instance", instance));
    if (!region.isEmpty()) tags.add(io.micrometer.core.instrument.Tag.of("region", region));
    if (!tags.isEmpty()) registry.config().commonTags(tags);
    workflows = new WorkflowMetrics(registry);
    schedules = new ScheduleMetrics(registry);
    services = new ServiceMetrics(registry);
    http = new HttpMetrics(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new JvmMemoryMetrics().bindTo(registry);
    gc.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
  }

  public MeterRegistry registry() {
    return registry;
  }

  public WorkflowMetrics workflows() {
    return workflows;
  }

  public ScheduleMetrics schedules() {
    return schedules;
  }

  public ServiceMetrics services() {
    return services;
  }

  public HttpMetrics http() {
    return http;
  }

  /** The Prometheus text format (0.0.4). */
  /** Counts of the metric history: rows written, heartbeats dropped, failed flushes. */
  public void metricHistory(dev.keel.registry.history.MetricHistory history) {
    io.micrometer.core.instrument.FunctionCounter.builder(
            "keel.metric.history.rows.written", history, h -> h.rowsWritten())
        .description("metric history bucket rows merged into the database")
        .register(registry);
    io.micrometer.core.instrument.FunctionCounter.builder(
            "keel.metric.history.dropped", history, h -> h.dropped())
        .description("heartbeats whose metrics were dropped because the history buffer was full")
        .register(registry);
    io.micrometer.core.instrument.FunctionCounter.builder(
            "keel.metric.history.failed.flushes", history, h -> h.failedFlushes())
        .description("metric history writes that failed (their rows are lost)")
        .register(registry);
  }

  public String scrape() {
    return registry.scrape();
  }

  /**
   * What needs the running node: its runner, projections, cluster and read models; refreshed from
   * now on.
   */
  void start(
      ActorSystem<?> system,
      WorkflowRunner runner,
      ProjectionLag lag,
      ClusterStatus cluster,
      EntityCounts counts) {
    var blocking =
        system
            .dispatchers()
            .lookup(
                org.apache.pekko.actor.typed.DispatcherSelector.fromConfig(
                    "keel.blocking-dispatcher"));
    Gauge.builder("keel.workflows.running", runner, WorkflowRunner::runningCount)
        .description("workflow attempts running step bodies on this node")
        .register(registry);
    Gauge.builder("keel.workflows.queued", runner, WorkflowRunner::queuedCount)
        .description("workflow attempts waiting for a slot under a concurrency cap on this node")
        .register(registry);
    Cluster self = Cluster.get(system);
    for (String status : List.of("joining", "weaklyUp", "up", "leaving", "exiting", "down")) {
      Gauge.builder("keel.cluster.members", self, c -> membersWith(c, status))
          .tag("status", status)
          .description("cluster members as this node sees them, by status")
          .register(registry);
    }
    Gauge.builder("keel.cluster.unreachable", self, c -> c.state().getUnreachable().size())
        .description("members this node cannot reach")
        .register(registry);
    String selfAddress = self.selfMember().address().toString();
    samples.add(sample());
    system
        .scheduler()
        .scheduleAtFixedRate(
            Duration.ZERO, REFRESH, () -> refresh(counts, cluster, lag, selfAddress), blocking);
    system.scheduler().scheduleAtFixedRate(RATE_SAMPLE, RATE_SAMPLE, this::keepSample, blocking);
  }

  private static double membersWith(Cluster cluster, String status) {
    int n = 0;
    for (Member m : cluster.state().getMembers()) {
      if (ClusterStatus.statusName(m.status()).equals(status)) n++;
    }
    return n;
  }

  private void refresh(
      EntityCounts counts, ClusterStatus cluster, ProjectionLag lag, String selfAddress) {
    try {
      Map<String, Map<String, Long>> now = counts.byTypeAndStatus();
      java.util.Set<String> seen = new java.util.HashSet<>();
      now.forEach(
          (type, byStatus) ->
              byStatus.forEach(
                  (status, n) -> {
                    seen.add(type + "/" + status);
                    gauge(
                            entityGauges,
                            type + "/" + status,
                            key ->
                                Gauge.builder(
                                        "keel.entities", entityGauges.get(key), AtomicLong::get)
                                    .tag("type", type)
                                    .tag("status", status)
                                    .description(
                                        "entities by type and status in the read models"
                                            + " (cluster-wide)")
                                    .register(registry))
                        .set(n);
                  }));
      // A status nobody has any more reads 0 rather than its last count.
      entityGauges.forEach(
          (key, gauge) -> {
            if (!seen.contains(key)) gauge.set(0);
          });
    } catch (Exception e) {
      log.debug("entity counts not refreshed: {}", e.getMessage());
    }
    lag.snapshot()
        .keySet()
        .forEach(
            tag -> {
              if (lagGauges.add(tag)) registerLag(lag, tag);
            });
    cluster
        .view()
        .thenAccept(
            view ->
                view.shardCounts()
                    .forEach(
                        (type, byMember) -> {
                          gauge(
                                  shardGauges,
                                  "shards/" + type,
                                  key ->
                                      Gauge.builder(
                                              "keel.cluster.shards",
                                              shardGauges.get(key),
                                              AtomicLong::get)
                                          .tag("type", type)
                                          .description("shards of this entity type on this node")
                                          .register(registry))
                              .set(byMember.getOrDefault(selfAddress, 0));
                          gauge(
                                  shardGauges,
                                  "entities/" + type,
                                  key ->
                                      Gauge.builder(
                                              "keel.cluster.entities",
                                              shardGauges.get(key),
                                              AtomicLong::get)
                                          .tag("type", type)
                                          .description("live entities of this type on this node")
                                          .register(registry))
                              .set(
                                  view.shards()
                                      .getOrDefault(type, Map.of())
                                      .getOrDefault(selfAddress, 0));
                        }));
  }

  private static AtomicLong gauge(
      Map<String, AtomicLong> gauges, String key, java.util.function.Consumer<String> register) {
    AtomicLong[] created = new AtomicLong[1];
    AtomicLong value = gauges.computeIfAbsent(key, k -> created[0] = new AtomicLong());
    if (created[0] != null) register.accept(key);
    return value;
  }

  private void registerLag(ProjectionLag lag, String tag) {
    Gauge.builder(
            "keel.projection.lag",
            lag,
            l -> {
              Duration d = l.snapshot().get(tag);
              return d == null ? Double.NaN : d.toMillis() / 1000.0;
            })
        .tag("projection", tag)
        .baseUnit("seconds")
        .description(
            "age of the newest event this node's instance of the projection handled, when it"
                + " handled it")
        .register(registry);
  }

  // ---------------------------------------------------------------- rates over the last minute

  private double[] sample() {
    DoubleSupplier[] counters = {
      () -> count("keel.workflows.started"),
      () -> count("keel.workflows.completed"),
      () -> count("keel.workflows.failed"),
      () -> count("keel.workflows.step.retries"),
      () -> count("keel.services.heartbeats"),
      http::total
    };
    double[] values = new double[counters.length + 1];
    values[0] = System.nanoTime();
    for (int i = 0; i < counters.length; i++) values[i + 1] = counters[i].getAsDouble();
    return values;
  }

  private double count(String name) {
    var counter = registry.find(name).counter();
    return counter == null ? 0 : counter.count();
  }

  private synchronized void keepSample() {
    samples.addLast(sample());
    // Keep one sample at least the window old, so that rates cover the whole minute once it has
    // passed.
    while (samples.size() > 2) {
      java.util.Iterator<double[]> it = samples.iterator();
      it.next();
      if (System.nanoTime() - it.next()[0] < RATE_WINDOW.toNanos()) break;
      samples.removeFirst();
    }
  }

  synchronized Rates rates(String node) {
    double[] now = sample();
    double[] oldest = samples.isEmpty() ? now : samples.peekFirst();
    double seconds = Math.max(1e-3, (now[0] - oldest[0]) / 1e9);
    double[] perSecond = new double[now.length];
    for (int i = 1; i < now.length; i++)
      perSecond[i] = Math.round((now[i] - oldest[i]) / seconds * 1000) / 1000.0;
    return new Rates(
        node,
        Math.round(seconds * 10) / 10.0,
        perSecond[1],
        perSecond[2],
        perSecond[3],
        perSecond[4],
        perSecond[5],
        perSecond[6]);
  }

  /** The JSON figures, read now (entity counts and lag from the database, on {@code blocking}). */
  CompletionStage<Figures> figures(
      ActorSystem<?> system, EntityCounts counts, Clock clock, Executor blocking) {
    Cluster cluster = Cluster.get(system);
    String node = cluster.selfMember().address().toString();
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            Instant at = clock.instant();
            return new Figures(
                at,
                counts.byTypeAndStatus(),
                rates(node),
                counts.projectionLag(at),
                members(cluster));
          } catch (java.sql.SQLException e) {
            throw new java.util.concurrent.CompletionException(e);
          }
        },
        blocking);
  }

  private static int members(Cluster cluster) {
    int n = 0;
    for (Member ignored : cluster.state().getMembers()) n++;
    return n;
  }

  @Override
  public void close() {
    gc.close();
    registry.close();
  }
}
