package dev.keel.tenant;

import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * Tells which plan a tenant is on now, with its slug for messages; empty when there never was such
 * a tenant. Quotas depend on this, not on the tenant entity, so that their tests can fake it.
 */
public interface TenantPlanLookup {

  CompletionStage<Optional<TenantPlan>> plan(String tenantId);

  record TenantPlan(String tenantId, String slug, String plan) {}
}
