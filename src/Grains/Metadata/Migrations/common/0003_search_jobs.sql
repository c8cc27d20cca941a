-- Async search jobs: a query run by a worker, its NDJSON result kept in the object store until expires_at.
CREATE TABLE search_jobs (
    job_id VARCHAR(64) PRIMARY KEY,
    org VARCHAR(128) NOT NULL,
    state VARCHAR(16) NOT NULL,
    request_json TEXT NOT NULL,
    created_at_micros BIGINT NOT NULL,
    started_at_micros BIGINT,
    finished_at_micros BIGINT,
    expires_at_micros BIGINT NOT NULL,
    claimed_by VARCHAR(64),
    lease_until_micros BIGINT,
    attempts INTEGER NOT NULL,
    result_object_key VARCHAR(1024),
    rows BIGINT,
    error TEXT
);
CREATE INDEX idx_search_jobs_state ON search_jobs (state, created_at_micros);
CREATE INDEX idx_search_jobs_org ON search_jobs (org, created_at_micros);
