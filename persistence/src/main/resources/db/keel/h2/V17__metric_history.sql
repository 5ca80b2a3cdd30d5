-- Metric history (dev.keel.registry.history): what heartbeats carried, kept outside the journal as
-- one row per service, metric, tier and time bucket. Written in batches by MetricHistory's flusher
-- (merged into an existing bucket when one exists, so two nodes or a restart within one bucket add
-- up), read by GET /api/v1/services/{id}/metrics, and deleted tier by tier past its retention.
CREATE TABLE keel_metric_points (
  service_id VARCHAR(128) NOT NULL,
  metric VARCHAR(128) NOT NULL,
  -- the tier: its bucket width in seconds (10, 60, 3600 by default)
  resolution_s INTEGER NOT NULL,
  -- the bucket's start, epoch seconds, a multiple of resolution_s
  bucket BIGINT NOT NULL,
  tenant_id VARCHAR(128),
  samples INTEGER NOT NULL,
  total DOUBLE PRECISION NOT NULL,
  min_value DOUBLE PRECISION NOT NULL,
  max_value DOUBLE PRECISION NOT NULL,
  last_value DOUBLE PRECISION NOT NULL,
  -- when last_value was reported, epoch milliseconds: merging keeps the later one
  last_at BIGINT NOT NULL,
  PRIMARY KEY (service_id, metric, resolution_s, bucket)
);

-- Retention deletes a tier's buckets older than its retention.
CREATE INDEX keel_metric_points_expiry_idx ON keel_metric_points (resolution_s, bucket);
