-- 007: a canary revision (a night's re-test of an API model id on a seeded subset of its cells)
-- records which model it re-tests and how its subset is chosen, so later nights rebuild its keys.
ALTER TABLE models ADD COLUMN canary VARCHAR;  -- JSON {of, cells, seed}, NULL for an ordinary revision
