"""Publish the read-only snapshot that the leaderboard and any public site read.

The snapshot is written whole into a temporary file next to its destination and renamed into
place, so a reader sees either the old snapshot or the new one, never half of one, and never
holds a lock on the primary store. It holds exactly the current plan's numbers (see
storage/metrics.py), and says which config and plan they are for.

Its mode says who it is for (mmwatch.records.BoardMode): a public snapshot never holds a response
or judge rationale of an item that is not benign or utility, nor the runs' internals (code version,
cost, message), nor the images of those items; an operator snapshot holds everything, and names the
store. Every snapshot carries the whole history of published nights (storage/history.py).
"""

from __future__ import annotations

import glob
import json
import os
import uuid
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb

from mmwatch.analysis.outcomes import JudgeRole
from mmwatch.records import BoardMode, PublishOptions, RunStatus
from storage import metrics, outcomes
from storage.benchmark_scores import fill_benchmark_scores
from storage.calibrations import fill_corrected_asr
from storage.headline import fill_headline_asr
from storage.history import record_night
from storage.snapshot_images import fill_images

SNAPSHOT_VERSION = 6
_RUNNING, _COMPLETED = outcomes.literal(RunStatus.RUNNING.value), outcomes.literal(RunStatus.COMPLETED.value)

# Alerts about this plan's cells only: both revisions, the attack and defense specs and the judge
# (name and version) must be those the plan's outcomes hold. Older alerts stay in the store.
CURRENT_ALERTS = """
SELECT a.alert_id, a.lineage, a.model_id, a.baseline_id, a.attack, a.defense, a.metric, a.n_pairs, a.only_new,
    a.only_old, a.rate_old, a.rate_new, a.p_value, a.p_adjusted, a.created_at, a.attack_hash, a.defense_hash,
    a.judge, a.judge_version, a.baseline_kind, a.category, a.diff_low, a.diff_high, a.state
FROM alerts a
WHERE starts_with(a.lineage, 'canary:')  -- a night's re-test of an API model: never in the ranked outcomes
    OR (EXISTS (SELECT 1 FROM outcomes o WHERE o.model_id = a.model_id AND a.attack_hash IN ('*', o.attack_hash)
            AND a.defense_hash IN ('*', o.defense_hash) AND o.judge = a.judge AND o.judge_version = a.judge_version)
        AND EXISTS (SELECT 1 FROM outcomes o WHERE o.model_id = a.baseline_id AND a.attack_hash IN ('*', o.attack_hash)
            AND a.defense_hash IN ('*', o.defense_hash) AND o.judge = a.judge AND o.judge_version = a.judge_version))
ORDER BY a.created_at
"""


# Every run; its internals (code version, cost, message) only in operator mode. This run is `completed`
# in the snapshot: the snapshot exists only once its publish has.
RUNS = f"""
SELECT r.run_id, r.started_at, r.finished_at,
    CASE WHEN r.run_id = $run AND r.status = {_RUNNING} THEN {_COMPLETED} ELSE r.status END,
    r.config_hash, CASE WHEN $operator THEN r.code_version END, r.cells_new, r.cells_failed, r.plan_id,
    r.cells_planned, date_diff('microsecond', r.started_at, r.finished_at) / 1e6,  -- NULL while unfinished
    CASE WHEN $operator THEN c.cost_usd END, CASE WHEN $operator THEN r.message END
FROM runs r LEFT JOIN (SELECT run_id, sum(cost_usd) AS cost_usd FROM cells GROUP BY run_id) c USING (run_id)
ORDER BY r.started_at
"""

# The images of the published examples: in public mode only those of benign and utility items.
EXAMPLE_IMAGES = f"""
SELECT DISTINCT unnest(image_shas) FROM snap.examples WHERE {metrics.shown("kind")}
"""


_BY_NAME = {"examples"}  # selected with the table's column names (storage/metrics.py ordered)


def _copy(con: duckdb.DuckDBPyConnection, target: str, sql: str, params: dict[str, Any] | None = None) -> None:
    by_name = " BY NAME" if target in _BY_NAME else ""
    con.execute(f"INSERT INTO snap.{target}{by_name} {sql}", params or {})


def _night(con: duckdb.DuckDBPyConnection, run_id: str) -> str:
    """The night a run belongs to: the UTC date it started (today, for a run the store does not know)."""
    found = con.execute("SELECT CAST(started_at AS DATE) FROM runs WHERE run_id = ?", [run_id]).fetchall()
    return (found[0][0] if found and found[0][0] else datetime.now(UTC).date()).isoformat()


