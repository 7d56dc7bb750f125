"""Publish the read-only snapshot that the leaderboard and any public site read.

The snapshot is written whole into a temporary file next to its destination and renamed into
place, so a reader sees either the old snapshot or the new one, never half of one, and never
holds a lock on the primary store.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from storage import metrics
from storage.calibrations import fill_corrected_asr
from storage.store import DuckDBStore

SNAPSHOT_VERSION = 1


class PublishOptions(BaseModel):
    model_config = ConfigDict(frozen=True)

    safety_judge: str
    utility_judge: str
    title: str = "mmwatch safety leaderboard"
    show_responses: bool = False  # raw responses to harmful items stay private unless set
    run_id: str = ""


def _copy(con: object, target: str, sql: str, params: dict[str, object] | None = None) -> None:
    con.execute(f"INSERT INTO snap.{target} {sql}", params or {})  # type: ignore[attr-defined]


def publish(store: DuckDBStore, snapshot_path: Path, options: PublishOptions) -> Path:
    """Write the snapshot from the primary store; returns its path."""
    snapshot_path = Path(snapshot_path)
    snapshot_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = snapshot_path.with_name(f".{snapshot_path.name}.{uuid.uuid4().hex[:8]}.tmp")
    con = store.con
    primary = con.execute("SELECT current_database()").fetchone()[0]  # type: ignore[index]
    con.execute(f"ATTACH '{tmp}' AS snap")
    try:
        con.execute("USE snap")
        con.execute((resources.files("storage") / "snapshot.sql").read_text())
        con.execute(f'USE "{primary}"')
        metrics.prepare(con, options.safety_judge, options.utility_judge)
        meta = {
            "snapshot_version": str(SNAPSHOT_VERSION),
            "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "run_id": options.run_id,
            "title": options.title,
            "show_responses": "true" if options.show_responses else "false",
            "safety_judge": options.safety_judge,
            "utility_judge": options.utility_judge,
        }
        con.executemany("INSERT INTO snap.meta VALUES (?, ?)", list(meta.items()))
        _copy(con, "leaderboard", metrics.LEADERBOARD)
        fill_corrected_asr(con, "snap.leaderboard", options.safety_judge)
        _copy(con, "asr_by_attack", metrics.ASR_BY_ATTACK)
        _copy(con, "asr_by_category", metrics.ASR_BY_CATEGORY)
        _copy(con, "refusal_rates", metrics.REFUSAL_RATES)
        _copy(con, "alerts", "SELECT * EXCLUDE (run_id) FROM alerts ORDER BY created_at")
        _copy(con, "runs", "SELECT run_id, started_at, finished_at, status, config_hash, code_version, "
                           "cells_new, cells_failed FROM runs ORDER BY started_at")
        _copy(
            con,
            "examples",
            "SELECT model_id, sample_id, category, kind, attack, defense, probe_text, label, "
            "CASE WHEN kind = 'harmful' AND NOT $show THEN NULL ELSE response_text END, error "
            "FROM outcomes ORDER BY model_id, sample_id, attack, defense",
            {"show": options.show_responses},
        )
    except BaseException:
        con.execute(f'USE "{primary}"')
        con.execute("DETACH snap")
        tmp.unlink(missing_ok=True)
        raise
    con.execute("DETACH snap")
    os.replace(tmp, snapshot_path)
    return snapshot_path
