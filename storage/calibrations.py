"""Stored judge calibrations, and the corrected ASR they allow in the published snapshot."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from mmwatch.analysis.calibration import CalibrationReport, Confusion, corrected_asr
from mmwatch.types import stable_hash

if TYPE_CHECKING:
    from storage.store import DuckDBStore


def save_calibration(store: DuckDBStore, judge_name: str, report: CalibrationReport, labels_source: str,
                     labels_digest: str) -> str:
    c = report.confusion
    calibration_id = stable_hash([judge_name, report.judge_version, report.judge, labels_digest])
    store.con.execute(
        "INSERT OR REPLACE INTO judge_calibrations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [calibration_id, judge_name, report.judge, report.judge_version, report.family, labels_source,
         c.tp, c.fp, c.fn, c.tn, report.unscored, json.dumps(report.summary(), default=str),
         datetime.now(UTC).replace(tzinfo=None)],
    )
    return calibration_id


def latest_confusion(con: object, judge_name: str) -> Confusion | None:
    """The newest calibration of the judge's newest calibrated version, if any."""
    row = con.execute(  # type: ignore[attr-defined]
        "SELECT tp, fp, fn, tn FROM judge_calibrations WHERE judge = ? "
        "ORDER BY judge_version DESC, created_at DESC LIMIT 1", [judge_name]).fetchone()
    return Confusion(tp=row[0], fp=row[1], fn=row[2], tn=row[3]) if row else None


def fill_corrected_asr(con: object, table: str, judge_name: str) -> int:
    """Set asr_corrected(_lo/_hi) on every leaderboard row; returns how many rows got a value."""
    confusion = latest_confusion(con, judge_name)
    if confusion is None:
        return 0
    rows = con.execute(f"SELECT model_id, n_harmful, asr FROM {table}").fetchall()  # type: ignore[attr-defined]
    filled = 0
    for model_id, n, asr in rows:
        if not n or asr is None:
            continue
        fixed = corrected_asr(round(asr * n), n, confusion)
        if fixed.estimate is None:
            continue
        con.execute(f"UPDATE {table} SET asr_corrected = ?, asr_corrected_lo = ?, asr_corrected_hi = ? "  # type: ignore[attr-defined]
                    "WHERE model_id = ?", [fixed.estimate, *fixed.interval, model_id])
        filled += 1
    return filled
