package dev.keel.tenant;

import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * Tells whether a tenant exists and in which lifecycle status ({@code provisioning}, {@code
 * active}, {@code suspended}, {@code deleting}, {@code deleted}); empty when there never was such a
 * tenant. Domains and quotas depend on this, not on the tenant entity, so that their tests can fake
 * it.
 */
public interface TenantStatusLookup {

  CompletionStage<Optional<String>> status(String tenantId);
}
