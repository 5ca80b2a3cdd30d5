package dev.keel.tenant;

import java.util.concurrent.CompletionStage;

/**
 * What the tenant lifecycle workflows ask of the rest of Keel: mark the tenant active or deleted,
 * and free what it held. A port so that the workflows can be tested without a cluster.
 */
public interface TenantLifecycle {

  CompletionStage<String> activate(String tenantId);

  CompletionStage<String> markDeleted(String tenantId);

  /** Frees the tenant's custom hostnames; answers how many were released. */
  CompletionStage<Integer> releaseDomains(String tenantId);

  CompletionStage<Void> releaseSlug(String slug, String tenantId);
}
