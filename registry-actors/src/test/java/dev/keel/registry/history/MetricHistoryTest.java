package dev.keel.registry.history;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import dev.keel.persistence.DatabaseSettings;
import dev.keel.persistence.KeelDataSource;
import dev.keel.persistence.SchemaMigrations;
import dev.keel.persistence.TestDatabases;
import dev.keel.registry.service.ServiceObservation;
import dev.keel.registry.service.ServiceObserver;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The history's write path against a Flyway-migrated H2 and PostgreSQL: heartbeats enqueue, a flush
 * merges buckets (also into ones an earlier flush or another node wrote), the coarse tiers wait for
 * their interval, a full buffer drops and counts, stale observations and metrics beyond the cap are
 * not kept, and retention deletes each tier's expired buckets.
 */
class MetricHistoryTest {

  private static final Instant T0 = Instant.parse("2026-03-01T07:30:00Z");

  @TempDir java.nio.file.Path dir;

  private TestDatabases.FreshPostgres postgres;
  private HikariDataSource dataSource;
  private final AtomicReference<Instant> now = new AtomicReference<>(T0);
  private final Clock clock =
      new Clock() {
        @Override
        public java.time.ZoneId getZone() {
          return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
          return this;
        }

        @Override
        public Instant instant() {
          return now.get();
        }
      };

  @AfterEach
  void close() {
    if (dataSource != null) dataSource.close();
    if (postgres != null) postgres.close();
  }

  private MetricHistoryStore store(DatabaseSettings.Kind kind) {
    DatabaseSettings db;
    if (kind == DatabaseSettings.Kind.H2) {
      db = TestDatabases.h2(dir);
    } else {
      postgres = TestDatabases.freshPostgres();
      db = postgres.settings();
    }
    dataSource = KeelDataSource.create(db, "metric-history-test", 2);
    SchemaMigrations.migrate(dataSource, db.kind());
    return new MetricHistoryStore(dataSource, Runnable::run);
  }

  private static MetricHistorySettings settings(int bufferSize, int maxMetrics) {
    return new MetricHistorySettings(
        true,
        List.of(
            new MetricHistorySettings.Tier(Duration.ofSeconds(10), Duration.ofDays(1)),
            new MetricHistorySettings.Tier(Duration.ofMinutes(1), Duration.ofDays(7))),
        Duration.ofSeconds(5),
        Duration.ofSeconds(60),
        bufferSize,
        maxMetrics,
        Duration.ofMinutes(10));
  }

  private static ServiceObservation beat(String status, Instant at, Map<String, Double> metrics) {
    return new ServiceObservation("svc-1", "t-1", "source", status, metrics, at);
  }

  @ParameterizedTest
  @EnumSource(DatabaseSettings.Kind.class)
  void flushesMergeBucketsAndCoarseTiersWaitForTheirInterval(DatabaseSettings.Kind kind)
      throws Exception {
    MetricHistoryStore store = store(kind);
    MetricHistory history = new MetricHistory(settings(100, 32), store, clock);
    List<ServiceObservation> passedOn = new ArrayList<>();
    ServiceObserver observer =
        history.observing(
            new ServiceObserver() {
              @Override
              public void observe(ServiceObservation o) {
                passedOn.add(o);
              }

              @Override
              public void gone(String serviceId, String tenantId) {}
            });
    observer.observe(beat("healthy", T0.plusSeconds(1), Map.of("lag", 4.0)));
    observer.observe(beat("healthy", T0.plusSeconds(2), Map.of("lag", 2.0)));
    // Nothing arrived: a stale observation repeats the last metrics and is not a sample.
    observer.observe(beat("stale", T0.plusSeconds(3), Map.of("lag", 99.0)));
    assertThat(passedOn).hasSize(3);
    history.flush(false);
    // A second flush (or another node) into the same 10 s bucket merges with the first.
    observer.observe(beat("healthy", T0.plusSeconds(4), Map.of("lag", 6.0)));
    history.flush(false);

    List<BucketAggregate> fine = store.read("svc-1", 10, 0, null).toCompletableFuture().get();
    assertThat(fine).hasSize(1);
    BucketAggregate b = fine.get(0);
    assertThat(b.bucket()).isEqualTo(T0.getEpochSecond());
    assertThat(b.samples()).isEqualTo(3);
    assertThat(b.total()).isEqualTo(12.0);
    assertThat(b.min()).isEqualTo(2.0);
    assertThat(b.max()).isEqualTo(6.0);
    assertThat(b.last()).isEqualTo(6.0);
    assertThat(b.tenantId()).isEqualTo("t-1");
    // The minute tier is held in memory until its interval has passed.
    assertThat(store.read("svc-1", 60, 0, null).toCompletableFuture().get()).isEmpty();
    now.set(T0.plusSeconds(61));
    history.flush(false);
    List<BucketAggregate> minute = store.read("svc-1", 60, 0, null).toCompletableFuture().get();
    assertThat(minute).hasSize(1);
    assertThat(minute.get(0).samples()).isEqualTo(3);
    assertThat(minute.get(0).last()).isEqualTo(6.0);

    // A value reported earlier than the stored last one does not replace it.
    history.record(beat("healthy", T0.plusSeconds(3), Map.of("lag", 1.0)));
    history.flush(true);
    BucketAggregate merged = store.read("svc-1", 10, 0, "lag").toCompletableFuture().get().get(0);
    assertThat(merged.last()).isEqualTo(6.0);
    assertThat(merged.min()).isEqualTo(1.0);
    assertThat(history.rowsWritten()).isEqualTo(5);
    assertThat(history.failedFlushes()).isZero();
  }

