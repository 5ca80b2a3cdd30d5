-- An alert rule may start a repair workflow instead of calling a webhook (AlertRepair): its
-- webhook is then null.
ALTER TABLE keel_alerts ALTER COLUMN webhook DROP NOT NULL;

-- Registry changes for the watch (GET /api/v1/services/events), written by the service
-- projection in its own transaction: one row per registration, update, status transition and
-- deregistration, with what watchers filter on. seq is the event id a watcher resumes after
-- (Last-Event-ID); it is taken from keel_service_change_counter under that row's lock, so seqs are
-- assigned in commit order and a reader never sees a later one before an earlier one.
CREATE TABLE keel_service_changes (
  seq BIGINT PRIMARY KEY,
  -- registered, updated, status, deregistered
  kind VARCHAR(16) NOT NULL,
  service_id VARCHAR(128) NOT NULL,
  tenant_id VARCHAR(128),
  service_type VARCHAR(64) NOT NULL,
  -- the status after the change; null for a deregistration
  status VARCHAR(16),
  previous_status VARCHAR(16),
  reason VARCHAR(512),
  -- the service's metadata as a JSON object, for metadata filters
  metadata TEXT NOT NULL,
  changed_at TIMESTAMP WITH TIME ZONE NOT NULL
);

-- Retention deletes by age.
CREATE INDEX keel_service_changes_at_idx ON keel_service_changes (changed_at);

CREATE TABLE keel_service_change_counter (
  id INTEGER PRIMARY KEY,
  last_seq BIGINT NOT NULL
);

INSERT INTO keel_service_change_counter (id, last_seq) VALUES (1, 0);
