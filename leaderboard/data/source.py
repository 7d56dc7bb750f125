"""Opening the published snapshot (storage/snapshot.sql) and reading its meta table.

Each answer opens the file read-only and closes it again (`opened`: one connection for all the
queries of one answer), never caching a connection: a held DuckDB handle would block the nightly
writer, and reopening picks up the snapshot that the writer renamed into place.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from mmwatch.records import BoardMode
from mmwatch.types import SampleKind

SNAPSHOT_ENV = "MMWATCH_SNAPSHOT"
DEFAULT_SNAPSHOT = "leaderboard.duckdb"
# Responses to these kinds are harmless to show; anything else (harmful, unknown) is redacted.
PUBLIC_KINDS = (SampleKind.BENIGN.value, SampleKind.UTILITY.value)
_LOCK_RETRIES = 5

PathArg = str | os.PathLike[str] | None


class SnapshotError(RuntimeError):
    """The snapshot cannot be read; the message is safe to show to the public."""


class SnapshotMissing(SnapshotError, FileNotFoundError):
    """No snapshot file has been published yet at the path the leaderboard reads."""


@dataclass(frozen=True)
class Meta:
    """The snapshot's meta table, typed; `extra` keeps keys this version does not know."""

    title: str = "mmwatch safety leaderboard"
    published_at: str | None = None
    run_id: str | None = None
    night: str | None = None
    snapshot_version: str | None = None
    mode: BoardMode = BoardMode.PUBLIC  # a snapshot that does not say is public
    show_responses: bool = False
    demo: bool = False  # meta demo = 'true', or a title that says "demo" (configs/demo.yaml)
    safety_judge: str | None = None
    refusal_judge: str | None = None  # refusal rates and over-refusal; the safety judge in older snapshots
    safety_measures: str | None = None  # plugins.Measure of the safety judge: harm, or refusal
    utility_judge: str | None = None
    target_judge: str | None = None
    config_hash: str | None = None  # the config, and the plan of its cells, that every number counts
    plan_id: str | None = None
    plan_cells: int | None = None
    store: str | None = None  # operator snapshots: the primary store that human labels go to
    benchmark_judges: tuple[tuple[str, str, str], ...] = ()  # (benchmark, role, judge) counted by its own judge
    extra: dict[str, str] = field(default_factory=dict)

    def judges_text(self) -> str:
        """Which judge fills each role: every number on the board is one of theirs (plain text), and
        what an ASR means when the safety judge detects refusal rather than harm."""
        roles = (("safety", self.safety_judge), ("refusal", self.refusal_judge), ("utility", self.utility_judge),
                 ("target", self.target_judge))
        text = ", ".join(f"{role} {name or '?'}" for role, name in roles)
        if self.benchmark_judges:
            text += "; " + ", ".join(f"{benchmark}'s {role} by {judge}"
                                     for benchmark, role, judge in self.benchmark_judges)
        if self.safety_measures == "refusal":
            text += (f" (ASR here is the non-refusal rate: {self.safety_judge} detects refusal, not harm; "
                     "set a harm judge as safety_judge for an ASR)")
        return text

    @property
    def operator(self) -> bool:
        return self.mode is BoardMode.OPERATOR


def snapshot_path(path: PathArg = None) -> Path:
    """The argument, else $MMWATCH_SNAPSHOT, else leaderboard.duckdb in the working folder."""
    return Path(path if path is not None else os.environ.get(SNAPSHOT_ENV) or DEFAULT_SNAPSHOT)


