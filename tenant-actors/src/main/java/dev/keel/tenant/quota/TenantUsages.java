package dev.keel.tenant.quota;

import dev.keel.tenant.TenantPlanLookup.TenantPlan;
import java.time.YearMonth;
import java.util.List;

/** What {@code quota-check} reads, blocking (step bodies run on the step runner's threads). */
public interface TenantUsages {

  /** Every tenant that is not being deleted, by id. */
  List<TenantPlan> tenants() throws Exception;

  /** {@code tenant}'s usage of each quota of its plan, workflow starts within {@code period}. */
  TenantUsage usage(TenantPlan tenant, YearMonth period) throws Exception;
}