  // Not a matter of SQL dialect: the embedded database only, to keep the build short.
  @ParameterizedTest
  @EnumSource(value = DatabaseSettings.Kind.class, names = "H2")
  void aFullBufferDropsAndCountsAndMetricsBeyondTheCapAreNotKept(DatabaseSettings.Kind kind)
      throws Exception {
    MetricHistoryStore store = store(kind);
    MetricHistory history = new MetricHistory(settings(2, 2), store, clock);
    Map<String, Double> many = new HashMap<>();
    for (String m : List.of("d", "a", "c", "b")) many.put(m, 1.0);
    for (int i = 0; i < 5; i++) history.record(beat("healthy", T0.plusSeconds(i), many));
    assertThat(history.dropped()).isEqualTo(3);
    history.flush(true);
    List<String> metrics =
        store.read("svc-1", 10, 0, null).toCompletableFuture().get().stream()
            .map(BucketAggregate::metric)
            .toList();
    assertThat(metrics).containsExactly("a", "b");
  }

  // Not a matter of SQL dialect: the embedded database only, to keep the build short.
  @ParameterizedTest
  @EnumSource(value = DatabaseSettings.Kind.class, names = "H2")
  void retentionDeletesEachTiersExpiredBuckets(DatabaseSettings.Kind kind) throws Exception {
    MetricHistoryStore store = store(kind);
    MetricHistory history = new MetricHistory(settings(100, 32), store, clock);
    history.record(beat("healthy", T0, Map.of("lag", 1.0)));
    history.flush(true);
    // Two days on: the 10 s tier (kept a day) is gone, the minute tier (a week) stays.
    now.set(T0.plus(Duration.ofDays(2)));
    history.retain();
    assertThat(store.read("svc-1", 10, 0, null).toCompletableFuture().get()).isEmpty();
    assertThat(store.read("svc-1", 60, 0, null).toCompletableFuture().get()).hasSize(1);
  }

  @ParameterizedTest
  @EnumSource(DatabaseSettings.Kind.class)
  void oneFlushOfMoreRowsThanOneStatementHolds(DatabaseSettings.Kind kind) throws Exception {
    MetricHistoryStore store = store(kind);
    MetricHistory history = new MetricHistory(settings(10_000, 32), store, clock);
    int services = MetricHistoryStore.ROWS_PER_STATEMENT + 7;
    for (int i = 0; i < services; i++)
      history.record(
          new ServiceObservation("svc-" + i, null, "source", "healthy", Map.of("lag", 1.0), T0));
    history.flush(false);
    assertThat(history.rowsWritten()).isEqualTo(services);
    assertThat(store.read("svc-" + (services - 1), 10, 0, null).toCompletableFuture().get())
        .hasSize(1);
  }
}
