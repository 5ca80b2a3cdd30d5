package dev.keel.pipeline;

import dev.keel.persistence.Rejection;
import dev.keel.tenant.TenantReadModel;
import dev.keel.tenant.TenantService;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The tenant a pipeline's components act as, and a fresh key of it for this run. The embedded node
 * is in this JVM, so this goes through {@link TenantService} directly instead of over HTTP with the
 * admin token: nothing to authenticate, and the key never crosses a socket except to the
 * components. Keys are shown once, so every run rotates the key (the previous run's stops working)
 * and remembers the tenant's id in {@code <data-dir>/pipeline-tenant}. The plan is enterprise: a
 * pipeline on its own control plane has no quota to keep.
 */
final class PipelineTenant {

  static final String PLAN = "enterprise";
  private static final String ID_FILE = "pipeline-tenant";

  /** The tenant's id and this run's key. */
  record Key(String tenantId, String apiKey) {}

  private PipelineTenant() {}

  static Key issue(TenantService tenants, Path dataDir, String pipelineName, Duration timeout)
      throws IOException {
    Path idFile = dataDir.resolve(ID_FILE);
    if (Files.exists(idFile)) {
      String id = Files.readString(idFile).trim();
      Optional<TenantService.CreatedTenant> rotated = rotate(tenants, id, timeout);
      if (rotated.isPresent()) return new Key(id, rotated.get().apiKey());
    }
    String slug = slug(pipelineName);
    TenantService.CreatedTenant created;
    try {
      created = await(tenants.create(slug, pipelineName, PLAN), timeout);
    } catch (Refused conflict) {
      if (conflict.rejection.kind() != Rejection.Kind.CONFLICT) throw conflict;
      // The slug is this pipeline's, but its id file is gone: find the tenant by slug.
      String id =
          findBySlug(tenants, slug, timeout)
              .orElseThrow(
                  () ->
                      new IllegalStateException(
                          "tenant slug '"
                              + slug
                              + "' is taken but no tenant has it yet; try again"));
      created = rotate(tenants, id, timeout).orElseThrow();
    }
    Files.writeString(idFile, created.tenant().id() + "\n");
    return new Key(created.tenant().id(), created.apiKey());
  }

  /** A tenant slug for a pipeline name: a DNS label, 3 to 63 characters (TenantRules). */
  static String slug(String pipelineName) {
    String s =
        pipelineName
            .toLowerCase(Locale.ROOT)
            .replaceAll("[^a-z0-9]+", "-")
            .replaceAll("^-+|-+$", "");
    s = "pipeline-" + s;
    if (s.length() > 63) s = s.substring(0, 63).replaceAll("-+$", "");
    return s.replaceAll("-+$", "");
  }

  private static Optional<TenantService.CreatedTenant> rotate(
      TenantService tenants, String id, Duration timeout) {
    try {
      return Optional.of(await(tenants.rotateKey(id), timeout));
    } catch (Refused r) {
      if (r.rejection.kind() == Rejection.Kind.NOT_FOUND) return Optional.empty();
      throw r;
    }
  }

  private static Optional<String> findBySlug(TenantService tenants, String slug, Duration timeout) {
    String cursor = null;
    do {
      TenantReadModel.Page page = await(tenants.list(null, null, 500, cursor), timeout);
      for (TenantReadModel.TenantSummary t : page.items()) {
        if (t.slug().equals(slug)) return Optional.of(t.id());
      }
      cursor = page.nextCursor();
    } while (cursor != null);
    return Optional.empty();
  }

  /** A rejection by the tenant entity (not found, conflict, invalid). */
  static final class Refused extends RuntimeException {
    final Rejection rejection;

    Refused(Rejection rejection) {
      super(rejection.detail(), null, false, false);
      this.rejection = rejection;
    }
  }

  private static <T> T await(CompletionStage<T> stage, Duration timeout) {
    try {
      return stage.toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      Optional<Rejection> rejection = Rejection.of(e.getCause());
      if (rejection.isPresent()) throw new Refused(rejection.get());
      throw new IllegalStateException(
          "the pipeline's tenant: " + e.getCause().getMessage(), e.getCause());
    } catch (TimeoutException e) {
      throw new IllegalStateException(
          "the pipeline's tenant: no answer within " + timeout.toSeconds() + "s");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted");
    }
  }
}
