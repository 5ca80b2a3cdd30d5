package dev.keel.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.persistence.grammar.Texts;
import dev.keel.tenant.ApiKeys;
import dev.keel.tenant.KeyRing;
import dev.keel.tenant.KeyRingService;
import dev.keel.tenant.NamedKeys;
import dev.keel.tenant.Role;
import dev.keel.tenant.TenantStatusLookup;
import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Named API keys (README, Access control): {@code /api/v1/tenants/{id}/keys} for a tenant's keys
 * and {@code /api/v1/cluster-keys} for the cluster-wide ones. Who may reach them is {@link
 * AccessPolicy}'s; this only translates.
 */
public final class KeyRoutes {

  private static final Set<String> CREATE_FIELDS = Set.of("name", "role", "expiresAt");
  static final int MAX_KEY_NAME_LENGTH = 64;

  /** A created key with its secret, shown this once. */
  public record KeyWithSecret(
      String id,
      String name,
      String role,
      String status,
      Instant expiresAt,
      Instant createdAt,
      Instant revokedAt,
      String apiKey) {
    static KeyWithSecret of(KeyRingService.CreatedKey c) {
      KeyRing.KeyView k = c.key();
      return new KeyWithSecret(
          k.id(),
          k.name(),
          k.role(),
          k.status(),
          k.expiresAt(),
          k.createdAt(),
          k.revokedAt(),
          c.apiKey());
    }
  }

  private final HttpApi api;
  private final KeyRingService keys;
  private final TenantStatusLookup tenants;
  private final Clock clock;

  public KeyRoutes(HttpApi api, KeyRingService keys, TenantStatusLookup tenants, Clock clock) {
    this.api = api;
    this.keys = keys;
    this.tenants = tenants;
    this.clock = clock;
  }

  /** {@code /api/v1/cluster-keys}: cluster-wide viewer and operator keys. */
  public Route clusterKeys() {
    return api.pathPrefix(
        "cluster-keys",
        () ->
            owned(NamedKeys.CLUSTER, Role.OPERATOR, () -> CompletableFuture.completedFuture(true)));
  }

  /**
   * {@code /api/v1/tenants/{id}/keys}, once the caller may act for the tenant; a tenant that does
   * not exist (or no longer) has no keys to list or make: 404, and no key ring is journaled.
   */
  public Route tenantKeys(String tenantId) {
    return api.pathPrefix(
        "keys",
        () ->
            owned(
                tenantId,
                Role.ADMIN,
                // Asked only when a key route answers, not for every path under the tenant.
                () ->
                    ApiKeys.isTenantId(tenantId)
                        ? tenants
                            .status(tenantId)
                            .thenApply(s -> s.isPresent() && !s.get().equals("deleted"))
                        : CompletableFuture.completedFuture(false)));
  }

  private Route owned(String owner, Role highest, Supplier<CompletionStage<Boolean>> ownerExists) {
    return api.concat(
        api.pathEndOrSingleSlash(
            () ->
                api.concat(
                    api.get(
                        () ->
                            api.answerOk(
                                existing(
                                    owner,
                                    ownerExists,
                                    () -> keys.list(owner).thenApply(l -> Map.of("items", l))))),
                    api.post(
                        () ->
                            api.jsonBody(
                                false, body -> create(owner, highest, ownerExists, body))))),
        api.path(
            PathMatchers.segment(),
            keyId ->
                api.delete(
                    () ->
                        api.answer(
                            existing(owner, ownerExists, () -> keys.revoke(owner, keyId)),
                            v -> HttpResponse.create().withStatus(StatusCodes.NO_CONTENT)))));
  }

  private static <T> CompletionStage<T> existing(
      String owner,
      Supplier<CompletionStage<Boolean>> ownerExists,
      Supplier<CompletionStage<T>> action) {
    return ownerExists
        .get()
        .thenCompose(
            exists ->
                exists
                    ? action.get()
                    : CompletableFuture.failedFuture(
                        ApiProblem.notFound("tenant '" + owner + "' does not exist")));
  }

  private Route create(
      String owner, Role highest, Supplier<CompletionStage<Boolean>> ownerExists, JsonNode body) {
    List<ApiProblem.FieldError> errors = new ArrayList<>();
    BodyFields fields = new BodyFields(body, CREATE_FIELDS, errors);
    String name = fields.text("name", true);
    String roleText = fields.text("role", true);
    String expires = fields.text("expiresAt", false);
    if (name != null) {
      Texts.nameProblem(name, MAX_KEY_NAME_LENGTH)
          .ifPresent(p -> errors.add(new ApiProblem.FieldError("name", p)));
    }
    Optional<Role> role = Role.parse(roleText);
    if (roleText != null && (role.isEmpty() || !highest.atLeast(role.get()))) {
      errors.add(
          new ApiProblem.FieldError(
              "role",
              highest == Role.ADMIN
                  ? "must be one of viewer, operator, admin"
                  : "must be viewer or operator (the admin token is the cluster's admin)"));
    }
    Instant expiresAt = null;
    if (expires != null) {
      try {
        expiresAt = Instant.parse(expires);
        if (!expiresAt.isAfter(clock.instant()))
          errors.add(new ApiProblem.FieldError("expiresAt", "must be in the future"));
      } catch (DateTimeParseException e) {
        errors.add(
            new ApiProblem.FieldError(
                "expiresAt", "must be an ISO-8601 instant, e.g. 2027-01-31T00:00:00Z"));
      }
    }
    if (!errors.isEmpty()) throw ApiProblem.badRequest("the key has invalid fields", errors);
    Instant expiry = expiresAt;
    return api.answer(
        existing(owner, ownerExists, () -> keys.create(owner, name.trim(), role.get(), expiry)),
        created -> api.json(StatusCodes.CREATED, KeyWithSecret.of(created)));
  }
}
