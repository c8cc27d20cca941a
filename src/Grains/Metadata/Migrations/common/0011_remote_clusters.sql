-- Remote clusters a federated query may read (?clusters=local,name,...): the address of their gRPC port, the
-- secret reference of the Bearer token sent to them (env:VAR, or cipher_keys:<id> of secret_org), TLS with
-- certificate verification (1) or plain http (0), and whether fan-out includes them (0 = skipped).
CREATE TABLE remote_clusters (
    name VARCHAR(64) PRIMARY KEY,
    advertise_addr VARCHAR(255) NOT NULL,
    token_secret_ref VARCHAR(255) NOT NULL,
    secret_org VARCHAR(128) NOT NULL,
    tls_verify SMALLINT NOT NULL,
    enabled SMALLINT NOT NULL,
    updated_at_micros BIGINT NOT NULL
);
