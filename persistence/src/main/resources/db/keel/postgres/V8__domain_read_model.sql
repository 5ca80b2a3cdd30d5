-- Read side of tenants' custom hostnames, fed by DomainProjection from tagged hostname events: one
-- row per claimed hostname (a released one has none). Lists page by hostname within a tenant;
-- quotas count a tenant's rows.
CREATE TABLE keel_domains (
  -- byte order (hostnames are ASCII): lists page in the same order as on H2, whatever the database's locale
  hostname VARCHAR(253) COLLATE "C" PRIMARY KEY,
  tenant_id VARCHAR(128) NOT NULL,
  -- pending_verification, verified or failed
  status VARCHAR(32) NOT NULL,
  -- none, pending, issued, failed or expired
  certificate_status VARCHAR(16) NOT NULL,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL,
  updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
  verified_at TIMESTAMP WITH TIME ZONE
);

CREATE INDEX keel_domains_tenant_idx ON keel_domains (tenant_id, hostname);
