"""Publish the read-only snapshot that the leaderboard and any public site read.

The snapshot is written whole into a temporary file next to its destination and renamed into
place, so a reader sees either the old snapshot or the new one, never half of one, and never
holds a lock on the primary store. It holds exactly the current plan's numbers (see
storage/metrics.py), and says which config and plan they are for.
"""

from __future__ import annotations

import glob
import os
import uuid
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb

from mmwatch.analysis.outcomes import JudgeRole
from mmwatch.records import PublishOptions
from storage import metrics, outcomes
from storage.calibrations import fill_corrected_asr

SNAPSHOT_VERSION = 3

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


def _copy(con: duckdb.DuckDBPyConnection, target: str, sql: str, params: dict[str, Any] | None = None) -> None:
    con.execute(f"INSERT INTO snap.{target} {sql}", params or {})


def _meta(con: duckdb.DuckDBPyConnection, options: PublishOptions) -> dict[str, str]:
    row = con.execute("SELECT count(*) FROM plan_cells WHERE plan_id = ?", [options.plan_id]).fetchone()
    meta = {
        "snapshot_version": str(SNAPSHOT_VERSION),
        "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "run_id": options.run_id,
        "title": options.title,
        "show_responses": "true" if options.show_responses else "false",
        "config_hash": options.config_hash,
        "plan_id": options.plan_id,
        "plan_cells": str(row[0] if row else 0),
    }
    for role in JudgeRole:
        meta[f"{role.value}_judge"] = options.roles.of(role).name
        meta[f"{role.value}_judge_version"] = str(options.roles.of(role).version)
    return meta


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def publish(con: duckdb.DuckDBPyConnection, snapshot_path: Path, options: PublishOptions) -> Path:
    """Write the snapshot of one plan from the primary store's connection; returns its path."""
    snapshot_path = Path(snapshot_path)
    snapshot_path.parent.mkdir(parents=True, exist_ok=True)
    for stale in snapshot_path.parent.glob(f".{glob.escape(snapshot_path.name)}.*.tmp*"):
        stale.unlink(missing_ok=True)  # left by a publish that was killed (publishing holds the store: not ours)
    tmp = snapshot_path.with_name(f".{snapshot_path.name}.{uuid.uuid4().hex[:8]}.tmp")
    row = con.execute("SELECT current_database()").fetchone()
    primary = str(row[0]) if row else "memory"
    con.execute(f"ATTACH {outcomes.literal(str(tmp))} AS snap")
    try:
        con.execute("USE snap")
        con.execute((resources.files("storage") / "snapshot.sql").read_text())
        con.execute(f"USE {_identifier(primary)}")
        outcomes.prepare(con, options.plan_id, options.roles)
        con.executemany("INSERT INTO snap.meta VALUES (?, ?)", list(_meta(con, options).items()))
        _copy(con, "leaderboard", metrics.LEADERBOARD)
        fill_corrected_asr(con, "snap.leaderboard", options.roles.safety)
        _copy(con, "asr_by_attack", metrics.ASR_BY_ATTACK)
        _copy(con, "asr_by_category", metrics.ASR_BY_CATEGORY)
        _copy(con, "refusal_rates", metrics.REFUSAL_RATES)
        _copy(con, "alerts", CURRENT_ALERTS)
        # This run is `completed` in the snapshot: the snapshot exists only once its publish has.
        _copy(con, "runs", "SELECT run_id, started_at, finished_at, CASE WHEN run_id = $run AND status = 'running' "
                           "THEN 'completed' ELSE status END, config_hash, code_version, cells_new, cells_failed, "
                           "plan_id FROM runs ORDER BY started_at", {"run": options.run_id})
        _copy(con, "examples", metrics.EXAMPLES, {"show": options.show_responses})
    except BaseException:
        con.execute(f"USE {_identifier(primary)}")
        con.execute("DETACH snap")
        tmp.unlink(missing_ok=True)
        raise
    con.execute("DETACH snap")
    os.replace(tmp, snapshot_path)
    return snapshot_path
