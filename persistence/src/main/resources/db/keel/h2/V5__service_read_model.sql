-- Read side of the service registry, fed by ServiceProjection from tagged service events: one row
-- per registered service (a deregistered one has none) with its journaled status. Heartbeats are
-- not journaled, so the time of the last one is not here: lists ask the entities for it.
CREATE TABLE keel_services (
  id VARCHAR(128) PRIMARY KEY,
  name VARCHAR(256) NOT NULL,
  type VARCHAR(64) NOT NULL,
  endpoint VARCHAR(2048),
  -- the metadata map as a JSON object, for the list's answer; filtering uses keel_service_metadata
  metadata TEXT NOT NULL,
  status VARCHAR(16) NOT NULL,
  tenant_id VARCHAR(128),
  ttl_seconds INTEGER NOT NULL,
  deregister_after_seconds INTEGER,
  registered_at TIMESTAMP WITH TIME ZONE NOT NULL,
  status_since TIMESTAMP WITH TIME ZONE NOT NULL,
  updated_at TIMESTAMP WITH TIME ZONE NOT NULL
);

-- Lists page by id ascending (the primary key); these serve the type and status filters.
CREATE INDEX keel_services_type_idx ON keel_services (type, id);
CREATE INDEX keel_services_status_idx ON keel_services (status, id);

-- One row per metadata entry, so that ?metadata=key=value filters the same way on H2 and PostgreSQL.
CREATE TABLE keel_service_metadata (
  service_id VARCHAR(128) NOT NULL,
  meta_key VARCHAR(128) NOT NULL,
  meta_value VARCHAR(1024) NOT NULL,
  PRIMARY KEY (service_id, meta_key)
);

CREATE INDEX keel_service_metadata_kv_idx ON keel_service_metadata (meta_key, meta_value);
