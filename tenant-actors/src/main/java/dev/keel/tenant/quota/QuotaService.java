package dev.keel.tenant.quota;

import static dev.keel.persistence.ReadModelSql.ts;

import dev.keel.tenant.TenantPlanLookup.TenantPlan;
import dev.keel.tenant.TenantReadModel;
import dev.keel.tenant.TenantSettings;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;

/**
 * Plan quotas as the read models ({@code keel_services}, {@code keel_workflows}, {@code
 * keel_domains}) show them, on the blocking dispatcher: each tenant's usage for the monthly {@code
 * quota-check}, and the usage a tenant's {@link QuotaLedger} starts from ({@link #baseline}).
 * Admission itself is {@link QuotaAdmission}'s, in the write path; these counts trail the journal
 * by the projection lag.
 *
 * <p>Custom domains are counted from {@code keel_domains} (migration V8) once that table exists,
 * and are 0 before.
 */
public final class QuotaService implements TenantUsages {

  private static final int PAGE = 500;

  private final Map<String, TenantSettings.Plan> plans;
  private final TenantReadModel tenantList;
  private final DataSource dataSource;
  private final Executor blocking;
  private volatile boolean domainsTableSeen;

  public QuotaService(
      Map<String, TenantSettings.Plan> plans,
      TenantReadModel tenantList,
      DataSource dataSource,
      Executor blocking) {
    this.plans = Map.copyOf(plans);
    this.tenantList = tenantList;
    this.dataSource = dataSource;
    this.blocking = blocking;
  }

  /**
   * What a new ledger of {@code tenantId} starts from: the ids of its services or custom domains,
   * or the number of its workflow starts in {@code month} (UTC).
   */
  public CompletionStage<QuotaAdmission.Baseline> baseline(
      String tenantId, Quota quota, YearMonth month) {
    return CompletableFuture.supplyAsync(
        () -> {
          try (Connection c = dataSource.getConnection()) {
            switch (quota) {
              case SERVICES:
                return new QuotaAdmission.Baseline(
                    ids(c, "SELECT id FROM keel_services WHERE tenant_id = ?", tenantId), 0);
              case DOMAINS:
                return new QuotaAdmission.Baseline(
                    domainsTable(c)
                        ? ids(c, "SELECT hostname FROM keel_domains WHERE tenant_id = ?", tenantId)
                        : List.of(),
                    0);
              default:
                return new QuotaAdmission.Baseline(
                    List.of(), countStarts(c, tenantId, null, month).used());
            }
          } catch (SQLException e) {
            // Problems maps an SQLException cause to 503: the client's request was fine.
            throw new IllegalStateException("quota baseline unavailable: " + e.getMessage(), e);
          }
        },
        blocking);
  }

  private static List<String> ids(Connection c, String sql, String tenantId) throws SQLException {
    List<String> ids = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, tenantId);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) ids.add(rs.getString(1));
      }
    }
    return ids;
  }

  @Override
  public List<TenantPlan> tenants() throws Exception {
    List<TenantPlan> all = new ArrayList<>();
    String cursor = null;
    do {
      TenantReadModel.Page page =
          tenantList.list(null, null, PAGE, cursor).toCompletableFuture().get(30, TimeUnit.SECONDS);
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
      return new TenantUsage(
          tenant.tenantId(),
          tenant.slug(),
          tenant.plan(),
          period.toString(),
          List.of(
              QuotaUsage.of(
                  Quota.SERVICES,
                  countServices(c, tenant.tenantId(), null).used(),
                  Quota.SERVICES.limitIn(plan)),
              QuotaUsage.of(
                  Quota.WORKFLOW_STARTS,
                  countStarts(c, tenant.tenantId(), null, period).used(),
                  Quota.WORKFLOW_STARTS.limitIn(plan)),
              QuotaUsage.of(
                  Quota.DOMAINS,
                  countDomains(c, tenant.tenantId(), null).used(),
                  Quota.DOMAINS.limitIn(plan))));
    }
  }

  /** A tenant on a plan that {@code keel.tenants.plans} no longer defines. */
  public static final class UnknownPlanException extends IllegalStateException {
    public UnknownPlanException(String plan) {
      super("plan '" + plan + "' is not defined in keel.tenants.plans");
    }
  }

  /** How many a tenant has, and whether the one asked about is among them already. */
  private record Count(long used, boolean existing) {}

  // ---------------------------------------------------------------- counts

  private static Count countServices(Connection c, String tenantId, String serviceId)
      throws SQLException {
    return count(
        c,
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN id = ? THEN 1 ELSE 0 END), 0) FROM keel_services"
            + " WHERE tenant_id = ?",
        serviceId,
        tenantId);
  }

  private static Count countStarts(
      Connection c, String tenantId, String workflowId, YearMonth month) throws SQLException {
    if (workflowId != null) {
      // An id that exists (anyone's) is no new start: the same content answers 200, other content
      // 409.
      try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM keel_workflows WHERE id = ?")) {
        ps.setString(1, workflowId);
        try (ResultSet rs = ps.executeQuery()) {
          if (rs.next()) return new Count(0, true);
        }
      }
    }
    Instant from = month.atDay(1).atStartOfDay(ZoneOffset.UTC).toInstant();
    Instant to = month.plusMonths(1).atDay(1).atStartOfDay(ZoneOffset.UTC).toInstant();
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT COUNT(*) FROM keel_workflows WHERE tenant_id = ? AND created_at >= ? AND"
                + " created_at < ?")) {
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
    return count(
        c,
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN hostname = ? THEN 1 ELSE 0 END), 0) FROM"
            + " keel_domains WHERE tenant_id = ?",
        hostname,
        tenantId);
  }

  private static Count count(Connection c, String sql, String id, String tenantId)
      throws SQLException {
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
      try (ResultSet rs =
          md.getTables(c.getCatalog(), c.getSchema(), name, new String[] {"TABLE"})) {
        if (rs.next()) {
          domainsTableSeen = true;
          return true;
        }
      }
    }
    return false;
  }
}
