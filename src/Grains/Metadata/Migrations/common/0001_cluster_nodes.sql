-- The spec's cluster registry: heartbeats upsert, the registry reads live rows, the sweeper deletes stale ones.
CREATE TABLE cluster_nodes (
    node_id VARCHAR(64) PRIMARY KEY,
    role VARCHAR(32) NOT NULL,
    advertise_addr VARCHAR(255) NOT NULL,
    started_at_micros BIGINT NOT NULL,
    last_heartbeat_at_micros BIGINT NOT NULL
);
CREATE INDEX idx_cluster_nodes_role ON cluster_nodes (role);
CREATE INDEX idx_cluster_nodes_heartbeat ON cluster_nodes (last_heartbeat_at_micros);
