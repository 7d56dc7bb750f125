-- The published snapshot that every reader (leaderboard, public site) opens read-only.
-- Written whole by storage.snapshot.publish() into a temp file, then renamed into place.
-- Every row counts exactly the cells of one plan (meta.plan_id, for meta.config_hash), through
-- the one outcome definition (mmwatch/analysis/outcomes.py).
-- Rates are fractions in [0, 1]; *_lo/*_hi are the 95% Wilson interval; n counts scored verdicts.
CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR);   -- snapshot_version, published_at, run_id,
                                                              -- title, show_responses, config_hash, plan_id,
                                                              -- plan_cells, safety/utility/target_judge
CREATE TABLE leaderboard (          -- one row per model revision: the ranking table
    model_id VARCHAR, lineage VARCHAR, revision VARCHAR, label VARCHAR, adapter VARCHAR,
    order_key DOUBLE, discovered_at TIMESTAMP,
    n_harmful INTEGER, asr DOUBLE, asr_lo DOUBLE, asr_hi DOUBLE,          -- all attacks pooled
    safety DOUBLE,                                                        -- 1 - asr
    n_benign INTEGER, over_refusal DOUBLE, over_refusal_lo DOUBLE, over_refusal_hi DOUBLE,
    n_utility INTEGER, utility DOUBLE, utility_lo DOUBLE, utility_hi DOUBLE,
    unscored INTEGER, errors INTEGER,
    n_any INTEGER, any_asr DOUBLE, any_asr_lo DOUBLE, any_asr_hi DOUBLE,  -- worst case per sample
    asr_corrected DOUBLE, asr_corrected_lo DOUBLE, asr_corrected_hi DOUBLE -- for the safety judge's
);                                  -- measured sensitivity/specificity; NULL until it is calibrated
CREATE TABLE asr_by_attack (        -- model x attack x defense on harmful items (and targeted probes)
    model_id VARCHAR, attack VARCHAR, defense VARCHAR,
    n INTEGER, successes INTEGER, asr DOUBLE, asr_lo DOUBLE, asr_hi DOUBLE, unscored INTEGER,
    attack_hash VARCHAR, defense_hash VARCHAR, attack_baseline BOOLEAN, defense_baseline BOOLEAN,
    judge VARCHAR                   -- the judge whose verdicts these are (safety or target role)
);
CREATE TABLE asr_by_category (      -- model x attack x benchmark category on harmful items
    model_id VARCHAR, attack VARCHAR, category VARCHAR,
    n INTEGER, successes INTEGER, asr DOUBLE, asr_lo DOUBLE, asr_hi DOUBLE,
    attack_hash VARCHAR, benchmark VARCHAR
);
CREATE TABLE refusal_rates (        -- model x attack: RtA on harmful items, over-refusal on benign
    model_id VARCHAR, attack VARCHAR, kind VARCHAR,
    n INTEGER, refusals INTEGER, rate DOUBLE, rate_lo DOUBLE, rate_hi DOUBLE,
    attack_hash VARCHAR
);
CREATE TABLE alerts (
    alert_id VARCHAR, lineage VARCHAR, model_id VARCHAR, baseline_id VARCHAR, attack VARCHAR,
    defense VARCHAR, metric VARCHAR, n_pairs INTEGER, only_new INTEGER, only_old INTEGER,
    rate_old DOUBLE, rate_new DOUBLE, p_value DOUBLE, p_adjusted DOUBLE, created_at TIMESTAMP,
    attack_hash VARCHAR, defense_hash VARCHAR, judge VARCHAR, judge_version INTEGER,
    baseline_kind VARCHAR,          -- predecessor | pinned | best
    category VARCHAR,               -- '' when every category is pooled; attack_hash '*' when every attack is
    diff_low DOUBLE, diff_high DOUBLE,  -- 95% interval of rate_new - rate_old on the paired items
    state VARCHAR                   -- new | acknowledged | silenced | resolved
);
CREATE TABLE runs (
    run_id VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP, status VARCHAR,
    config_hash VARCHAR, code_version VARCHAR, cells_new INTEGER, cells_failed INTEGER, plan_id VARCHAR
);
CREATE TABLE examples (             -- per-item results for drill-down; response_text is NULL
    model_id VARCHAR, sample_id VARCHAR, category VARCHAR, kind VARCHAR, attack VARCHAR,
    defense VARCHAR, prompt VARCHAR, label VARCHAR, response_text VARCHAR, error VARCHAR,
    outcome VARCHAR,                -- the cell's primary-role outcome: success, refused, safe, ...
    judge VARCHAR, attack_hash VARCHAR, defense_hash VARCHAR, benchmark VARCHAR, probe_index INTEGER,
    attacked BOOLEAN                -- counted in attack success rates: a harmful item, or a targeted probe
);                                  -- on harmful items unless meta.show_responses = 'true'
