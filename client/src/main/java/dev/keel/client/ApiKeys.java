package dev.keel.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Named API keys ({@link KeelClient#keys()}): a tenant's, managed with that tenant's admin key or
 * the admin token, and the cluster-wide ones, managed with the admin token. {@code tenantId} null
 * means the cluster-wide keys. Each key has a role ({@code viewer}: read only; {@code operator}:
 * also act on executions; {@code admin}: everything of its tenant) and an optional expiry.
 */
public final class ApiKeys {

  private final KeelHttp http;
  private final Runnable ensureOpen;

  ApiKeys(KeelHttp http, Runnable ensureOpen) {
    this.http = http;
    this.ensureOpen = ensureOpen;
  }

  /** The keys, active, expired and revoked, without their secrets. */
  public List<ApiKey> list(String tenantId) {
    ensureOpen.run();
    JsonNode answer = http.call("GET", path(tenantId), null);
    List<ApiKey> keys = new ArrayList<>();
    for (JsonNode item : answer.path("items")) keys.add(http.read(item, ApiKey.class));
    return keys;
  }

  /**
   * Creates a key named {@code name} with {@code role}, expiring at {@code expiresAt} (null:
   * never). The answer holds the secret ({@link ApiKey#apiKey()}), which Keel never shows again. An
   * active key of that name already is a 409 ({@link KeelApiException}).
   */
  public ApiKey create(String tenantId, String name, String role, Instant expiresAt) {
    ensureOpen.run();
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(role, "role");
    ObjectNode body = KeelJson.MAPPER.createObjectNode();
    body.put("name", name);
    body.put("role", role);
    if (expiresAt != null) body.put("expiresAt", expiresAt.toString());
    return http.read(http.call("POST", path(tenantId), body), ApiKey.class);
  }

  /** Revokes the key {@code keyId}: it answers 401 at once, on every node. */
  public void revoke(String tenantId, String keyId) {
    ensureOpen.run();
    Objects.requireNonNull(keyId, "keyId");
    http.call(
        "DELETE",
        tenantId == null
            ? KeelHttp.path("cluster-keys", keyId)
            : KeelHttp.path("tenants", tenantId, "keys", keyId),
        null);
  }

  private static String path(String tenantId) {
    return tenantId == null
        ? KeelHttp.path("cluster-keys")
        : KeelHttp.path("tenants", tenantId, "keys");
  }
}
