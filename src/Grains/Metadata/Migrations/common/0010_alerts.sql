-- Alerting: destinations, rules and their schedules, the evaluation ledger, incidents and the notification outbox.
-- An incident change and the notifications it causes are written in one transaction, with the schedule's advance:
-- a window is either evaluated whole (ledger, incidents, outbox) or not at all, so no notification is lost or doubled.
CREATE TABLE alert_destinations (
    org VARCHAR(128) NOT NULL,
    id VARCHAR(64) NOT NULL,
    name VARCHAR(256) NOT NULL,
    kind VARCHAR(16) NOT NULL,
    spec TEXT NOT NULL,
    updated_at_micros BIGINT NOT NULL,
    PRIMARY KEY (org, id)
);
CREATE TABLE alert_rules (
    org VARCHAR(128) NOT NULL,
    id VARCHAR(64) NOT NULL,
    name VARCHAR(256) NOT NULL,
    spec TEXT NOT NULL,
    version BIGINT NOT NULL,
    updated_at_micros BIGINT NOT NULL,
    PRIMARY KEY (org, id)
);
-- The next window of an enabled rule (rebuilt on every save, version = the rule's); a claim is a lease.
CREATE TABLE alert_schedules (
    org VARCHAR(128) NOT NULL,
    rule_id VARCHAR(64) NOT NULL,
    version BIGINT NOT NULL,
    next_end_micros BIGINT NOT NULL,
    due_at_micros BIGINT NOT NULL,
    holder VARCHAR(64),
    lease_expires_micros BIGINT NOT NULL,
    PRIMARY KEY (org, rule_id)
);
CREATE INDEX idx_alert_schedules_due ON alert_schedules (due_at_micros);
CREATE TABLE alert_evaluations (
    id VARCHAR(64) PRIMARY KEY,
    org VARCHAR(128) NOT NULL,
    rule_id VARCHAR(64) NOT NULL,
    window_start_micros BIGINT NOT NULL,
    window_end_micros BIGINT NOT NULL,
    evaluated_at_micros BIGINT NOT NULL,
    evaluated_by VARCHAR(64) NOT NULL,
    fired INTEGER NOT NULL,
    detail TEXT NOT NULL,
    duration_ms BIGINT NOT NULL,
    error TEXT
);
CREATE INDEX idx_alert_evaluations_rule ON alert_evaluations (org, rule_id, window_end_micros);
CREATE TABLE alert_incidents (
    id VARCHAR(64) PRIMARY KEY,
    org VARCHAR(128) NOT NULL,
    rule_id VARCHAR(64) NOT NULL,
    group_key TEXT NOT NULL,
    state VARCHAR(16) NOT NULL,
    severity VARCHAR(16) NOT NULL,
    value DOUBLE PRECISION,
    opened_at_micros BIGINT NOT NULL,
    last_fired_end_micros BIGINT NOT NULL,
    last_notified_micros BIGINT NOT NULL,
    quiet_windows INTEGER NOT NULL,
    acked_by VARCHAR(256),
    acked_at_micros BIGINT,
    resolved_by VARCHAR(256),
    resolved_at_micros BIGINT
);
-- One incident per (rule, group) while it is not resolved.
CREATE UNIQUE INDEX idx_alert_incidents_live ON alert_incidents (org, rule_id, group_key) WHERE state <> 'resolved';
CREATE INDEX idx_alert_incidents_org ON alert_incidents (org, state, opened_at_micros);
-- Notifications to deliver: the id is the Idempotency-Key every attempt carries.
CREATE TABLE alert_outbox (
    id VARCHAR(64) PRIMARY KEY,
    org VARCHAR(128) NOT NULL,
    incident_id VARCHAR(64) NOT NULL,
    destination_id VARCHAR(64) NOT NULL,
    event VARCHAR(16) NOT NULL,
    payload TEXT NOT NULL,
    state VARCHAR(16) NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_micros BIGINT NOT NULL,
    holder VARCHAR(64),
    lease_expires_micros BIGINT NOT NULL,
    last_error TEXT,
    created_at_micros BIGINT NOT NULL,
    delivered_at_micros BIGINT
);
CREATE INDEX idx_alert_outbox_due ON alert_outbox (state, next_attempt_micros);
CREATE INDEX idx_alert_outbox_incident ON alert_outbox (org, incident_id);
-- Scheduled reports: a cron in a time zone, queries rendered as charts, sent to destinations. A run is claimed
-- like a rule window and committed with its notifications; (report, run time) is unique, so no run is sent twice.
CREATE TABLE alert_reports (
    org VARCHAR(128) NOT NULL,
    id VARCHAR(64) NOT NULL,
    name VARCHAR(256) NOT NULL,
    spec TEXT NOT NULL,
    version BIGINT NOT NULL,
    updated_at_micros BIGINT NOT NULL,
    PRIMARY KEY (org, id)
);
CREATE TABLE report_schedules (
    org VARCHAR(128) NOT NULL,
    report_id VARCHAR(64) NOT NULL,
    version BIGINT NOT NULL,
    next_run_micros BIGINT NOT NULL,
    holder VARCHAR(64),
    lease_expires_micros BIGINT NOT NULL,
    PRIMARY KEY (org, report_id)
);
CREATE TABLE report_runs (
    id VARCHAR(64) PRIMARY KEY,
    org VARCHAR(128) NOT NULL,
    report_id VARCHAR(64) NOT NULL,
    run_at_micros BIGINT NOT NULL,
    formats VARCHAR(64) NOT NULL,
    note TEXT,
    error TEXT,
    created_at_micros BIGINT NOT NULL
);
CREATE UNIQUE INDEX idx_report_runs_once ON report_runs (org, report_id, run_at_micros);
