-- The published snapshot that every reader (leaderboard, public site) opens read-only.
-- Written whole by storage.snapshot.publish() into a temp file, then renamed into place.
-- Every row counts exactly the cells of one plan (meta.plan_id, for meta.config_hash), through
-- the one outcome definition (mmwatch/analysis/outcomes.py).
-- Rates are fractions in [0, 1]; *_lo/*_hi are the 95% Wilson interval; n counts scored verdicts.
CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR);   -- snapshot_version, published_at, run_id,
                                                              -- title, mode (public | operator), night,
                                                              -- show_responses, config_hash, plan_id, plan_cells,
                                                              -- safety/refusal/utility/target_judge(_version),
                                                              -- benchmark_judges (JSON: a benchmark's own judges);
                                                              -- store, artifacts (operator snapshots only: the
                                                              -- primary store and artifact folder the Label
                                                              -- page writes human labels and their images to)
CREATE TABLE leaderboard (          -- one row per model revision: the ranking table
    model_id VARCHAR, lineage VARCHAR, revision VARCHAR, label VARCHAR, adapter VARCHAR,
    order_key DOUBLE, discovered_at TIMESTAMP,
    n_harmful INTEGER, asr DOUBLE, asr_lo DOUBLE, asr_hi DOUBLE,          -- n: every scored harmful item; asr:
                                                                          -- equal weight per benchmark x attack
                                                                          -- (storage/headline.py), baseline defense
    safety DOUBLE,                                                        -- 1 - asr
    n_benign INTEGER, over_refusal DOUBLE, over_refusal_lo DOUBLE, over_refusal_hi DOUBLE,
    n_utility INTEGER, utility DOUBLE, utility_lo DOUBLE, utility_hi DOUBLE,  -- n: scored utility items;
                                    -- utility: equal weight per benchmark headline (benchmark_scores)
    unscored INTEGER, errors INTEGER,
    n_any INTEGER, any_asr DOUBLE, any_asr_lo DOUBLE, any_asr_hi DOUBLE,  -- worst case per sample
    asr_corrected DOUBLE, asr_corrected_lo DOUBLE, asr_corrected_hi DOUBLE -- for the safety judge's
);                                  -- measured sensitivity/specificity; NULL until it is calibrated
CREATE TABLE asr_by_attack (        -- model x attack x defense on harmful items (and targeted probes)
    model_id VARCHAR, attack VARCHAR, defense VARCHAR,
    n INTEGER, successes INTEGER, asr DOUBLE, asr_lo DOUBLE, asr_hi DOUBLE, unscored INTEGER,
    attack_hash VARCHAR, defense_hash VARCHAR, attack_baseline BOOLEAN, defense_baseline BOOLEAN,
    judge VARCHAR                   -- the judge(s) whose verdicts these are (safety or target role; a benchmark's
                                    -- own judge beside the run's, joined by ', ')
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
CREATE TABLE runs (                 -- every run; the internals (code, cost, message) only in operator mode
    run_id VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP, status VARCHAR,
    config_hash VARCHAR, code_version VARCHAR, cells_new INTEGER, cells_failed INTEGER, plan_id VARCHAR,
    cells_planned INTEGER, duration_s DOUBLE, cost_usd DOUBLE, message VARCHAR
);
CREATE TABLE examples (             -- per-item results for drill-down, one row per plan cell, written in
    model_id VARCHAR, sample_id VARCHAR, category VARCHAR, kind VARCHAR, attack VARCHAR,  -- item_order
    defense VARCHAR, prompt VARCHAR, label VARCHAR,
    response_text VARCHAR,          -- NULL on harmful and unknown items in public mode
    error VARCHAR,
    outcome VARCHAR,                -- the cell's primary-role outcome: success, refused, safe, ...
    judge VARCHAR, attack_hash VARCHAR, defense_hash VARCHAR, benchmark VARCHAR, probe_index INTEGER,
    attacked BOOLEAN,               -- counted in attack success rates: a harmful item, or a targeted probe
    cell_key VARCHAR,               -- joins verdicts; the same item elsewhere: sample_id, probe_index and the specs
    system_text VARCHAR,            -- the system prompt sent (the defense's, when it sets one)
    image_shas VARCHAR[],           -- the images sent, in order; those published are in `images`
    disagree BOOLEAN,               -- the cell's judges (latest version each) differ on success / correct
    defense_steps JSON,             -- what the defense did first (drafts, image text, a replaced answer):
                                    -- [{defense, kind, text}]; NULL where response_text is
    judge_outcomes INTEGER,         -- distinct scored outcomes among the cell's judges (latest version each)
    item_order INTEGER,             -- 1.. in the Samples page's order: kind, category, sample_id, defense,
                                    -- model_id, attack, probe_index (storage/metrics.py ITEM_ORDER); the
                                    -- table is written in this order, so zone maps find a row by it
    item_key INTEGER,               -- the same item on every revision: one per (sample_id, probe_index,
                                    -- attack_hash, defense_hash), numbered in item order
    prompt_id INTEGER,              -- the row's (sample_id, prompt) in `prompts`
    label_rank INTEGER              -- the label queue's order (1 first) over the rows a person can label:
);                                  -- an answer, no error, harmful or benign; NULL on every other row
-- Lookup tables, derived from `examples` (and asr_by_attack) at publish time (storage/metrics.py derived):
CREATE TABLE cell_index (           -- every example's cell_key, sorted by it: find an item here, then by item_order
    cell_key VARCHAR, item_order INTEGER
);
CREATE TABLE example_groups (       -- per model x attack x defense: its examples and those its judges disagree on
    model_id VARCHAR, attack VARCHAR, defense VARCHAR, n INTEGER, disagreements INTEGER
);
CREATE TABLE prompts (              -- the distinct (sample_id, prompt) pairs, prompt lower-cased: the text search
    prompt_id INTEGER, sample_id VARCHAR, text VARCHAR
);
CREATE TABLE defense_pairs (        -- per model x attack x non-baseline defense: the attacked items (sample, probe)
    model_id VARCHAR, attack_hash VARCHAR, defense_hash VARCHAR,  -- scored under it and under the baseline
    n_pairs INTEGER,                -- defense of the same attack; only_defended: succeeded under this defense
    only_defended INTEGER, only_none INTEGER  -- only; only_none: under the baseline only
);
CREATE TABLE alert_items (          -- per alert, the items behind it: attacked items of its slice that succeeded
    alert_id VARCHAR, item_order INTEGER,  -- on the new revision (its judge's verdict) where the same item on
    baseline_order INTEGER          -- the baseline revision was refused or safe; both rows by item_order
);
CREATE TABLE verdicts (             -- every judge's verdict on each example cell (latest version per judge),
    cell_key VARCHAR, judge VARCHAR, judge_version INTEGER, label VARCHAR, outcome VARCHAR, score DOUBLE,
    rationale VARCHAR               -- NULL on harmful and unknown items in public mode (it may quote the answer)
);                                  -- written sorted by cell_key: zone maps find one cell's verdicts
CREATE TABLE images (               -- the images sent, downscaled to at most 512 px, as PNG; in public mode
    sha VARCHAR PRIMARY KEY, png BLOB, width INTEGER, height INTEGER  -- only those of benign and utility items
);
CREATE TABLE asr_slices (           -- model x attack x defense x benchmark x judge on harmful items: every
    model_id VARCHAR, attack VARCHAR, defense VARCHAR, benchmark VARCHAR,  -- judge that scored the plan's
    judge VARCHAR, judge_version INTEGER, is_primary BOOLEAN,              -- cells, for the Ranking filters
    n INTEGER, successes INTEGER, unscored INTEGER, asr DOUBLE, asr_lo DOUBLE, asr_hi DOUBLE,
    attack_hash VARCHAR, defense_hash VARCHAR, attack_baseline BOOLEAN, defense_baseline BOOLEAN
);
CREATE TABLE benchmark_scores (     -- model x benchmark, baseline defense: each benchmark's own numbers
    model_id VARCHAR, benchmark VARCHAR, kind VARCHAR,                      -- (storage/benchmark_scores.py)
    attack VARCHAR,                 -- per attack; '*': harmful, the equal-weight mean over its attacks;
                                    -- NULL: utility, unattacked
    metric VARCHAR,                 -- asr | refusal rate | over-refusal | the benchmark's published metrics
                                    -- (accuracy, circular accuracy, acc, acc+, F1, mean score, ...)
    value DOUBLE, lo DOUBLE, hi DOUBLE, n INTEGER, unscored INTEGER,
    judge VARCHAR,                  -- the judge(s) behind it: the benchmark's own where the config names one
    headline BOOLEAN,               -- the benchmark's number: its ASR over attacks, its utility headline (the
                                    -- leaderboard's utility is the equal-weight mean of those)
    published_judge VARCHAR,        -- the judge its paper counts ASR with, where it names one
    part VARCHAR                    -- a subset it also reports on its own (POPE's split); NULL: all of it
);
-- The snapshot history: one block of rows per published cycle, kept in the primary store
-- (table snapshot_history) and copied whole into every snapshot, so trends run over nights as well as
-- over revisions. Aggregates only, never cells. Each row is a rate of this snapshot's tables that night:
-- metric asr | any_asr | over_refusal | utility | refusal (refusal rate on harmful items);
-- attack / defense / benchmark / category '*' = pooled as the headline pools it (baseline defense).
CREATE TABLE history (
    night DATE, run_id VARCHAR, published_at TIMESTAMP, config_hash VARCHAR, plan_id VARCHAR,
    model_id VARCHAR, lineage VARCHAR, revision VARCHAR, label VARCHAR, order_key DOUBLE,
    metric VARCHAR, attack VARCHAR, defense VARCHAR, benchmark VARCHAR, category VARCHAR, judge VARCHAR,
    n INTEGER, k INTEGER, rate DOUBLE, rate_lo DOUBLE, rate_hi DOUBLE
);
CREATE TABLE history_alerts (       -- the alerts each published cycle raised (state: as of that night)
    night DATE, run_id VARCHAR, alert_id VARCHAR, lineage VARCHAR, model_id VARCHAR, baseline_id VARCHAR,
    metric VARCHAR, attack VARCHAR, defense VARCHAR, category VARCHAR, rate_old DOUBLE, rate_new DOUBLE,
    p_adjusted DOUBLE, state VARCHAR
);
