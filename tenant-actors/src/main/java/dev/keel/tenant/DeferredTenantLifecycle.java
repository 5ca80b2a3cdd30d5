package dev.keel.tenant;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A {@link TenantLifecycle} bound after the fact: the lifecycle workflows are registered before the
 * actor system (and so the tenant service) exists, so that a plug-in taking their names is refused
 * at start-up. Until bound, calls fail and the workflow step retries.
 */
public final class DeferredTenantLifecycle implements TenantLifecycle {

  private final AtomicReference<TenantLifecycle> target = new AtomicReference<>();

  public void bind(TenantLifecycle lifecycle) {
    target.set(lifecycle);
  }

  private TenantLifecycle target() {
    TenantLifecycle t = target.get();
    if (t == null) throw new IllegalStateException("the node is still starting");
    return t;
  }

  @Override
  public CompletionStage<String> activate(String tenantId) {
    try {
      return target().activate(tenantId);
    } catch (IllegalStateException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  @Override
  public CompletionStage<String> markDeleted(String tenantId) {
    try {
      return target().markDeleted(tenantId);
    } catch (IllegalStateException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  @Override
  public CompletionStage<Integer> releaseDomains(String tenantId) {
    try {
      return target().releaseDomains(tenantId);
    } catch (IllegalStateException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  @Override
  public CompletionStage<Void> releaseSlug(String slug, String tenantId) {
    try {
      return target().releaseSlug(slug, tenantId);
    } catch (IllegalStateException e) {
      return CompletableFuture.failedFuture(e);
    }
  }
}
