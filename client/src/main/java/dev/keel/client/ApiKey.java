package dev.keel.client;

import java.time.Instant;

/**
 * A named API key as Keel lists it: a tenant's ({@code /tenants/{id}/keys}) or a cluster-wide one
 * ({@code /cluster-keys}).
 *
 * @param role {@code viewer}, {@code operator} or {@code admin} (cluster-wide keys: the first two)
 * @param status {@code active}, {@code expired} or {@code revoked}
 * @param expiresAt when it stops working, or null for never
 * @param apiKey the secret: only in the answer to {@link ApiKeys#create}, shown once; null in lists
 */
public record ApiKey(
    String id,
    String name,
    String role,
    String status,
    Instant expiresAt,
    Instant createdAt,
    Instant revokedAt,
    String apiKey) {

  /** Never the secret: a key printed or logged by accident stays a name. */
  @Override
  public String toString() {
    return "ApiKey[id=" + id + ", name=" + name + ", role=" + role + ", status=" + status + "]";
  }
}