@contextmanager
def opened(path: PathArg = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """One read-only connection to the snapshot for the queries of one answer, closed on leaving.

    An answer made of several queries (an item with its verdicts, images and predecessor; the
    Overview's changes) runs them all on it: opening the file costs more than most queries (some
    40 ms on a 10 M-verdict snapshot), and one connection reads one file, so a snapshot renamed
    into place meanwhile cannot mix two nights into one answer. Never held past the block: a held
    handle would block the nightly writer, and the next answer must pick up the next snapshot.
    """
    file = snapshot_path(path)
    if not file.is_file():
        raise SnapshotMissing(
            f"No leaderboard snapshot at {file.resolve()}. Run `mmwatch run` to evaluate models "
            f"and publish one, or point ${SNAPSHOT_ENV} at an existing snapshot file."
        )
    con = _connect(file)
    try:
        yield con
    except (duckdb.CatalogException, duckdb.BinderException) as exc:
        raise SnapshotError(f"Snapshot {file} does not match storage/snapshot.sql: {exc}") from exc
    finally:
        con.close()


def _connect(file: Path) -> duckdb.DuckDBPyConnection:
    for attempt in range(_LOCK_RETRIES):
        try:
            return duckdb.connect(str(file), read_only=True)
        except duckdb.IOException as exc:  # a writer holds the file: wait, it renames soon
            if "lock" not in str(exc).lower() or attempt == _LOCK_RETRIES - 1:
                raise SnapshotError(f"Cannot open snapshot {file}: {exc}") from exc
            time.sleep(0.2 * (attempt + 1))
        except duckdb.Error as exc:  # not a DuckDB file, or one of a newer storage version
            raise SnapshotError(f"Cannot open snapshot {file}: {exc}") from exc
    raise AssertionError("unreachable")


def query(sql: str, params: Sequence[Any] = (), path: PathArg = None,
          con: duckdb.DuckDBPyConnection | None = None) -> pd.DataFrame:
    """Run one query: on `con` (an `opened` connection: several queries of one answer), else on a
    fresh read-only connection to the snapshot at `path`, closed before returning."""
    if con is None:
        with opened(path) as own:
            return query(sql, params, con=own)
    return con.execute(sql, list(params)).df()


def _benchmark_judges(value: str | None) -> tuple[tuple[str, str, str], ...]:
    """meta benchmark_judges ([{benchmark, role, judge}] as JSON); unreadable: none, rather than no board."""
    try:
        rows = json.loads(value) if value else []
        return tuple((str(r["benchmark"]), str(r["role"]), str(r["judge"])) for r in rows)
    except (ValueError, TypeError, KeyError):
        return ()


def _is_true(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


def _mode(rows: dict[str, str]) -> BoardMode:
    try:
        return BoardMode((rows.get("mode") or BoardMode.PUBLIC.value).strip().lower())
    except ValueError:
        return BoardMode.PUBLIC  # an unknown mode gets the safe one


_KNOWN = {"title", "published_at", "run_id", "night", "snapshot_version", "mode", "show_responses", "demo",
          "safety_judge", "refusal_judge", "safety_judge_measures", "utility_judge", "target_judge", "config_hash", "plan_id", "plan_cells", "store",
          "benchmark_judges"}


def meta(*, path: PathArg = None) -> Meta:
    """Title, publication time and publishing policy of the snapshot."""
    rows = dict(query("SELECT key, value FROM meta", path=path).itertuples(index=False))
    title = rows.get("title") or Meta.title
    mode = _mode(rows)
    return Meta(
        title=title,
        published_at=rows.get("published_at"),
        run_id=rows.get("run_id"),
        night=rows.get("night"),
        snapshot_version=rows.get("snapshot_version"),
        mode=mode,
        show_responses=_is_true(rows.get("show_responses")),
        demo=_is_true(rows.get("demo")) or "demo" in title.lower().split(),
        safety_judge=rows.get("safety_judge"),
        refusal_judge=rows.get("refusal_judge") or rows.get("safety_judge"),
        safety_measures=rows.get("safety_judge_measures"),
        utility_judge=rows.get("utility_judge"),
        target_judge=rows.get("target_judge"),
        config_hash=rows.get("config_hash"),
        plan_id=rows.get("plan_id"),
        plan_cells=int(rows["plan_cells"]) if (rows.get("plan_cells") or "").isdigit() else None,
        store=rows.get("store") if mode is BoardMode.OPERATOR else None,
        benchmark_judges=_benchmark_judges(rows.get("benchmark_judges")),
        extra={k: v for k, v in rows.items() if k not in _KNOWN},
    )


# Display name per model revision, one rule everywhere: its label; `label @revision` where one lineage
# has two revisions with that label (config-named revisions share their lineage's name); prefixed
# by the lineage where two lineages use the label.
def names_cte(models: str = "leaderboard") -> str:
    """The `names` CTE (model_id, lineage, model) over a relation with model_id, lineage, revision, label."""
    return f"""names0 AS (
        SELECT model_id, lineage, label || CASE WHEN count(*) OVER (PARTITION BY lineage, label) > 1
            THEN ' @' || revision ELSE '' END AS base,
            min(lineage) OVER (PARTITION BY label) <> max(lineage) OVER (PARTITION BY label) AS shared
        FROM {models}),
    names AS (
        SELECT model_id, lineage, CASE WHEN shared OR count(*) OVER (PARTITION BY base) > 1
            THEN lineage || ' · ' || base ELSE base END AS model FROM names0)"""


NAMES = names_cte()
