package dev.keel.tenant.lifecycle;

import dev.keel.tenant.TenantLifecycle;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * A {@link TenantLifecycle} that records each call in order, with what {@code snapshot} said at
 * that moment (e.g. the requests a downstream server had received), and fails the first {@link
 * #failFirst} calls as a node that is still starting does.
 */
final class RecordingTenantLifecycle implements TenantLifecycle {

  record Call(String what, String tenantId, String snapshot) {}

  private final List<Call> calls = new CopyOnWriteArrayList<>();
  private final Supplier<String> snapshot;
  private final AtomicInteger failuresLeft = new AtomicInteger();

  RecordingTenantLifecycle(Supplier<String> snapshot) {
    this.snapshot = snapshot;
  }

  RecordingTenantLifecycle failFirst(int n) {
    failuresLeft.set(n);
    return this;
  }

  List<Call> calls() {
    return calls;
  }

  private <T> CompletionStage<T> record(String what, String tenantId, T answer) {
    if (failuresLeft.getAndDecrement() > 0) {
      return CompletableFuture.failedFuture(
          new IllegalStateException("the node is still starting"));
    }
    calls.add(new Call(what, tenantId, snapshot.get()));
    return CompletableFuture.completedFuture(answer);
  }

  @Override
  public CompletionStage<String> activate(String tenantId) {
    return record("activate", tenantId, "active");
  }

  @Override
  public CompletionStage<String> markDeleted(String tenantId) {
    return record("mark-deleted", tenantId, "deleted");
  }

  @Override
  public CompletionStage<Integer> releaseDomains(String tenantId) {
    return record("release-domains", tenantId, 2);
  }

  @Override
  public CompletionStage<Void> releaseSlug(String slug, String tenantId) {
    return record("release-slug:" + slug, tenantId, null);
  }
}
