-- Idempotency keys of flushed WAL entries: a retry with the key of a request acknowledged within
-- [ingester].idempotency_window_secs gets that request's receipt again, also after its entries left the WAL.
-- Written in the flush's own transaction, so a key is here exactly when its records are in file_meta.
CREATE TABLE ingest_keys (
    org VARCHAR(128) NOT NULL,
    stream_type VARCHAR(16) NOT NULL,
    stream VARCHAR(128) NOT NULL,
    idempotency_key VARCHAR(256) NOT NULL,
    receipt TEXT NOT NULL,
    acked_at_micros BIGINT NOT NULL,
    PRIMARY KEY (org, stream_type, stream, idempotency_key)
);
CREATE INDEX ingest_keys_by_time ON ingest_keys (org, stream_type, stream, acked_at_micros);
