-- The cluster fence and lease of the PostgreSQL schema (see there). A node on the embedded H2
-- database is a cluster of one that no other JVM can open, so nothing reads these tables on H2;
-- they keep both schemas at the same version.
CREATE TABLE keel_cluster_fence (
  id SMALLINT PRIMARY KEY CHECK (id = 1),
  epoch BIGINT NOT NULL
);
INSERT INTO keel_cluster_fence (id, epoch) VALUES (1, 0);

CREATE TABLE keel_cluster_lease (
  id SMALLINT PRIMARY KEY CHECK (id = 1),
  epoch BIGINT NOT NULL,
  members VARCHAR(1000000) NOT NULL,
  renewed_by VARCHAR(1000),
  renewed_at TIMESTAMP WITH TIME ZONE,
  formed_by VARCHAR(1000),
  formed_at TIMESTAMP WITH TIME ZONE
);
INSERT INTO keel_cluster_lease (id, epoch, members) VALUES (1, 0, '');
