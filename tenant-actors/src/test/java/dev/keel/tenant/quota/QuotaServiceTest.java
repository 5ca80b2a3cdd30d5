package dev.keel.tenant.quota;

import static dev.keel.persistence.ReadModelSql.ts;
import static dev.keel.persistence.ReadModelSql.update;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.keel.persistence.DatabaseSettings;
import dev.keel.persistence.ManualClock;
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
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Quotas counted from the read-model tables of a Flyway-migrated database, the embedded H2 and
 * (when a server answers, see {@link TestDatabases}) PostgreSQL: rows are written the way the
 * projections write them, and each admission is checked against a tiny plan.
 */
class QuotaServiceTest {

  private static final Instant NOW = Instant.parse("2026-11-30T23:59:00Z");
  private static final Map<String, TenantSettings.Plan> PLANS = Map.of(
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
  private final ManualClock clock = new ManualClock(NOW);
  private final AtomicInteger planLookups = new AtomicInteger();
  private final Map<String, TenantPlan> tenants = Map.of(
      ACME, new TenantPlan(ACME, "acme", "free"),
      GLOBEX, new TenantPlan(GLOBEX, "globex", "free"),
      BIG, new TenantPlan(BIG, "big", "enterprise"),
      LEGACY, new TenantPlan(LEGACY, "legacy", "gold"));

  private void open(DatabaseSettings.Kind kind) {
    database = TestDatabases.migrated(kind, dir, "quota-test");
    dataSource = database.dataSource();
    quotas = new QuotaService(PLANS, id -> {
      planLookups.incrementAndGet();
      return CompletableFuture.completedFuture(Optional.ofNullable(tenants.get(id)));
    }, new TenantReadModel(dataSource, Runnable::run), dataSource, Runnable::run, clock);
  }

  @AfterEach
  void close() {
    if (database != null) database.close();
  }

  @ParameterizedTest
  @EnumSource(DatabaseSettings.Kind.class)
  void aNewServiceOverThePlanIsRefusedNamingTheQuotaButReRegisteringIsNot(DatabaseSettings.Kind kind) throws Exception {
    open(kind);
    service("ledger", ACME);
    assertThat(refusal(quotas.admitNewService(ACME, "billing"))).as("1 of 2").isNull();
    service("billing", ACME);
    service("other-tenants", GLOBEX);
    service("admins-own", null);

    QuotaExceededException refused = refusal(quotas.admitNewService(ACME, "search"));

    assertThat(refused).isNotNull();
    assertThat(refused.quota()).isEqualTo(Quota.SERVICES);
    assertThat(refused.getMessage()).isEqualTo("plan free allows 2 services; acme has 2");
    assertThat(refused.plan()).isEqualTo("free");
    assertThat(refused.limit()).isEqualTo(2);
    assertThat(refused.used()).isEqualTo(2);
    assertThat(refused.retryAfterSeconds()).as("time alone does not help").isNull();
    assertThat(refusal(quotas.admitNewService(ACME, "billing"))).as("re-registering").isNull();
    assertThat(refusal(quotas.admitNewService(GLOBEX, "search"))).as("another tenant's count").isNull();
    assertThat(refusal(quotas.admitNewService(GLOBEX, "other-tenants"))).isNull();
  }

  @ParameterizedTest
  @EnumSource(DatabaseSettings.Kind.class)
  void workflowStartsCountWithinTheCalendarMonthInUtcAndRetryAfterIsTheNextMonth(DatabaseSettings.Kind kind) throws Exception {
    open(kind);
    Instant monthStart = Instant.parse("2026-11-01T00:00:00Z");
    workflow("last-month-1", ACME, monthStart.minusNanos(1000));
    workflow("last-month-2", ACME, monthStart.minusSeconds(86_400));
    workflow("first", ACME, monthStart);
    workflow("second", ACME, NOW.minusSeconds(60));
    workflow("lifecycle", null, NOW.minusSeconds(60));
    assertThat(refusal(quotas.admitNewWorkflowStart(ACME, "third"))).as("2 of 3 this month").isNull();
    workflow("third", ACME, NOW.minusSeconds(1));

    QuotaExceededException refused = refusal(quotas.admitNewWorkflowStart(ACME, "fourth"));

    assertThat(refused.quota()).isEqualTo(Quota.WORKFLOW_STARTS);
    assertThat(refused.getMessage()).isEqualTo("plan free allows 3 workflow starts per month; acme has started 3 in 2026-11");
    assertThat(refused.retryAfterSeconds()).as("until 2026-12-01T00:00Z").isEqualTo(60);
    assertThat(refusal(quotas.admitNewWorkflowStart(ACME, "third"))).as("an existing id is a retry, not a start").isNull();
    assertThat(refusal(quotas.admitNewWorkflowStart(ACME, "lifecycle"))).as("any existing id").isNull();

    clock.set(Instant.parse("2026-12-01T00:00:00Z"));
    assertThat(refusal(quotas.admitNewWorkflowStart(ACME, "fourth"))).as("a new month").isNull();
  }

  @ParameterizedTest
  @EnumSource(DatabaseSettings.Kind.class)
  void domainsCountOnceTheirTableExists(DatabaseSettings.Kind kind) throws Exception {
    open(kind);
    // Before the custom-domains migration (V8) there is no table: nothing to count.
    sql("DROP TABLE IF EXISTS keel_domains");
    assertThat(refusal(quotas.admitNewDomain(ACME, "shop.acme.test"))).isNull();
    assertThat(quotas.usage(tenants.get(ACME), YearMonth.of(2026, 11)).quotas())
        .contains(QuotaUsage.of(Quota.DOMAINS, 0, 1));

    // V8's table, as the custom-domains change defines it.
    sql("CREATE TABLE keel_domains (hostname VARCHAR(253) PRIMARY KEY, tenant_id VARCHAR(128) NOT NULL, "
        + "status VARCHAR(32) NOT NULL, certificate_status VARCHAR(16) NOT NULL, created_at TIMESTAMP WITH TIME ZONE NOT NULL, "
        + "updated_at TIMESTAMP WITH TIME ZONE NOT NULL, verified_at TIMESTAMP WITH TIME ZONE)");
    sql("INSERT INTO keel_domains (hostname, tenant_id, status, certificate_status, created_at, updated_at) "
        + "VALUES ('shop.acme.test', ?, 'verified', 'issued', ?, ?)", ACME, ts(NOW), ts(NOW));

    QuotaExceededException refused = refusal(quotas.admitNewDomain(ACME, "blog.acme.test"));
    assertThat(refused.quota()).isEqualTo(Quota.DOMAINS);
    assertThat(refused.getMessage()).isEqualTo("plan free allows 1 custom domain; acme has 1");
    assertThat(refusal(quotas.admitNewDomain(ACME, "shop.acme.test"))).as("the hostname it holds").isNull();
    assertThat(refusal(quotas.admitNewDomain(GLOBEX, "shop.globex.test"))).isNull();
  }

  @ParameterizedTest
  @EnumSource(DatabaseSettings.Kind.class)
  void theAdminUnlimitedPlansUnknownTenantsAndUnknownPlansAreNeverRefused(DatabaseSettings.Kind kind) throws Exception {
    open(kind);
    for (String id : List.of("a", "b", "c")) {
      service(id, null);
      service(id + "-big", BIG);
      service(id + "-legacy", LEGACY);
      workflow(id, null, NOW);
      workflow(id + "-big", BIG, NOW);
    }

    assertThat(refusal(quotas.admitNewService(null, "d"))).isNull();
    assertThat(refusal(quotas.admitNewWorkflowStart(null, "d"))).isNull();
    assertThat(planLookups).as("the admin acting for itself costs nothing").hasValue(0);
    assertThat(refusal(quotas.admitNewService(BIG, "d-big"))).isNull();
    assertThat(refusal(quotas.admitNewWorkflowStart(BIG, "d-big"))).isNull();
    assertThat(refusal(quotas.admitNewService(LEGACY, "d-legacy"))).as("a plan no longer configured").isNull();
    assertThat(refusal(quotas.admitNewService("tnosuchtenantnosuchtenantno", "d"))).isNull();
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

    assertThat(acme).isEqualTo(new TenantUsage(ACME, "acme", "free", "2026-10", List.of(
        new QuotaUsage("services", 3, 2, "over"),
        new QuotaUsage("workflow-starts-per-month", 1, 3, "ok"),
        new QuotaUsage("domains", 0, 1, "ok"))));
    assertThat(acme.reached()).extracting(QuotaUsage::quota).containsExactly("services");
    assertThat(quotas.usage(tenants.get(BIG), YearMonth.of(2026, 11)).quotas()).extracting(QuotaUsage::state)
        .containsOnly("unlimited");
    assertThatThrownBy(() -> quotas.usage(tenants.get(LEGACY), YearMonth.of(2026, 11)))
        .isInstanceOf(QuotaService.UnknownPlanException.class).hasMessageContaining("'gold'");
    assertThat(quotas.tenants()).as("by id, without the one being deleted").containsExactly(
        tenants.get(ACME), tenants.get(BIG), tenants.get(GLOBEX));
  }

  // ---------------------------------------------------------------- rows as the projections write them

  private void service(String id, String tenantId) throws Exception {
    sql("INSERT INTO keel_services (id, name, type, endpoint, metadata, status, tenant_id, ttl_seconds, "
        + "registered_at, status_since, updated_at) VALUES (?, ?, 'source', NULL, '{}', 'healthy', ?, 30, ?, ?, ?)",
        id, id, tenantId, ts(NOW), ts(NOW), ts(NOW));
  }

  private void workflow(String id, String tenantId, Instant createdAt) throws Exception {
    sql("INSERT INTO keel_workflows (id, workflow, tenant_id, status, phase, paused, version, created_at, updated_at) "
        + "VALUES (?, 'example', ?, 'completed', 'completed', FALSE, 1, ?, ?)", id, tenantId, ts(createdAt), ts(createdAt));
  }

  private void tenant(String id, String slug, String plan, String status) throws Exception {
    sql("INSERT INTO keel_tenants (id, slug, name, plan, status, default_domain, created_at, updated_at) "
        + "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", id, slug, slug, plan, status, slug + ".keel.test", ts(NOW), ts(NOW));
  }

  private void sql(String statement, Object... args) throws Exception {
    try (Connection c = dataSource.getConnection()) {
      update(c, statement, args);
    }
  }

  /** The refusal an admission failed with, or null when it was admitted. */
  private static QuotaExceededException refusal(CompletionStage<Void> admission) {
    try {
      admission.toCompletableFuture().join();
      return null;
    } catch (CompletionException e) {
      if (e.getCause() instanceof QuotaExceededException q) return q;
      throw e;
    }
  }
}
