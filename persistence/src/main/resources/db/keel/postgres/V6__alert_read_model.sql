-- Read side of alert rules, fed by AlertProjection from tagged alert events: one row per defined
-- rule (a deleted one has none). Every node also reads it to know the rules it evaluates
-- heartbeats against (AlertCatalog).
CREATE TABLE keel_alerts (
  id VARCHAR(128) PRIMARY KEY,
  -- a service id, or * for every service
  service VARCHAR(128) NOT NULL,
  -- the condition in its canonical text; at most 1000 characters when parsed, but kept as text
  condition TEXT NOT NULL,
  webhook VARCHAR(2048) NOT NULL,
  cooldown_seconds INTEGER NOT NULL,
  tenant_id VARCHAR(128),
  created_at TIMESTAMP WITH TIME ZONE NOT NULL,
  updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
  last_fired_at TIMESTAMP WITH TIME ZONE,
  -- firings since the rule was (last) defined
  firing_count BIGINT NOT NULL
);

-- Lists page by id ascending (the primary key); these serve the service and tenant filters.
CREATE INDEX keel_alerts_service_idx ON keel_alerts (service, id);
CREATE INDEX keel_alerts_tenant_idx ON keel_alerts (tenant_id, id);
