-- One writer per entity across restarts, stalls and partitions (ClusterFence, ClusterLease).
-- keel_cluster_fence holds the epoch of the one cluster allowed to write the journal: every journal
-- batch reads it (FOR KEY SHARE) in its own transaction and is refused when it is not its node's.
-- A node forming a new cluster raises it under FOR UPDATE, so it waits for the batches in flight
-- and every later batch of an older cluster fails. It changes only when a cluster forms.
CREATE TABLE keel_cluster_fence (
  id SMALLINT PRIMARY KEY CHECK (id = 1),
  epoch BIGINT NOT NULL
);
INSERT INTO keel_cluster_fence (id, epoch) VALUES (1, 0);

-- The living cluster's lease: its members renew it every few seconds (database clock). A node may
-- form a new cluster only when it is stale, so a restarted seed node that finds no answer from a
-- stalled cluster waits for it instead of forming a second one. Kept apart from the fence so that
-- renewals never wait for journal writes, nor writes for renewals.
CREATE TABLE keel_cluster_lease (
  id SMALLINT PRIMARY KEY CHECK (id = 1),
  epoch BIGINT NOT NULL,
  members TEXT NOT NULL,
  renewed_by TEXT,
  renewed_at TIMESTAMPTZ,
  formed_by TEXT,
  formed_at TIMESTAMPTZ
);
INSERT INTO keel_cluster_lease (id, epoch, members) VALUES (1, 0, '');
