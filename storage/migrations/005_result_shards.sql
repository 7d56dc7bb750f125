-- 005: cells record how many times they were attempted (an error cell is computed again on later
-- cycles, up to work.max_attempts); the store remembers which result shards it has ingested.
ALTER TABLE cells ADD COLUMN attempts INTEGER DEFAULT 1;
CREATE TABLE ingested_shards (
    shard_id    VARCHAR PRIMARY KEY,     -- a part of a work unit's results, immutable once written
    unit_id     VARCHAR NOT NULL,
    run_id      VARCHAR NOT NULL,
    cells       INTEGER NOT NULL,        -- rows in the shard (stored ones were skipped)
    verdicts    INTEGER NOT NULL,
    ingested_at TIMESTAMP NOT NULL
);
