package dev.keel.registry.alert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import dev.keel.persistence.BadCursorException;
import dev.keel.persistence.DatabaseSettings;
import dev.keel.persistence.IdCursor;
import dev.keel.persistence.KeelDataSource;
import dev.keel.persistence.KeelJdbcSession;
import dev.keel.persistence.ProjectionDeadLetters;
import dev.keel.persistence.ProjectionLag;
import dev.keel.persistence.ReadModelProjection;
import dev.keel.persistence.SchemaMigrations;
import dev.keel.persistence.TestDatabases;
import dev.keel.registry.alert.AlertReadModel.AlertSummary;
import dev.keel.registry.alert.AlertReadModel.CatalogRow;
import dev.keel.registry.alert.AlertReadModel.Page;
import dev.keel.registry.alert.AlertRule.Active;
import dev.keel.registry.alert.AlertRule.AlertCleared;
import dev.keel.registry.alert.AlertRule.AlertDeferred;
import dev.keel.registry.alert.AlertRule.AlertDefined;
import dev.keel.registry.alert.AlertRule.AlertDefinition;
import dev.keel.registry.alert.AlertRule.AlertDeleted;
import dev.keel.registry.alert.AlertRule.AlertFired;
import dev.keel.registry.alert.AlertRule.AlertUpdated;
import dev.keel.registry.alert.AlertRule.DeliveryStarted;
import dev.keel.registry.alert.AlertRule.Empty;
import dev.keel.registry.alert.AlertRule.Event;
import dev.keel.registry.alert.AlertRule.State;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.projection.eventsourced.EventEnvelope;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The alert list against a Flyway-migrated database, the embedded H2 and (when a server answers,
 * see {@link TestDatabases}) PostgreSQL: events go through the projection handler the way the
 * projection delivers them, and each row must show what the entity's state shows.
 */
class AlertReadModelTest {

  private static final Instant T0 = Instant.parse("2026-03-01T07:30:00.123Z");
  private static final String WEBHOOK = "https://hooks.example.com/keel?token=s3cr3t";

  @TempDir Path dir;

  private TestDatabases.FreshPostgres postgres;
  private HikariDataSource dataSource;
  private AlertReadModel readModel;
  private ReadModelProjection.Handler<Event> handler;
  private ProjectionLag lag;
  private final Map<String, Long> seqNrs = new HashMap<>();
  private final Map<String, State> states = new HashMap<>();
  private long offset;

  private void open(DatabaseSettings.Kind kind) {
    DatabaseSettings db;
    if (kind == DatabaseSettings.Kind.H2) {
      db = TestDatabases.h2(dir);
    } else {
      postgres = TestDatabases.freshPostgres();
      db = postgres.settings();
    }
    dataSource = KeelDataSource.create(db, "alert-read-model-test", 2);
    SchemaMigrations.migrate(dataSource, db.kind());
    readModel = new AlertReadModel(dataSource, Runnable::run);
    lag = new ProjectionLag(Clock.fixed(T0.plusSeconds(3600), ZoneOffset.UTC));
    handler =
        new ReadModelProjection.Handler<>(
            "alert-0",
            lag,
            AlertProjectionHandler::apply,
            ProjectionDeadLetters.unmetered("alerts"));
  }

  @AfterEach
  void close() {
    if (dataSource != null) dataSource.close();
    if (postgres != null) postgres.close();
  }

  @ParameterizedTest
  @EnumSource(DatabaseSettings.Kind.class)
  void aDefinedRuleIsListedWithTheFieldsOfItsView(DatabaseSettings.Kind kind) throws Exception {
    open(kind);
    project("disk-full", new AlertDefined(def("ingest-1", "metrics.disk > 0.9", 300, "acme"), T0));

    AlertSummary row = only();
    assertThat(row).isEqualTo(summaryOf("disk-full"));
    assertThat(row)
        .isEqualTo(
            new AlertSummary(
                "disk-full",
                "ingest-1",
                "metrics.disk > 0.9",
                WEBHOOK,
                300,
                "acme",
                T0,
                T0,
                0,
                null));
    assertThat(lag.snapshot()).containsKey("alert-0");
  }

