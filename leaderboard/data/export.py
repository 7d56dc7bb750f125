"""Whole tables out of the snapshot: `mmwatch export` (one Parquet or CSV file per table), and the two
bulk reads the static site needs (every verdict, the published images) in one query each.

The one module that runs COPY on the snapshot. Files hold the tables as the leaderboard reads them:
responses and rationales that the policy hides (items.VISIBLE) are NULL there too, and only images of
rows the policy shows are written, so that an export is never more public than the board.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import duckdb
import pandas as pd

from leaderboard.data.items import VISIBLE
from leaderboard.data.source import PathArg, opened, query


class ExportFormat(StrEnum):
    """File formats of `mmwatch export`."""

    PARQUET = "parquet"
    CSV = "csv"


@dataclass(frozen=True)
class ExportedTable:
    """One written file: the snapshot table it holds and its row count."""

    table: str
    file: Path
    rows: int


_SHOWN_CELLS = f"(SELECT e.cell_key FROM examples e WHERE {VISIBLE})"
# Per table, the columns every reader sees, and when the others are shown: a column that is not listed
# (the response, the defense's steps, a rationale, or one a later schema adds) is NULL where the policy hides it.
_OPEN = {
    "examples": ({"model_id", "sample_id", "category", "kind", "attack", "defense", "prompt", "label", "error",
                  "outcome", "judge", "attack_hash", "defense_hash", "benchmark", "probe_index", "attacked", "cell_key",
                  "system_text", "image_shas", "disagree", "judge_outcomes", "item_order", "item_key", "prompt_id",
                  "label_rank"},
                 VISIBLE),
    "verdicts": ({"cell_key", "judge", "judge_version", "label", "outcome", "score"}, f"e.cell_key IN {_SHOWN_CELLS}"),
}
_SHOWN_IMAGES = f"e.sha IN (SELECT unnest(e.image_shas) FROM examples e WHERE {VISIBLE})"
_WHERE = {"images": _SHOWN_IMAGES}
# The lookup tables (storage/metrics.py derived) hold nothing examples does not: not exported.
_DERIVED = frozenset({"cell_index", "example_groups", "prompts", "defense_pairs", "alert_items"})
_TABLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")  # names of the schema's tables; a file name as it is
_NESTED = re.compile(r"\[\d*\]$|^(STRUCT|MAP|UNION)\b")


def _tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute("""SELECT table_name FROM information_schema.tables
        WHERE table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY table_name""").fetchall()
    return [str(name) for (name,) in rows if _TABLE_NAME.fullmatch(str(name)) and str(name) not in _DERIVED]


def _select(con: duckdb.DuckDBPyConnection, table: str, fmt: ExportFormat) -> str:
    """The table as readers see it; for CSV, without blobs and with nested values as JSON text."""
    columns = con.execute(f'DESCRIBE "{table}"').fetchall()
    parts = []
    for name, kind, *_ in columns:
        expr = f'e."{name}"'
        if table in _OPEN and name not in _OPEN[table][0]:
            expr = f"CASE WHEN {_OPEN[table][1]} THEN {expr} END"
        if fmt is ExportFormat.CSV and kind == "BLOB":
            continue
        if fmt is ExportFormat.CSV and _NESTED.search(str(kind)):
            expr = f"to_json({expr})::VARCHAR"
        parts.append(f'{expr} AS "{name}"')
    where = f" WHERE {_WHERE[table]}" if table in _WHERE else ""
    return f'SELECT {", ".join(parts)} FROM "{table}" e{where}'


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def export_tables(out: Path, fmt: ExportFormat = ExportFormat.PARQUET, *, path: PathArg = None) -> list[ExportedTable]:
    """Write every table of the snapshot to `out/<table>.<fmt>` (one connection: one snapshot)."""
    options = "FORMAT parquet" if fmt is ExportFormat.PARQUET else "FORMAT csv, HEADER true"
    written = []
    with opened(path) as con:
        out.mkdir(parents=True, exist_ok=True)
        for table in _tables(con):
            sql = _select(con, table, fmt)
            file = out / f"{table}.{fmt.value}"
            con.execute(f"COPY ({sql}) TO {_literal(file)} ({options})")
            row = con.execute(f"SELECT count(*) FROM ({sql})").fetchone()
            written.append(ExportedTable(table=table, file=file, rows=int(row[0]) if row else 0))
    return written


def all_verdicts(*, path: PathArg = None) -> pd.DataFrame:
    """Every verdict of every cell, rationales redacted as verdicts() redacts them."""
    return query("SELECT v.cell_key, v.judge, v.judge_version, v.label, v.outcome, v.score, "
                 f"CASE WHEN v.cell_key IN {_SHOWN_CELLS} THEN v.rationale END AS rationale "
                 "FROM verdicts v ORDER BY v.cell_key, v.judge", path=path)


def published_images(shas: Sequence[str], *, path: PathArg = None) -> dict[str, bytes]:
    """The PNG bytes of those of `shas` that the snapshot publishes for rows the policy shows."""
    df = query(f"SELECT e.sha, e.png FROM images e WHERE e.sha IN (SELECT unnest(?::VARCHAR[])) AND {_SHOWN_IMAGES}",
               [list(shas)], path=path)
    return {str(sha): bytes(png) for sha, png in zip(df["sha"], df["png"], strict=True) if png is not None}
