package dev.keel.http;

import dev.keel.tenant.Role;

/**
 * Who sent a request: a tenant's key ({@code tenantId}: its resources only), a cluster-wide key or
 * the admin token ({@code tenantId} null: every tenant's resources), each with a {@link Role}. What
 * the role allows is {@link AccessPolicy}'s (README, Access control).
 */
public record Caller(String tenantId, Role role) {

  /** The admin token: everything, the cluster's own routes included. */
  public static final Caller ADMIN = new Caller(null, Role.ADMIN);

  /** A tenant's first key: its admin. */
  public Caller(String tenantId) {
    this(tenantId, Role.ADMIN);
  }

  /** The admin token (cluster-wide keys are never {@code admin}). */
  public boolean admin() {
    return tenantId == null && role == Role.ADMIN;
  }

  /** Whether this caller sees every tenant's resources: the admin token or a cluster-wide key. */
  public boolean clusterWide() {
    return tenantId == null;
  }

  /** Whether this caller may see a resource owned by {@code ownerTenantId} (null: the admin's). */
  public boolean sees(String ownerTenantId) {
    return clusterWide() || tenantId.equals(ownerTenantId);
  }
}
