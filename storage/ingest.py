"""Ingesting result shards into the primary store: the single writer's side of the work units.

Idempotent by construction: a cell key already stored is skipped (unless the stored row is an
error and the incoming one a later attempt), verdicts are keyed by (cell, judge, version), and a
chunk of shards commits together with its rows in `ingested_shards`, so a crash mid-ingest is
redone from the first shard not recorded.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from mmwatch.types import ImageData
from storage.artifacts import ArtifactStore
from storage.rows import CELL_COLUMNS, VERDICT_COLUMNS, insert_rows, utcnow
from storage.shards import ShardManifest, list_shards, read_shards

SHARD_COLUMNS = ("shard_id", "unit_id", "run_id", "cells", "verdicts", "ingested_at")


def count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    rows = con.execute(f"SELECT count(*) FROM {table}").fetchall()
    return int(rows[0][0]) if rows else 0


def insert_cells(con: duckdb.DuckDBPyConnection, rows: Sequence[Sequence[object]]) -> int:
    """Cell rows (CELL_COLUMNS order): new keys are inserted, an error row is replaced by a later
    attempt, anything else already stored is left as it is. Returns how many rows were written."""
    if not rows:
        return 0
    import pyarrow as pa

    incoming = pa.Table.from_pylist([dict(zip(CELL_COLUMNS, row, strict=True)) for row in rows])
    con.register("_incoming_cells", incoming)
    try:
        before = count(con, "cells")
        retried = con.execute(
            "SELECT count(*) FROM cells c JOIN (SELECT cell_key, max(attempts) AS attempts FROM _incoming_cells "
            "GROUP BY cell_key) i USING (cell_key) WHERE c.error IS NOT NULL AND i.attempts > c.attempts"
        ).fetchall()[0][0]
        con.execute(
            "DELETE FROM cells WHERE error IS NOT NULL AND cell_key IN (SELECT i.cell_key FROM _incoming_cells i "
            "JOIN cells c USING (cell_key) WHERE i.attempts > c.attempts)")
        columns = ", ".join(CELL_COLUMNS)
        con.execute(f"INSERT OR IGNORE INTO cells ({columns}) SELECT {columns} FROM _incoming_cells "
                    "QUALIFY row_number() OVER (PARTITION BY cell_key ORDER BY attempts DESC) = 1")
        return count(con, "cells") - before + int(retried)
    finally:
        con.unregister("_incoming_cells")


def ingest_shards(con: duckdb.DuckDBPyConnection, artifacts: ArtifactStore, results: str,
                  chunk: int = 200) -> tuple[int, int]:
    """Every complete shard in `results` not ingested yet, oldest first; returns (cells, verdicts)
    written. An image whose bytes do not match its hash stops the ingest, naming the shard."""
    seen = {r[0] for r in con.execute("SELECT shard_id FROM ingested_shards").fetchall()}
    todo: list[ShardManifest] = [m for m in list_shards(results) if m.shard_id not in seen]
    cells = verdicts = 0
    for start in range(0, len(todo), chunk):
        shards = list(read_shards(results, todo[start:start + chunk]))
        for shard in shards:
            for sha, png in shard.artifacts.items():
                stored = artifacts.put(ImageData(png=png))
                if stored != sha:
                    raise ValueError(f"shard {shard.manifest.shard_id}: artifact {sha} has the bytes of {stored}")
        con.execute("BEGIN TRANSACTION")
        try:
            cells += insert_cells(con, [[row.get(c) for c in CELL_COLUMNS] for s in shards for row in s.cells])
            before = count(con, "verdicts")
            insert_rows(con, "verdicts", VERDICT_COLUMNS,
                        [[row[c] for c in VERDICT_COLUMNS] for s in shards for row in s.verdicts])
            verdicts += count(con, "verdicts") - before
            insert_rows(con, "ingested_shards", SHARD_COLUMNS,
                        [[m.shard_id, m.unit_id, m.run_id, m.cells, m.verdicts, utcnow()]
                         for m in (s.manifest for s in shards)], verb="INSERT")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return cells, verdicts
