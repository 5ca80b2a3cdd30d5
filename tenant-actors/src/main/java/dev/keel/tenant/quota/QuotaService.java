package dev.keel.tenant.quota;

import static dev.keel.persistence.ReadModelSql.ts;

import dev.keel.tenant.TenantPlanLookup;
import dev.keel.tenant.TenantPlanLookup.TenantPlan;
import dev.keel.tenant.TenantReadModel;
import dev.keel.tenant.TenantSettings;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Plan quotas: counts a tenant's usage from the read models ({@code keel_services},
 * {@code keel_workflows}, {@code keel_domains}) on the blocking dispatcher and admits or refuses a
 * new service, workflow start or custom domain.
 *
 * <p>Only new things count: re-registering a service the tenant has, starting an execution id that
 * exists, or claiming a hostname the tenant holds is always admitted, so that retries stay
 * idempotent. No tenant (the admin acting for itself) is never limited, nor is a tenant that does
 * not exist or whose plan is no longer configured (logged).
 *
 * <p>The counts trail the journal by the projection lag (normally well under a second): a burst of
 * concurrent creates can overshoot a limit by a few. Quotas are a commercial limit, not a safety
 * one, and an exact count would need every create to pass through one per-tenant entity; the
 * monthly {@code quota-check} reports any overshoot as {@code over}.
 *
 * <p>Custom domains: the domain routes call {@link #admitNewDomain} before claiming a hostname. The
 * count reads {@code keel_domains} (migration V8) once that table exists, and is 0 before.
 */
public final class QuotaService implements TenantUsages {

  private static final Logger log = LoggerFactory.getLogger(QuotaService.class);
  private static final int PAGE = 500;

  private final Map<String, TenantSettings.Plan> plans;
  private final TenantPlanLookup tenants;
  private final TenantReadModel tenantList;
  private final DataSource dataSource;
  private final Executor blocking;
  private final Clock clock;
  private volatile boolean domainsTableSeen;

  public QuotaService(Map<String, TenantSettings.Plan> plans, TenantPlanLookup tenants, TenantReadModel tenantList,
                      DataSource dataSource, Executor blocking, Clock clock) {
    this.plans = Map.copyOf(plans);
    this.tenants = tenants;
    this.tenantList = tenantList;
    this.dataSource = dataSource;
    this.blocking = blocking;
    this.clock = clock;
  }

  /** Completes when {@code tenantId} may register service {@code serviceId}; fails with {@link QuotaExceededException}. */
  public CompletionStage<Void> admitNewService(String tenantId, String serviceId) {
    return admit(tenantId, Quota.SERVICES, (c, t) -> countServices(c, t.tenantId(), serviceId));
  }

  /**
   * Completes when {@code tenantId} may start execution {@code workflowId} this calendar month (UTC);
   * fails with {@link QuotaExceededException} carrying the seconds until the next month.
   */
  public CompletionStage<Void> admitNewWorkflowStart(String tenantId, String workflowId) {
    return admit(tenantId, Quota.WORKFLOW_STARTS, (c, t) -> countStarts(c, t.tenantId(), workflowId, YearMonth.now(clock.withZone(ZoneOffset.UTC))));
  }

  /** Completes when {@code tenantId} may claim custom hostname {@code hostname}; fails with {@link QuotaExceededException}. */
  public CompletionStage<Void> admitNewDomain(String tenantId, String hostname) {
    return admit(tenantId, Quota.DOMAINS, (c, t) -> countDomains(c, t.tenantId(), hostname));
  }

  @Override
  public List<TenantPlan> tenants() throws Exception {
    List<TenantPlan> all = new ArrayList<>();
    String cursor = null;
    do {
      TenantReadModel.Page page = tenantList.list(null, null, PAGE, cursor).toCompletableFuture().get(30, TimeUnit.SECONDS);
      for (TenantReadModel.TenantSummary t : page.items()) {
        // A tenant being deleted is on its way out; deleted ones have no row.
        if (!"deleting".equals(t.status())) all.add(new TenantPlan(t.id(), t.slug(), t.plan()));
      }
      cursor = page.nextCursor();
    } while (cursor != null);
    return all;
  }

  /**
   * {@inheritDoc} Blocking: for workflow steps and the blocking dispatcher.
   *
   * @throws UnknownPlanException when the tenant's plan is not configured (not worth retrying)
   */
  @Override
  public TenantUsage usage(TenantPlan tenant, YearMonth period) throws SQLException {
    TenantSettings.Plan plan = plans.get(tenant.plan());
    if (plan == null) throw new UnknownPlanException(tenant.plan());
    try (Connection c = dataSource.getConnection()) {
      return new TenantUsage(tenant.tenantId(), tenant.slug(), tenant.plan(), period.toString(), List.of(
          QuotaUsage.of(Quota.SERVICES, countServices(c, tenant.tenantId(), null).used(), Quota.SERVICES.limitIn(plan)),
          QuotaUsage.of(Quota.WORKFLOW_STARTS, countStarts(c, tenant.tenantId(), null, period).used(), Quota.WORKFLOW_STARTS.limitIn(plan)),
          QuotaUsage.of(Quota.DOMAINS, countDomains(c, tenant.tenantId(), null).used(), Quota.DOMAINS.limitIn(plan))));
    }
  }

  /** A tenant on a plan that {@code keel.tenants.plans} no longer defines. */
  public static final class UnknownPlanException extends IllegalStateException {
    public UnknownPlanException(String plan) {
      super("plan '" + plan + "' is not defined in keel.tenants.plans");
    }
  }

  // ---------------------------------------------------------------- admission

  /** How many a tenant has, and whether the one asked about is among them already. */
  private record Count(long used, boolean existing) {}

  @FunctionalInterface
  private interface Counter {
    Count count(Connection c, TenantPlan tenant) throws SQLException;
  }

  private CompletionStage<Void> admit(String tenantId, Quota quota, Counter counter) {
    if (tenantId == null) return CompletableFuture.completedFuture(null);
    return tenants.plan(tenantId).thenComposeAsync(found -> {
      Optional<TenantSettings.Plan> plan = found.map(t -> plans.get(t.plan()));
      if (found.isEmpty()) return CompletableFuture.completedFuture(null);
      if (plan.isEmpty()) {
        log.warn("quota not enforced: unknown plan tenantId={} plan={} quota={}", tenantId, found.get().plan(), quota.key());
        return CompletableFuture.completedFuture(null);
      }
      int limit = quota.limitIn(plan.get());
      if (limit < 0) return CompletableFuture.completedFuture(null);
      Count count;
      try (Connection c = dataSource.getConnection()) {
        count = counter.count(c, found.get());
      } catch (SQLException e) {
        // Problems maps an SQLException cause to 503: the client's request was fine.
        return CompletableFuture.failedFuture(new IllegalStateException("quota count unavailable: " + e.getMessage(), e));
      }
      if (count.existing() || count.used() < limit) return CompletableFuture.completedFuture(null);
      QuotaExceededException refused = refusal(quota, found.get(), limit, count.used());
      log.info("quota exceeded tenantId={} plan={} quota={} limit={} used={}", tenantId, found.get().plan(), quota.key(), limit, count.used());
      return CompletableFuture.failedFuture(refused);
    }, blocking);
  }

  private QuotaExceededException refusal(Quota quota, TenantPlan tenant, int limit, long used) {
    String allows = "plan " + tenant.plan() + " allows " + quota.count(limit) + "; ";
    if (quota == Quota.WORKFLOW_STARTS) {
      Instant now = clock.instant();
      YearMonth month = YearMonth.from(now.atZone(ZoneOffset.UTC));
      Instant next = month.plusMonths(1).atDay(1).atStartOfDay(ZoneOffset.UTC).toInstant();
      long seconds = Math.max(1, (Duration.between(now, next).toMillis() + 999) / 1000);
      return new QuotaExceededException(quota, tenant.plan(), limit, used,
          allows + tenant.slug() + " has started " + used + " in " + month, seconds);
    }
    return new QuotaExceededException(quota, tenant.plan(), limit, used, allows + tenant.slug() + " has " + used, null);
  }

  // ---------------------------------------------------------------- counts

  private static Count countServices(Connection c, String tenantId, String serviceId) throws SQLException {
    return count(c, "SELECT COUNT(*), COALESCE(SUM(CASE WHEN id = ? THEN 1 ELSE 0 END), 0) FROM keel_services WHERE tenant_id = ?",
        serviceId, tenantId);
  }

  private static Count countStarts(Connection c, String tenantId, String workflowId, YearMonth month) throws SQLException {
    if (workflowId != null) {
      // An id that exists (anyone's) is no new start: the same content answers 200, other content 409.
      try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM keel_workflows WHERE id = ?")) {
        ps.setString(1, workflowId);
        try (ResultSet rs = ps.executeQuery()) {
          if (rs.next()) return new Count(0, true);
        }
      }
    }
    Instant from = month.atDay(1).atStartOfDay(ZoneOffset.UTC).toInstant();
    Instant to = month.plusMonths(1).atDay(1).atStartOfDay(ZoneOffset.UTC).toInstant();
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT COUNT(*) FROM keel_workflows WHERE tenant_id = ? AND created_at >= ? AND created_at < ?")) {
      ps.setString(1, tenantId);
      ps.setObject(2, ts(from));
      ps.setObject(3, ts(to));
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return new Count(rs.getLong(1), false);
      }
    }
  }

  private Count countDomains(Connection c, String tenantId, String hostname) throws SQLException {
    if (!domainsTable(c)) return new Count(0, false);
    return count(c, "SELECT COUNT(*), COALESCE(SUM(CASE WHEN hostname = ? THEN 1 ELSE 0 END), 0) FROM keel_domains WHERE tenant_id = ?",
        hostname, tenantId);
  }

  private static Count count(Connection c, String sql, String id, String tenantId) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, id);
      ps.setString(2, tenantId);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return new Count(rs.getLong(1), rs.getLong(2) > 0);
      }
    }
  }

  /** Whether {@code keel_domains} exists yet (it comes with the custom-domains migration). */
  private boolean domainsTable(Connection c) throws SQLException {
    if (domainsTableSeen) return true;
    DatabaseMetaData md = c.getMetaData();
    for (String name : new String[] {"keel_domains", "KEEL_DOMAINS"}) {
      try (ResultSet rs = md.getTables(c.getCatalog(), c.getSchema(), name, new String[] {"TABLE"})) {
        if (rs.next()) {
          domainsTableSeen = true;
          return true;
        }
      }
    }
    return false;
  }
}
