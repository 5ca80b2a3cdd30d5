package dev.keel.registry.alert;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import dev.keel.persistence.DatabaseSettings;
import dev.keel.persistence.KeelDataSource;
import dev.keel.persistence.ManualClock;
import dev.keel.persistence.SchemaMigrations;
import dev.keel.persistence.TestDatabases;
import dev.keel.registry.alert.AlertCatalog.Rule;
import dev.keel.registry.alert.AlertReadModel.CatalogRow;
import dev.keel.registry.alert.AlertRule.AlertDefined;
import dev.keel.registry.alert.AlertRule.AlertDefinition;
import dev.keel.registry.alert.AlertRule.AlertView;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AlertCatalogTest {

  static final Instant T0 = Instant.parse("2026-03-01T07:30:00.123456789Z");
  private static final Duration GRACE = Duration.ofSeconds(30);

  private final ManualClock clock = new ManualClock(T0);
  private final AlertCatalog catalog = new AlertCatalog(null, clock, GRACE);

  static AlertView view(
      String id, String service, String condition, String tenantId, Instant updatedAt) {
    return new AlertView(
        id,
        service,
        condition,
        "https://h.example/x",
        null,
        0,
        tenantId,
        updatedAt,
        updatedAt,
        List.of(),
        List.of(),
        0,
        null,
        List.of());
  }

  private static CatalogRow row(
      String id, String service, String condition, String tenantId, Instant updatedAt) {
    return new CatalogRow(id, service, condition, tenantId, updatedAt);
  }

  private List<String> ids(String serviceId, String tenantId) {
    return catalog.rulesFor(serviceId, tenantId).stream().map(Rule::id).sorted().toList();
  }

  @Test
  void rulesForMatchTheServiceOrStarAndTheTenant() {
    catalog.refresh(
        List.of(
            row("exact", "ingest-1", "status != healthy", null, T0),
            row("any", "*", "status == stale", null, T0),
            row("acme-any", "*", "status == stale", "acme", T0),
            row("acme-exact", "ingest-1", "status == stale", "acme", T0),
            row("other", "ingest-2", "status == stale", null, T0)));

    assertThat(ids("ingest-1", null)).containsExactly("any", "exact");
    assertThat(ids("ingest-1", "acme")).containsExactly("acme-any", "acme-exact", "any", "exact");
    assertThat(ids("ingest-1", "globex")).containsExactly("any", "exact");
    assertThat(ids("ingest-3", "acme")).containsExactly("acme-any", "any");
    assertThat(catalog.all()).hasSize(5);
    assertThat(catalog.rulesFor("ingest-1", null))
        .filteredOn(r -> r.id().equals("exact"))
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.condition()).isEqualTo(AlertCondition.parse("status != healthy"));
              assertThat(r.version()).isEqualTo(Instant.parse("2026-03-01T07:30:00.123456Z"));
            });
  }

  @Test
  void aRulePutHereAppliesAtOnceAndWinsOverALaggingListForTheGrace() {
    catalog.put(view("r", "ingest-1", "status != healthy", null, T0));
    assertThat(ids("ingest-1", null)).containsExactly("r");

    clock.advance(Duration.ofSeconds(29));
    catalog.refresh(List.of()); // the projection has not written the row yet
    assertThat(ids("ingest-1", null)).containsExactly("r");

    // Redefined here; the list still has the older version.
    Instant later = T0.plusSeconds(29);
    catalog.put(view("r", "ingest-2", "status == stale", null, later));
    catalog.refresh(List.of(row("r", "ingest-1", "status != healthy", null, T0)));
    assertThat(ids("ingest-1", null)).isEmpty();
    assertThat(ids("ingest-2", null)).containsExactly("r");

    // The list catches up: its row takes over, and stays when the grace is over.
    catalog.refresh(List.of(row("r", "ingest-2", "status == stale", null, later)));
    clock.advance(Duration.ofMinutes(5));
    catalog.refresh(List.of(row("r", "ingest-2", "status == stale", null, later)));
    assertThat(ids("ingest-2", null)).containsExactly("r");
  }

  @Test
  void aRulePutHereThatNeverReachesTheListIsDroppedAfterTheGrace() {
    catalog.put(view("r", "ingest-1", "status != healthy", null, T0));
    clock.advance(GRACE.plusSeconds(1));
    catalog.refresh(List.of());
    assertThat(catalog.all()).isEmpty();
  }

  @Test
  void aNewerVersionInTheListWinsOverAnOlderPutHere() {
    catalog.put(view("r", "ingest-1", "status != healthy", null, T0));
    catalog.refresh(List.of(row("r", "ingest-9", "status == stale", null, T0.plusSeconds(1))));
    assertThat(ids("ingest-9", null)).containsExactly("r");
    assertThat(ids("ingest-1", null)).isEmpty();
  }

  @Test
  void aRuleDeletedHereStopsAtOnceAndALaggingListDoesNotBringItBack() {
    catalog.refresh(List.of(row("r", "*", "status == stale", null, T0)));
    clock.advance(Duration.ofSeconds(1));
    catalog.remove("r");
    assertThat(catalog.all()).isEmpty();

    catalog.refresh(List.of(row("r", "*", "status == stale", null, T0)));
    assertThat(catalog.all()).isEmpty();

    // Defined again elsewhere after the delete: the list's newer row applies.
    catalog.refresh(List.of(row("r", "*", "status == degraded", null, T0.plusSeconds(5))));
    assertThat(catalog.all())
        .extracting(r -> r.condition().toString())
        .containsExactly("status == degraded");
  }

  @Test
  void listenersHearWhenRulesComeAndGo() {
    List<Set<String>> heard = new ArrayList<>();
    catalog.onChange(heard::add);
    catalog.refresh(List.of(row("a", "*", "status == stale", null, T0)));
    catalog.refresh(List.of(row("a", "*", "status == stale", null, T0)));
    catalog.refresh(List.of(row("a", "*", "status == degraded", null, T0.plusSeconds(1))));
    catalog.put(view("b", "x", "status == stale", null, T0));
    catalog.remove("a");
    assertThat(heard).containsExactly(Set.of("a"), Set.of("a", "b"), Set.of("b"));
  }

  @Test
  void aRowWhoseConditionDoesNotParseIsSkipped() {
    catalog.refresh(
        List.of(
            row("bad", "*", "status ~ x", null, T0),
            row("good", "*", "status == stale", null, T0)));
    assertThat(catalog.all()).extracting(Rule::id).containsExactly("good");
  }

  @Test
  void readsTheListFromTheDatabaseAndKeepsWhatItKnowsWhenItCannot(@TempDir Path dir)
      throws Exception {
    DatabaseSettings db = TestDatabases.h2(dir);
    HikariDataSource ds = KeelDataSource.create(db, "alert-catalog-test", 2);
    SchemaMigrations.migrate(ds, db.kind());
    try (Connection c = ds.getConnection()) {
      AlertProjectionHandler.apply(
          c,
          "from-table",
          new AlertDefined(
              new AlertDefinition("*", "status == stale", "https://h.example/x", 0, null), T0));
    }
    AlertCatalog fromTable = new AlertCatalog(new AlertReadModel(ds, Runnable::run), clock, GRACE);

    fromTable.refreshFromSource();
    assertThat(fromTable.rulesFor("any", null)).extracting(Rule::id).containsExactly("from-table");

    ds.close(); // the database is gone: the rules known so far stay
    fromTable.refreshFromSource();
    assertThat(fromTable.rulesFor("any", null)).extracting(Rule::id).containsExactly("from-table");
  }
}
