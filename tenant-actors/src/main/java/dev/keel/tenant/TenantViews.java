package dev.keel.tenant;

import dev.keel.tenant.Tenant.Active;
import dev.keel.tenant.Tenant.Deleted;
import dev.keel.tenant.Tenant.Deleting;
import dev.keel.tenant.Tenant.Provisioning;
import dev.keel.tenant.Tenant.State;
import dev.keel.tenant.Tenant.Suspended;
import dev.keel.tenant.Tenant.TenantProfile;
import dev.keel.tenant.Tenant.TenantRecord;
import dev.keel.tenant.Tenant.TenantView;

/** A tenant as the API shows it (never its key or the key's hash), and its status by name. */
final class TenantViews {

  private TenantViews() {}

  /** What every live state holds; null for a tenant never created. */
  static TenantRecord record(State state) {
    if (state instanceof Provisioning s) return s.tenant();
    if (state instanceof Active s) return s.tenant();
    if (state instanceof Suspended s) return s.tenant();
    if (state instanceof Deleting s) return s.tenant();
    if (state instanceof Deleted s) return s.tenant();
    return null;
  }

  static String statusOf(State state) {
    if (state instanceof Provisioning) return "provisioning";
    if (state instanceof Active) return "active";
    if (state instanceof Suspended) return "suspended";
    if (state instanceof Deleting) return "deleting";
    if (state instanceof Deleted) return "deleted";
    return "none";
  }

  /** Call with a state that has a {@link #record}. */
  static TenantView of(String tenantId, State state) {
    TenantRecord t = record(state);
    TenantProfile p = t.profile();
    String workflowId =
        state instanceof Deleting || state instanceof Deleted
            ? Tenant.deprovisioningWorkflowId(tenantId)
            : Tenant.provisioningWorkflowId(tenantId);
    return new TenantView(
        tenantId,
        p.slug(),
        p.name(),
        p.plan(),
        statusOf(state),
        p.defaultDomain(),
        state instanceof Suspended s ? s.reason() : null,
        workflowId,
        t.keyRotatedAt(),
        t.createdAt(),
        t.updatedAt());
  }
}
