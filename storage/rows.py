"""Rows of the cells and verdicts tables, built in one place for the store and for result shards."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import duckdb

from mmwatch.records import CellRecord
from mmwatch.types import Verdict

CELL_COLUMNS = (
    "cell_key", "run_id", "model_id", "sample_id", "probe_index", "attack", "attack_version", "attack_spec",
    "attack_label", "defense", "defense_version", "defense_spec", "defense_label", "generation", "seed",
    "probe_system", "probe_text", "probe_images", "probe_target", "probe_params", "response_text", "error",
    "tokens_in", "tokens_out", "latency_s", "cost_usd", "created_at", "attack_hash", "defense_hash", "adapter_spec",
    "attempts", "defense_steps",
)
VERDICT_COLUMNS = ("cell_key", "judge", "judge_version", "label", "score", "rationale", "run_id", "created_at")


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def cell_row(c: CellRecord, image_shas: list[str]) -> list[object]:
    """A cell as the cells table holds it; images by the sha256 of their bytes."""
    p, r = c.probe, c.response
    return [
        c.cell_key, c.run_id, c.model_id, c.sample_id, c.probe_index,
        c.attack["name"], c.attack["version"], json.dumps(c.attack, sort_keys=True), c.attack_label,
        c.defense["name"], c.defense["version"], json.dumps(c.defense, sort_keys=True), c.defense_label,
        json.dumps(c.generation, sort_keys=True), c.seed,
        p.system if p else None, p.text if p else None, image_shas, p.target if p else None,
        json.dumps(p.attack_params, sort_keys=True, default=str) if p else None,
        r.text, r.error, r.tokens_in, r.tokens_out, r.latency_s, r.cost_usd, utcnow(),
        c.attack_hash, c.defense_hash, json.dumps(c.adapter, sort_keys=True, default=str), c.attempt,
        json.dumps([step.model_dump(mode="json") for step in r.steps]) if r.steps else None,
    ]


def verdict_row(cell_key: str, v: Verdict, run_id: str, at: datetime | None = None) -> list[object]:
    return [cell_key, v.judge, v.judge_version, v.label.value, v.score, v.rationale, run_id, at or utcnow()]


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str], rows: Sequence[Sequence[object]],
                verb: str = "INSERT OR IGNORE") -> None:
    """Many rows in one statement, through an Arrow table: DuckDB's executemany runs one statement
    per row (milliseconds each), which would make the store the bottleneck of a night's run."""
    if not rows:
        return
    import pyarrow as pa

    incoming = pa.Table.from_pylist([dict(zip(columns, row, strict=True)) for row in rows])
    con.register("_incoming", incoming)
    try:
        con.execute(f"{verb} INTO {table} ({', '.join(columns)}) SELECT {', '.join(columns)} FROM _incoming")
    finally:
        con.unregister("_incoming")
