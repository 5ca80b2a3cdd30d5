package dev.keel.tenant.quota;

import java.util.List;

/**
 * One tenant's usage of each quota of its plan; workflow starts are those of {@code period} ({@code
 * 2026-10}), services and domains are counted as they are when asked.
 */
public record TenantUsage(
    String tenantId, String slug, String plan, String period, List<QuotaUsage> quotas) {

  public TenantUsage {
    quotas = List.copyOf(quotas);
  }

  /** The quotas at or over their limit. */
  public List<QuotaUsage> reached() {
    return quotas.stream().filter(QuotaUsage::reached).toList();
  }
}
