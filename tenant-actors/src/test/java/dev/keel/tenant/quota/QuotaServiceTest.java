package dev.keel.tenant.quota;

import static dev.keel.persistence.ReadModelSql.ts;
import static dev.keel.persistence.ReadModelSql.update;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.persistence.DatabaseSettings;
import dev.keel.persistence.TestDatabases;
import dev.keel.tenant.TenantPlanLookup.TenantPlan;
import dev.keel.tenant.TenantReadModel;
import dev.keel.tenant.TenantSettings;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Instant;
import java.time.YearMonth;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Quotas counted from the read-model tables of a Flyway-migrated database, the embedded H2 and
 * (when a server answers, see {@link TestDatabases}) PostgreSQL: rows are written the way the
 * projections write them; what a new ledger starts from, and each tenant's usage of a month.
 */
class QuotaServiceTest {

  private static final Instant NOW = Instant.parse("2026-11-30T23:59:00Z");
  private static final Map<String, TenantSettings.Plan> PLANS =
      Map.of(
          "free", new TenantSettings.Plan("free", 2, 3, 1),
          "enterprise", new TenantSettings.Plan("enterprise", -1, -1, -1));
  private static final String ACME = "tacmeacmeacmeacmeacmeacmeac";
  private static final String GLOBEX = "tglobexglobexglobexglobexgl";
  private static final String BIG = "tbigbigbigbigbigbigbigbigbi";
  private static final String LEGACY = "tlegacylegacylegacylegacyle";

  @TempDir Path dir;

  private TestDatabases.Migrated database;
  private DataSource dataSource;
  private QuotaService quotas;
  private final Map<String, TenantPlan> tenants =
      Map.of(
          ACME, new TenantPlan(ACME, "acme", "free"),
          GLOBEX, new TenantPlan(GLOBEX, "globex", "free"),
          BIG, new TenantPlan(BIG, "big", "enterprise"),
          LEGACY, new TenantPlan(LEGACY, "legacy", "gold"));

  private void open(DatabaseSettings.Kind kind) {
    database = TestDatabases.migrated(kind, dir, "quota-test");
    dataSource = database.dataSource();
    quotas =
        new QuotaService(
            PLANS, new TenantReadModel(dataSource, Runnable::run), dataSource, Runnable::run);
  }

  @AfterEach
  void close() {
    if (database != null) database.close();
  }

  @ParameterizedTest
  @EnumSource(DatabaseSettings.Kind.class)
  void aLedgerStartsFromWhatTheReadModelsHold(DatabaseSettings.Kind kind) throws Exception {
    open(kind);
    service("ledger", ACME);
    service("billing", ACME);
    service("search", GLOBEX);
    workflow("october", ACME, Instant.parse("2026-10-31T23:59:59Z"));
    workflow("november-1", ACME, NOW);
    workflow("november-2", ACME, NOW);
    workflow("globex", GLOBEX, NOW);

    assertThat(baseline(ACME, Quota.SERVICES).resourceIds())
        .containsExactlyInAnyOrder("ledger", "billing");
    assertThat(baseline(ACME, Quota.WORKFLOW_STARTS).used()).as("this month's, UTC").isEqualTo(2);
    assertThat(baseline(GLOBEX, Quota.DOMAINS).resourceIds()).isEmpty();
    assertThat(baseline(BIG, Quota.SERVICES).resourceIds()).isEmpty();
  }

  private QuotaAdmission.Baseline baseline(String tenantId, Quota quota) {
    return quotas.baseline(tenantId, quota, YearMonth.of(2026, 11)).toCompletableFuture().join();
  }

  @ParameterizedTest
  @EnumSource(DatabaseSettings.Kind.class)
  void usageOfAMonthAndTheTenantsToCheck(DatabaseSettings.Kind kind) throws Exception {
    open(kind);
    service("one", ACME);
    service("two", ACME);
    service("three", ACME); // a burst past the projection lag
    workflow("october", ACME, Instant.parse("2026-10-31T23:59:59Z"));
    workflow("november", ACME, NOW);
    service("x", BIG);
    tenant(ACME, "acme", "free", "active");
    tenant(GLOBEX, "globex", "free", "suspended");
    tenant(BIG, "big", "enterprise", "provisioning");
    tenant(LEGACY, "legacy", "gold", "deleting");

    TenantUsage acme = quotas.usage(tenants.get(ACME), YearMonth.of(2026, 10));

    assertThat(acme)
        .isEqualTo(
            new TenantUsage(
                ACME,
                "acme",
                "free",
                "2026-10",
                List.of(
                    new QuotaUsage("services", 3, 2, "over"),
                    new QuotaUsage("workflow-starts-per-month", 1, 3, "ok"),
                    new QuotaUsage("domains", 0, 1, "ok"))));
    assertThat(acme.reached()).extracting(QuotaUsage::quota).containsExactly("services");
    assertThat(quotas.usage(tenants.get(BIG), YearMonth.of(2026, 11)).quotas())
        .extracting(QuotaUsage::state)
        .containsOnly("unlimited");
    assertThatThrownBy(() -> quotas.usage(tenants.get(LEGACY), YearMonth.of(2026, 11)))
        .isInstanceOf(QuotaService.UnknownPlanException.class)
        .hasMessageContaining("'gold'");
    assertThat(quotas.tenants())
        .as("by id, without the one being deleted")
        .containsExactly(tenants.get(ACME), tenants.get(BIG), tenants.get(GLOBEX));
  }

  // ---------------------------------------------------------------- rows as the projections write
  // them

  private void service(String id, String tenantId) throws Exception {
    sql(
        "INSERT INTO keel_services (id, name, type, endpoint, metadata, status, tenant_id,"
            + " ttl_seconds, registered_at, status_since, updated_at) VALUES (?, ?, 'source', NULL,"
            + " '{}', 'healthy', ?, 30, ?, ?, ?)",
        id,
        id,
        tenantId,
        ts(NOW),
        ts(NOW),
        ts(NOW));
  }

  private void workflow(String id, String tenantId, Instant createdAt) throws Exception {
    sql(
        "INSERT INTO keel_workflows (id, workflow, tenant_id, status, phase, paused, version,"
            + " created_at, updated_at) VALUES (?, 'example', ?, 'completed', 'completed', FALSE,"
            + " 1, ?, ?)",
        id,
        tenantId,
        ts(createdAt),
        ts(createdAt));
  }

  private void tenant(String id, String slug, String plan, String status) throws Exception {
    sql(
        "INSERT INTO keel_tenants (id, slug, name, plan, status, default_domain, created_at,"
            + " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        id,
        slug,
        slug,
        plan,
        status,
        slug + ".keel.test",
        ts(NOW),
        ts(NOW));
  }

  private void sql(String statement, Object... args) throws Exception {
    try (Connection c = dataSource.getConnection()) {
      update(c, statement, args);
    }
  }
}