def _meta(con: duckdb.DuckDBPyConnection, options: PublishOptions) -> dict[str, str]:
    row = con.execute("SELECT count(*) FROM plan_cells WHERE plan_id = ?", [options.plan_id]).fetchone()
    operator = options.mode is BoardMode.OPERATOR
    meta = {
        "snapshot_version": str(SNAPSHOT_VERSION),
        "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "run_id": options.run_id,
        "title": options.title,
        "mode": options.mode.value,
        "night": _night(con, options.run_id),
        "show_responses": "true" if operator else "false",  # what the leaderboard reads: operator mode
        "config_hash": options.config_hash,
        "plan_id": options.plan_id,
        "plan_cells": str(row[0] if row else 0),
    }
    if operator and options.store_path is not None:  # where the Label page writes human labels, and their images
        meta["store"] = options.store_path
        if options.artifacts is not None:
            meta["artifacts"] = str(Path(options.artifacts).resolve())
    for role in JudgeRole:
        meta[f"{role.value}_judge"] = options.roles.of(role).name
        meta[f"{role.value}_judge_version"] = str(options.roles.of(role).version)
    if options.roles.by_benchmark:  # [{benchmark, role, judge}]: the benchmarks counted by their own judge
        meta["benchmark_judges"] = json.dumps([{"benchmark": own.benchmark, "role": own.role.value,
                                                "judge": own.judge.name} for own in options.roles.by_benchmark])
    measures = judge_measures(options.roles.safety.name)
    if measures is not None:  # what the board may call the safety judge's success rate
        meta["safety_judge_measures"] = measures
    return meta


def judge_measures(name: str) -> str | None:
    """What a registered judge measures (plugins.Measure), None for one this code does not know."""
    from mmwatch import plugins
    from mmwatch.registry import UnknownPluginError

    try:
        return plugins.judges.info(name).traits.measures.value
    except UnknownPluginError:
        return None


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _fill(con: duckdb.DuckDBPyConnection, options: PublishOptions) -> None:
    """Every table but the history, from the plan's outcomes (storage/metrics.py)."""
    mode = {"operator": options.mode is BoardMode.OPERATOR}
    outcomes.prepare(con, options.plan_id, options.roles)
    con.executemany("INSERT INTO snap.meta VALUES (?, ?)", list(_meta(con, options).items()))
    _copy(con, "leaderboard", metrics.LEADERBOARD)
    fill_corrected_asr(con, "snap.leaderboard", options.roles.safety)
    _copy(con, "asr_by_attack", metrics.ASR_BY_ATTACK)
    _copy(con, "asr_by_category", metrics.ASR_BY_CATEGORY)
    _copy(con, "refusal_rates", metrics.REFUSAL_RATES)
    _copy(con, "asr_slices", metrics.ASR_SLICES)
    fill_headline_asr(con, "snap")  # equal weight per benchmark and attack, over the slices just written
    fill_benchmark_scores(con, "snap", options.loaders)  # each benchmark's own numbers; utility: equal weight per benchmark
    _copy(con, "alerts", CURRENT_ALERTS)
    _copy(con, "runs", RUNS, {"run": options.run_id, **mode})
    _copy(con, "examples", metrics.EXAMPLES, mode)
    _copy(con, "verdicts", metrics.VERDICTS, mode)
    for table, sql in metrics.derived("snap").items():  # from the examples just written
        _copy(con, table, sql)
    shas = [r[0] for r in con.execute(EXAMPLE_IMAGES, mode).fetchall()]
    fill_images(con, "snap.images", shas, options.artifacts)


def _keep_order(con: duckdb.DuckDBPyConnection) -> bool:
    """Make every INSERT ... ORDER BY write its rows in that order, returning the setting as it was.
    The order is the snapshot's index: examples in item order, verdicts and cell_index by cell_key,
    so that the readers' zone maps skip all but a row group or two; a connection that turned
    preserve_insertion_order off (a bulk loader) would otherwise write them in any order."""
    row = con.execute("SELECT current_setting('preserve_insertion_order')").fetchone()
    con.execute("SET preserve_insertion_order = true")
    return str(row[0]).lower() in ("true", "1") if row else True


def publish(con: duckdb.DuckDBPyConnection, snapshot_path: Path, options: PublishOptions) -> Path:
    """Write the snapshot of one plan from the primary store's connection; returns its path. The
    night's history rows are committed to the store only once the snapshot is in place."""
    previous = _keep_order(con)
    try:
        return _publish(con, snapshot_path, options)
    finally:
        con.execute(f"SET preserve_insertion_order = {str(previous).lower()}")


def _publish(con: duckdb.DuckDBPyConnection, snapshot_path: Path, options: PublishOptions) -> Path:
    snapshot_path = Path(snapshot_path)
    snapshot_path.parent.mkdir(parents=True, exist_ok=True)
    for stale in snapshot_path.parent.glob(f".{glob.escape(snapshot_path.name)}.*.tmp*"):
        stale.unlink(missing_ok=True)  # left by a publish that was killed (publishing holds the store: not ours)
    tmp = snapshot_path.with_name(f".{snapshot_path.name}.{uuid.uuid4().hex[:8]}.tmp")
    row = con.execute("SELECT current_database()").fetchone()
    primary = _identifier(str(row[0]) if row else "memory")
    con.execute(f"ATTACH {outcomes.literal(str(tmp))} AS snap")
    attached, pending = True, False
    try:
        con.execute("USE snap")
        con.execute((resources.files("storage") / "snapshot.sql").read_text())
        con.execute(f"USE {primary}")
        _fill(con, options)
        pending = record_night(con, options)  # the store's write, open until the snapshot is in place
        con.execute("DETACH snap")
        attached = False
        os.replace(tmp, snapshot_path)
        if pending:
            con.execute("COMMIT")
            pending = False
    except BaseException:
        if pending:
            con.execute("ROLLBACK")
        con.execute(f"USE {primary}")
        if attached:
            con.execute("DETACH snap")
        tmp.unlink(missing_ok=True)
        raise
    return snapshot_path
