-- 008: the snapshot history (storage/history.py): each published cycle's aggregate rates and the alerts it
-- raised, kept here so that every snapshot carries every night. The columns are exactly those of the
-- snapshot's `history` and `history_alerts` (storage/snapshot.sql); a re-publish of a run replaces its rows.
CREATE TABLE snapshot_history (
    night DATE, run_id VARCHAR, published_at TIMESTAMP, config_hash VARCHAR, plan_id VARCHAR,
    model_id VARCHAR, lineage VARCHAR, revision VARCHAR, label VARCHAR, order_key DOUBLE,
    metric VARCHAR, attack VARCHAR, defense VARCHAR, benchmark VARCHAR, category VARCHAR, judge VARCHAR,
    n INTEGER, k INTEGER, rate DOUBLE, rate_lo DOUBLE, rate_hi DOUBLE
);
CREATE TABLE snapshot_history_alerts (
    night DATE, run_id VARCHAR, alert_id VARCHAR, lineage VARCHAR, model_id VARCHAR, baseline_id VARCHAR,
    metric VARCHAR, attack VARCHAR, defense VARCHAR, category VARCHAR, rate_old DOUBLE, rate_new DOUBLE,
    p_adjusted DOUBLE, state VARCHAR
);
