-- Quotas (QuotaService) count a tenant's registered services, and its workflow starts within a
-- calendar month, on every new registration or start by a tenant: index both by tenant.
CREATE INDEX keel_services_tenant_idx ON keel_services (tenant_id, id);
CREATE INDEX keel_workflows_tenant_created_idx ON keel_workflows (tenant_id, created_at);