  @ParameterizedTest
  @EnumSource(DatabaseSettings.Kind.class)
  void firingsUpdatesAndDeletesFollowTheEntity(DatabaseSettings.Kind kind) throws Exception {
    open(kind);
    project("stale", new AlertDefined(def("*", "status == stale", 0, null), T0));

    Instant firedAt = T0.plusSeconds(60);
    project(
        List.of(
            Map.entry("stale", new AlertFired(1, "a", "stale", Map.of(), firedAt, "alert.stale.1")),
            Map.entry("stale", new DeliveryStarted(1, "alert.stale.1", firedAt)),
            Map.entry(
                "stale",
                new AlertFired(
                    2, "b", "stale", Map.of("lag", 2.0), firedAt.plusSeconds(1), "alert.stale.2")),
            Map.entry("stale", new AlertCleared("a", firedAt.plusSeconds(2))),
            Map.entry(
                "stale",
                new AlertDeferred(
                    "a", "stale", Map.of(), firedAt.plusSeconds(3), firedAt.plusSeconds(3)))));
    AlertSummary fired = only();
    assertThat(fired).isEqualTo(summaryOf("stale"));
    assertThat(fired.firingCount()).isEqualTo(2);
    assertThat(fired.lastFiredAt()).isEqualTo(firedAt.plusSeconds(1));
    assertThat(fired.updatedAt()).isEqualTo(T0);

    Instant updatedAt = T0.plusSeconds(90);
    project("stale", new AlertUpdated(def("ingest-1", "status != healthy", 60, "acme"), updatedAt));
    AlertSummary updated = only();
    assertThat(updated).isEqualTo(summaryOf("stale"));
    assertThat(updated.service()).isEqualTo("ingest-1");
    assertThat(updated.condition()).isEqualTo("status != healthy");
    assertThat(updated.cooldownSeconds()).isEqualTo(60);
    assertThat(updated.tenantId()).isEqualTo("acme");
    assertThat(updated.updatedAt()).isEqualTo(updatedAt);
    assertThat(updated.firingCount()).isEqualTo(2);

    project("stale", new AlertDeleted(T0.plusSeconds(100)));
    assertThat(list(null, null, 50, null).items()).isEmpty();

    // Defined again after the delete: a fresh rule, as the entity sees it.
    Instant again = T0.plusSeconds(200);
    project("stale", new AlertDefined(def("*", "status == stale", 0, null), again));
    assertThat(only()).isEqualTo(summaryOf("stale"));
    assertThat(only().firingCount()).isZero();
    assertThat(only().lastFiredAt()).isNull();
    assertThat(only().createdAt()).isEqualTo(again);
  }

