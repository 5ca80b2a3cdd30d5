package dev.keel.node;

import dev.keel.registry.service.ServiceObservation;
import dev.keel.registry.service.ServiceObserver;
import dev.keel.registry.service.ServiceRegistry;
import dev.keel.tenant.TenantPlanLookup;
import dev.keel.tenant.TenantSettings;
import dev.keel.tenant.domain.DomainService;
import dev.keel.tenant.quota.Quota;
import dev.keel.tenant.quota.QuotaAdmission;
import dev.keel.tenant.quota.QuotaAdmission.ResourceCheck;
import dev.keel.tenant.quota.QuotaService;
import dev.keel.workflow.execution.WorkflowService;
import java.time.Clock;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How the node connects quota admission to the modules it counts: each quota's resources are asked
 * of their own entities (services, hostnames, executions), and a service that goes away, whoever
 * deregistered it, gives its tenant's slot back.
 */
final class NodeQuotas {

  private static final Logger log = LoggerFactory.getLogger(NodeQuotas.class);

  private NodeQuotas() {}

  static QuotaAdmission admission(
      ActorSystem<?> system,
      TenantSettings tenantSettings,
      TenantPlanLookup tenants,
      QuotaService usage,
      ServiceRegistry services,
      DomainService domains,
      WorkflowService workflows,
      Clock clock) {
    return new QuotaAdmission(
        system,
        tenantSettings.plans(),
        tenants,
        usage::baseline,
        Map.of(
            Quota.SERVICES, ResourceCheck.of((tenantId, id) -> services.get(id, tenantId)),
            Quota.DOMAINS, ResourceCheck.of(domains::get),
            // Any execution with the id, whoever owns it: starting it again is no new start.
            Quota.WORKFLOW_STARTS, ResourceCheck.of((tenantId, id) -> workflows.get(id))),
        tenantSettings.askTimeout(),
        clock);
  }

  /** {@code observer}, and a deregistered service's slot released in its tenant's ledger. */
  static ServiceObserver releasingSlots(ServiceObserver observer, QuotaAdmission admission) {
    return new ServiceObserver() {
      @Override
      public void observe(ServiceObservation observation) {
        observer.observe(observation);
      }

      @Override
      public void gone(String serviceId, String tenantId) {
        observer.gone(serviceId, tenantId);
        // Not awaited (this runs on the entity's thread); a lost release is found by
        // reconciliation.
        admission
            .release(tenantId, Quota.SERVICES, serviceId)
            .whenComplete(
                (done, failure) -> {
                  if (failure != null)
                    log.warn(
                        "service slot not released serviceId={} tenantId={}: {}",
                        serviceId,
                        tenantId,
                        failure.toString());
                });
      }
    };
  }
}
