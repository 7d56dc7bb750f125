-- 003: how far each judge agrees with people (from `mmwatch calibrate ... --config`), so that the
-- leaderboard can show ASR corrected for the safety judge's measured sensitivity and specificity.
CREATE TABLE judge_calibrations (
    calibration_id VARCHAR PRIMARY KEY,      -- hash of (judge, version, labels file content)
    judge          VARCHAR NOT NULL,          -- registry name
    judge_label    VARCHAR NOT NULL,          -- name(params) as reported
    judge_version  INTEGER NOT NULL,
    family         VARCHAR NOT NULL,          -- refusal | safety
    labels_source  VARCHAR NOT NULL,          -- the labels file
    tp INTEGER NOT NULL, fp INTEGER NOT NULL, fn INTEGER NOT NULL, tn INTEGER NOT NULL,
    unscored       INTEGER NOT NULL,
    summary        JSON NOT NULL,
    created_at     TIMESTAMP NOT NULL
);
