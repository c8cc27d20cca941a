-- Compaction, retention and the lease that lets any number of compactors run.
-- A merged file's WAL ranges: its inputs' ranges, coalesced, as "start-end,start-end" (empty for a flushed file,
-- whose range is wal_seq_start..wal_seq_end). Recovery skips exactly the entries these ranges name.
ALTER TABLE file_meta ADD COLUMN wal_ranges TEXT NOT NULL DEFAULT '';
-- One compactor at a time per partition (org, type, stream, UTC day number); a lapsed lease may be taken over.
CREATE TABLE compactor_leases (
    org VARCHAR(128) NOT NULL,
    stream_type VARCHAR(16) NOT NULL,
    stream VARCHAR(128) NOT NULL,
    day BIGINT NOT NULL,
    holder VARCHAR(64) NOT NULL,
    expires_at_micros BIGINT NOT NULL,
    PRIMARY KEY (org, stream_type, stream, day)
);
-- Objects of replaced or expired files, deleted once delete_after passes (queries that began before may read them).
CREATE TABLE file_deletions (
    object_key VARCHAR(1024) PRIMARY KEY,
    delete_after_micros BIGINT NOT NULL
);
CREATE INDEX idx_file_deletions_due ON file_deletions (delete_after_micros);
-- Per-stream settings; retention_days NULL follows [compactor].retention_days.
CREATE TABLE stream_settings (
    org VARCHAR(128) NOT NULL,
    stream_type VARCHAR(16) NOT NULL,
    stream VARCHAR(128) NOT NULL,
    retention_days INTEGER,
    updated_at_micros BIGINT NOT NULL,
    PRIMARY KEY (org, stream_type, stream)
);
