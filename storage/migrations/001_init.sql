-- 001: the first schema of the primary store. Only the flow's storage step writes here.
CREATE TABLE runs (
    run_id            VARCHAR PRIMARY KEY,
    started_at        TIMESTAMP NOT NULL,
    finished_at       TIMESTAMP,
    status            VARCHAR NOT NULL,          -- running | completed | failed
    config_name       VARCHAR NOT NULL,
    config_hash       VARCHAR NOT NULL,
    config_json       JSON NOT NULL,
    code_version      VARCHAR NOT NULL,
    package_versions  JSON NOT NULL,
    cells_planned     INTEGER,
    cells_new         INTEGER,
    cells_failed      INTEGER,
    message           VARCHAR
);

CREATE TABLE models (
    model_id       VARCHAR PRIMARY KEY,          -- lineage@revision
    lineage        VARCHAR NOT NULL,
    revision       VARCHAR NOT NULL,             -- commit sha / content hash / version tag
    label          VARCHAR NOT NULL,             -- human name: checkpoint-200, refuse-all
    source         VARCHAR NOT NULL,             -- config | folder | hub | endpoint
    adapter        VARCHAR NOT NULL,
    adapter_params JSON NOT NULL,
    order_key      DOUBLE NOT NULL,              -- position in its lineage (step number or time)
    discovered_at  TIMESTAMP NOT NULL,
    status         VARCHAR NOT NULL              -- new | evaluated | failed
);

CREATE TABLE samples (
    sample_id   VARCHAR PRIMARY KEY,             -- benchmark:source_id
    benchmark   VARCHAR NOT NULL,
    source_id   VARCHAR NOT NULL,
    category    VARCHAR NOT NULL,
    kind        VARCHAR NOT NULL,                -- harmful | benign | utility
    text        VARCHAR NOT NULL,
    image_sha   VARCHAR,
    reference   VARCHAR
);

CREATE TABLE cells (
    cell_key        VARCHAR PRIMARY KEY,
    run_id          VARCHAR NOT NULL,
    model_id        VARCHAR NOT NULL,
    sample_id       VARCHAR NOT NULL,
    probe_index     INTEGER NOT NULL,
    attack          VARCHAR NOT NULL,
    attack_version  INTEGER NOT NULL,
    attack_spec     JSON NOT NULL,
    attack_label    VARCHAR NOT NULL,            -- name, or name(params) when it has parameters
    defense         VARCHAR NOT NULL,
    defense_version INTEGER NOT NULL,
    defense_spec    JSON NOT NULL,
    defense_label   VARCHAR NOT NULL,
    generation      JSON NOT NULL,
    seed            INTEGER NOT NULL,
    probe_system    VARCHAR,
    probe_text      VARCHAR,
    probe_images    VARCHAR[],                   -- sha256 of each image in the artifact folder
    probe_target    VARCHAR,
    probe_params    JSON,                        -- what the attack recorded (font, eps, ...)
    response_text   VARCHAR,
    error           VARCHAR,                     -- set: no answer; the cell is an error row
    tokens_in       INTEGER,
    tokens_out      INTEGER,
    latency_s       DOUBLE,
    cost_usd        DOUBLE,
    created_at      TIMESTAMP NOT NULL
);

CREATE TABLE verdicts (
    cell_key      VARCHAR NOT NULL,
    judge         VARCHAR NOT NULL,
    judge_version INTEGER NOT NULL,
    label         VARCHAR NOT NULL,
    score         DOUBLE,
    rationale     VARCHAR,
    run_id        VARCHAR NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (cell_key, judge, judge_version)
);

CREATE TABLE alerts (
    alert_id         VARCHAR PRIMARY KEY,        -- hash of (model, baseline, attack, defense, judge)
    run_id           VARCHAR NOT NULL,
    lineage          VARCHAR NOT NULL,
    model_id         VARCHAR NOT NULL,
    baseline_id      VARCHAR NOT NULL,
    attack           VARCHAR NOT NULL,
    defense          VARCHAR NOT NULL,
    metric           VARCHAR NOT NULL,           -- asr
    n_pairs          INTEGER NOT NULL,
    only_new         INTEGER NOT NULL,           -- samples that fail only in the new revision
    only_old         INTEGER NOT NULL,
    rate_old         DOUBLE NOT NULL,
    rate_new         DOUBLE NOT NULL,
    p_value          DOUBLE NOT NULL,
    p_adjusted       DOUBLE NOT NULL,
    created_at       TIMESTAMP NOT NULL
);
