-- Streams with their current schema and how far their WAL is flushed; schema history; one row per data file.
CREATE TABLE streams (
    org VARCHAR(128) NOT NULL,
    stream_type VARCHAR(16) NOT NULL,
    stream VARCHAR(128) NOT NULL,
    schema_json TEXT NOT NULL,
    schema_version INTEGER NOT NULL,
    flushed_seq BIGINT NOT NULL,
    created_at_micros BIGINT NOT NULL,
    updated_at_micros BIGINT NOT NULL,
    PRIMARY KEY (org, stream_type, stream)
);
CREATE TABLE stream_schema_history (
    org VARCHAR(128) NOT NULL,
    stream_type VARCHAR(16) NOT NULL,
    stream VARCHAR(128) NOT NULL,
    version INTEGER NOT NULL,
    schema_json TEXT NOT NULL,
    created_at_micros BIGINT NOT NULL,
    PRIMARY KEY (org, stream_type, stream, version)
);
CREATE TABLE file_meta (
    org VARCHAR(128) NOT NULL,
    stream_type VARCHAR(16) NOT NULL,
    stream VARCHAR(128) NOT NULL,
    file_id VARCHAR(128) NOT NULL,
    object_key VARCHAR(1024) NOT NULL,
    index_key VARCHAR(1024) NOT NULL,
    min_ts BIGINT NOT NULL,
    max_ts BIGINT NOT NULL,
    rows BIGINT NOT NULL,
    original_bytes BIGINT NOT NULL,
    compressed_bytes BIGINT NOT NULL,
    index_bytes BIGINT NOT NULL,
    wal_seq_start BIGINT NOT NULL,
    wal_seq_end BIGINT NOT NULL,
    created_at_micros BIGINT NOT NULL,
    PRIMARY KEY (org, stream_type, stream, file_id)
);
CREATE INDEX idx_file_meta_time ON file_meta (org, stream_type, stream, max_ts, min_ts);
