-- Read side of tenants, fed by TenantProjection from tagged tenant events: one row per tenant that
-- is not deleted. Never holds a key or a key's hash.
CREATE TABLE keel_tenants (
  id VARCHAR(64) PRIMARY KEY,
  slug VARCHAR(63) NOT NULL,
  name VARCHAR(200) NOT NULL,
  plan VARCHAR(64) NOT NULL,
  status VARCHAR(16) NOT NULL,
  default_domain VARCHAR(320) NOT NULL,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL,
  updated_at TIMESTAMP WITH TIME ZONE NOT NULL
);

CREATE INDEX keel_tenants_status_idx ON keel_tenants (status, id);
