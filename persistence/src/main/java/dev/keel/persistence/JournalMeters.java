package dev.keel.persistence;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.Optional;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.setup.Setup;

/**
 * The journal's own meters: every batch of rows the JDBC journal writes (one batch carries the
 * events of many entities), its latency, its size and its failures. The journal's data access is
 * created by the plugin, reflectively; the node hands it the registry through the actor system's
 * setup ({@link RegistrySetup}), the way Pekko passes objects to extensions.
 */
public final class JournalMeters {

  /** Carries the node's meter registry into the actor system, for the journal plugin to find. */
  public static final class RegistrySetup extends Setup {
    private final MeterRegistry registry;

    public RegistrySetup(MeterRegistry registry) {
      this.registry = registry;
    }

    public MeterRegistry registry() {
      return registry;
    }
  }

  private final Timer writeLatency;
  private final DistributionSummary batchRows;
  private final Counter failedBatches;
  private final Counter failedRows;

  JournalMeters(MeterRegistry registry) {
    writeLatency =
        Timer.builder("keel.journal.batch.write.latency")
            .description(
                "one batch of journal rows written in one transaction, as the JDBC journal sends"
                    + " it")
            .publishPercentiles(0.5, 0.99)
            .register(registry);
    batchRows =
        DistributionSummary.builder("keel.journal.batch.rows")
            .description("rows (events of any entities) per journal write transaction")
            .publishPercentiles(0.5, 0.99)
            .register(registry);
    failedBatches =
        Counter.builder("keel.journal.batch.failures")
            .description(
                "journal write transactions that failed; their entities' writes failed with them")
            .register(registry);
    failedRows =
        Counter.builder("keel.journal.rows.failed")
            .description("rows in failed journal write transactions")
            .register(registry);
  }

  /**
   * The meters of {@code system}, when its setup carries a registry (a node does; test kits need
   * not).
   */
  static Optional<JournalMeters> of(ActorSystem system) {
    return Optional.ofNullable(system.settings().setup().get(RegistrySetup.class).orElse(null))
        .map(setup -> new JournalMeters(setup.registry()));
  }

  void written(long startNanos, int rows) {
    writeLatency.record(System.nanoTime() - startNanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    batchRows.record(rows);
  }

  void failed(long startNanos, int rows) {
    writeLatency.record(System.nanoTime() - startNanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    failedBatches.increment();
    failedRows.increment(rows);
  }
}
