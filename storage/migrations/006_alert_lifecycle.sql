-- 006: alerts on every watched metric and baseline, with a state; silences; one delivery row per
-- alert and sink (pending until the sink took it); what the watch last compared per revision.
ALTER TABLE alerts ADD COLUMN baseline_kind VARCHAR DEFAULT 'predecessor';
ALTER TABLE alerts ADD COLUMN category VARCHAR DEFAULT '';
ALTER TABLE alerts ADD COLUMN diff_low DOUBLE;
ALTER TABLE alerts ADD COLUMN diff_high DOUBLE;
ALTER TABLE alerts ADD COLUMN state VARCHAR DEFAULT 'new';
ALTER TABLE alerts ADD COLUMN state_changed_at TIMESTAMP;
ALTER TABLE alerts ADD COLUMN state_note VARCHAR;         -- who acknowledged, which silence, which revision recovered
CREATE TABLE alert_silences (
    silence_id  VARCHAR PRIMARY KEY,
    lineage     VARCHAR NOT NULL,         -- a glob over lineages
    metric      VARCHAR,                  -- NULL: every metric
    until       TIMESTAMP NOT NULL,
    reason      VARCHAR,
    created_at  TIMESTAMP NOT NULL
);
CREATE TABLE alert_deliveries (
    alert_id    VARCHAR NOT NULL,
    sink        VARCHAR NOT NULL,         -- the sink's spec hash: a sink with other params is another sink
    sink_label  VARCHAR NOT NULL,
    status      VARCHAR NOT NULL,         -- pending | sent
    attempts    INTEGER NOT NULL,
    last_error  VARCHAR,
    sent_at     TIMESTAMP,
    PRIMARY KEY (alert_id, sink)
);
CREATE TABLE watched_revisions (
    model_id    VARCHAR PRIMARY KEY,
    plan_id     VARCHAR NOT NULL,
    scored      INTEGER NOT NULL,         -- scored answers when it was last compared: more means compare again
    compared_at TIMESTAMP NOT NULL
);
