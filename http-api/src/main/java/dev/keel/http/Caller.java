package dev.keel.http;

/**
 * Who sent a request: the admin ({@code tenantId} null), who may do everything, or a tenant, who
 * sees and changes only its own resources (API.md, Auth).
 */
public record Caller(String tenantId) {

  public static final Caller ADMIN = new Caller(null);

  public boolean admin() {
    return tenantId == null;
  }

  /** Whether this caller may see a resource owned by {@code ownerTenantId} (null: the admin's). */
  public boolean sees(String ownerTenantId) {
    return admin() || tenantId.equals(ownerTenantId);
  }
}
