-- 002: answers that people labelled, to measure judges against (`mmwatch calibrate`).
-- One row per (answer, source, labeller); the id is a hash of exactly these, so importing the
-- same file twice adds nothing, and a corrected label replaces the old one.
CREATE TABLE human_labels (
    id          VARCHAR PRIMARY KEY,
    prompt      VARCHAR NOT NULL,
    response    VARCHAR NOT NULL,
    label       VARCHAR NOT NULL,              -- refusal | compliance | unsafe | safe
    image_sha   VARCHAR,                       -- sha256 of the image in the artifact folder
    source      VARCHAR NOT NULL,              -- where the labels came from (file, study, vendor)
    labeller    VARCHAR,
    created_at  TIMESTAMP NOT NULL,
    cell_key    VARCHAR,                       -- the stored cell this answer is, when it is one
    category    VARCHAR NOT NULL DEFAULT '',   -- e.g. an MM-SafetyBench scenario
    kind        VARCHAR NOT NULL DEFAULT 'harmful'  -- harmful | benign
);