  @ParameterizedTest
  @EnumSource(DatabaseSettings.Kind.class)
  void pagesByIdWithACursorAndFiltersByServiceAndTenant(DatabaseSettings.Kind kind)
      throws Exception {
    open(kind);
    project(
        List.of(
            Map.entry("r-c", new AlertDefined(def("*", "status == stale", 0, null), T0)),
            Map.entry("r-a", new AlertDefined(def("ingest-1", "status == stale", 0, "acme"), T0)),
            Map.entry("r-e", new AlertDefined(def("ingest-1", "status != healthy", 0, null), T0)),
            Map.entry("r-b", new AlertDefined(def("*", "status == stale", 0, "acme"), T0)),
            Map.entry("r-d", new AlertDefined(def("ingest-2", "status == stale", 0, null), T0))));

    Page first = list(null, null, 2, null);
    assertThat(ids(first)).containsExactly("r-a", "r-b");
    Page second = list(null, null, 2, first.nextCursor());
    assertThat(ids(second)).containsExactly("r-c", "r-d");
    Page third = list(null, null, 2, second.nextCursor());
    assertThat(ids(third)).containsExactly("r-e");
    assertThat(third.nextCursor()).isNull();
    assertThat(list(null, null, 5, null).nextCursor()).isNull();

    assertThat(ids(list("ingest-1", null, 50, null))).containsExactly("r-a", "r-e");
    assertThat(ids(list("*", null, 50, null))).containsExactly("r-b", "r-c");
    assertThat(ids(list(null, "acme", 50, null))).containsExactly("r-a", "r-b");
    assertThat(ids(list("*", "acme", 50, null))).containsExactly("r-b");
    assertThat(ids(list("nobody", null, 50, null))).isEmpty();
    assertThat(ids(list("ingest-1", null, 1, IdCursor.encode("r-a")))).containsExactly("r-e");

    assertThat(readModel.allRules())
        .extracting(CatalogRow::id)
        .containsExactlyInAnyOrder("r-a", "r-b", "r-c", "r-d", "r-e");
    assertThat(readModel.allRules())
        .filteredOn(r -> r.id().equals("r-a"))
        .singleElement()
        .isEqualTo(new CatalogRow("r-a", "ingest-1", "status == stale", "acme", T0));
  }

  @Test
  void foreignCursorsAreRefused() throws Exception {
    open(DatabaseSettings.Kind.H2);
    for (String bad : List.of("not base64!", "%%%", "_w")) {
      assertThatThrownBy(() -> AlertReadModel.decodeCursor(bad))
          .isInstanceOf(BadCursorException.class);
    }
    assertThat(AlertReadModel.decodeCursor(IdCursor.encode("tenant:acme.rule-1")))
        .isEqualTo("tenant:acme.rule-1");
    assertThatThrownBy(() -> readModel.list(null, null, 10, "***"))
        .isInstanceOf(BadCursorException.class);
  }

  // ---------------------------------------------------------------- helpers

  private static AlertDefinition def(
      String service, String condition, int cooldown, String tenantId) {
    return new AlertDefinition(service, condition, WEBHOOK, cooldown, tenantId);
  }

  private void project(String id, Event event) throws Exception {
    project(List.of(Map.entry(id, event)));
  }

  /** One projection batch, committed the way the projection commits it (with its offset). */
  private void project(List<Map.Entry<String, Event>> events) throws Exception {
    List<EventEnvelope<Event>> envelopes = new ArrayList<>();
    for (Map.Entry<String, Event> e : events) {
      long seqNr = seqNrs.merge(e.getKey(), 1L, Long::sum);
      envelopes.add(
          EventEnvelope.create(
              Offset.sequence(++offset),
              "alert|" + e.getKey(),
              seqNr,
              e.getValue(),
              T0.toEpochMilli()));
      states.put(
          e.getKey(), AlertRule.apply(states.getOrDefault(e.getKey(), new Empty()), e.getValue()));
    }
    KeelJdbcSession session = new KeelJdbcSession(dataSource);
    try {
      handler.process(session, envelopes);
      session.commit();
    } finally {
      session.close();
    }
  }

  /** What the list must show for {@code id}: the entity's state after the same events. */
  private AlertSummary summaryOf(String id) {
    Active a = (Active) states.get(id);
    AlertDefinition d = a.def();
    return new AlertSummary(
        id,
        d.service(),
        d.condition(),
        d.webhook(),
        d.cooldownSeconds(),
        d.tenantId(),
        a.createdAt(),
        a.updatedAt(),
        a.firingCount(),
        a.lastFiredAt());
  }

  private Page list(String service, String tenantId, int limit, String cursor) throws Exception {
    return readModel.list(service, tenantId, limit, cursor).toCompletableFuture().get();
  }

  private AlertSummary only() throws Exception {
    List<AlertSummary> items = list(null, null, 50, null).items();
    assertThat(items).hasSize(1);
    return items.get(0);
  }

  private static List<String> ids(Page page) {
    return page.items().stream().map(AlertSummary::id).toList();
  }
}
