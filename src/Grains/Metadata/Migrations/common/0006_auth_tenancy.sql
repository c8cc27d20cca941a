-- Orgs, users and their roles per org, API tokens, the audit trail, quotas and their usage, the bootstrapped
-- JWT secret, and sealed secrets. Ids are made by the application, so both dialects share this file.
CREATE TABLE orgs (
    org VARCHAR(128) PRIMARY KEY,
    name VARCHAR(256) NOT NULL,
    created_at_micros BIGINT NOT NULL
);
INSERT INTO orgs (org, name, created_at_micros) VALUES ('default', 'default', 0);
CREATE TABLE users (
    user_id VARCHAR(32) PRIMARY KEY,
    email VARCHAR(320) NOT NULL UNIQUE,
    password_hash VARCHAR(256) NOT NULL,
    is_root INTEGER NOT NULL DEFAULT 0,
    token_version INTEGER NOT NULL DEFAULT 0,
    created_at_micros BIGINT NOT NULL
);
CREATE TABLE org_members (
    org VARCHAR(128) NOT NULL,
    user_id VARCHAR(32) NOT NULL,
    role VARCHAR(16) NOT NULL,
    created_at_micros BIGINT NOT NULL,
    PRIMARY KEY (org, user_id)
);
CREATE INDEX idx_org_members_user ON org_members (user_id);
-- token_id is the token's plain prefix (ms_<token_id>_<secret>); secret_hash is argon2id of the secret.
CREATE TABLE api_tokens (
    token_id VARCHAR(32) PRIMARY KEY,
    name VARCHAR(128) NOT NULL,
    user_id VARCHAR(32),
    org VARCHAR(128),
    role VARCHAR(16),
    secret_hash VARCHAR(256) NOT NULL,
    created_at_micros BIGINT NOT NULL,
    expires_at_micros BIGINT,
    revoked_at_micros BIGINT
);
CREATE INDEX idx_api_tokens_user ON api_tokens (user_id);
CREATE INDEX idx_api_tokens_org ON api_tokens (org);
CREATE TABLE audit_log (
    at_micros BIGINT NOT NULL,
    actor VARCHAR(320) NOT NULL,
    org VARCHAR(128),
    action VARCHAR(64) NOT NULL,
    target VARCHAR(512),
    client VARCHAR(64),
    result VARCHAR(64) NOT NULL
);
CREATE INDEX idx_audit_log_time ON audit_log (at_micros);
CREATE INDEX idx_audit_log_org ON audit_log (org, at_micros);
CREATE TABLE org_quotas (
    org VARCHAR(128) NOT NULL,
    quota VARCHAR(32) NOT NULL,
    value BIGINT NOT NULL,
    PRIMARY KEY (org, quota)
);
-- Bytes ingested per org and UTC day (days since 1970-01-01), the usage of ingest_bytes_per_day.
CREATE TABLE org_usage (
    org VARCHAR(128) NOT NULL,
    day INTEGER NOT NULL,
    ingest_bytes BIGINT NOT NULL,
    PRIMARY KEY (org, day)
);
CREATE TABLE auth_secrets (
    name VARCHAR(64) PRIMARY KEY,
    value TEXT NOT NULL,
    created_at_micros BIGINT NOT NULL
);
-- One row per sealed secret: its own data key, wrapped under the master key named by key_id (AES-256-GCM both).
CREATE TABLE cipher_keys (
    id VARCHAR(32) PRIMARY KEY,
    org VARCHAR(128) NOT NULL,
    name VARCHAR(128) NOT NULL,
    key_id VARCHAR(16) NOT NULL,
    wrapped_key TEXT NOT NULL,
    sealed_value TEXT NOT NULL,
    created_at_micros BIGINT NOT NULL,
    UNIQUE (org, name)
);
