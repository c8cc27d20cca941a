-- Cold partitions whose file rows were moved out of file_meta into a manifest object (file_meta_dumper): one row
-- each, with the partition's totals and WAL hull, so listings, time pruning and recovery read the manifest only
-- when they need its files. A partition's live rows (file_meta) and its manifest together are its files.
CREATE TABLE dumped_partitions (
    org VARCHAR(128) NOT NULL,
    stream_type VARCHAR(16) NOT NULL,
    stream VARCHAR(128) NOT NULL,
    day BIGINT NOT NULL,
    manifest_key VARCHAR(1024) NOT NULL,
    files BIGINT NOT NULL,
    rows BIGINT NOT NULL,
    min_ts BIGINT NOT NULL,
    max_ts BIGINT NOT NULL,
    original_bytes BIGINT NOT NULL,
    compressed_bytes BIGINT NOT NULL,
    index_bytes BIGINT NOT NULL,
    wal_seq_start BIGINT NOT NULL,
    wal_seq_end BIGINT NOT NULL,
    dumped_at_micros BIGINT NOT NULL,
    PRIMARY KEY (org, stream_type, stream, day)
);
