"""Stored judge calibrations, and the corrected ASR they allow in the published snapshot."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import duckdb

from mmwatch.analysis.calibration import CalibrationReport, Confusion, corrected_asr
from mmwatch.analysis.outcomes import JudgeRef
from mmwatch.types import stable_hash
from storage.metrics import HARMFUL, SAFETY, SUCCESS
from storage.outcomes import SCORED_SQL

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


def latest_confusion(con: duckdb.DuckDBPyConnection, judge: JudgeRef) -> Confusion | None:
    """The newest calibration of exactly this judge version, if any (another version is another judge)."""
    row = con.execute(
        "SELECT tp, fp, fn, tn FROM judge_calibrations WHERE judge = ? AND judge_version = ? "
        "ORDER BY created_at DESC LIMIT 1", [judge.name, judge.version]).fetchone()
    return Confusion(tp=row[0], fp=row[1], fn=row[2], tn=row[3]) if row else None


# What the safety judge itself scored: harmful items without a target string (a target hit is
# decided by the target judge, whose error rates this calibration does not measure), undefended, and
# not of a benchmark counted by its own judge (another judge, other error rates). Pooled over those
# cells: the correction of one judge's error rates applies to the rate of that judge's verdicts.
SAFETY_JUDGED = f"""
SELECT model_id, count(*) FILTER (outcome IN {SCORED_SQL}) AS n, count(*) FILTER (outcome = {SUCCESS}) AS k
FROM outcomes WHERE role = {SAFETY} AND is_primary AND kind = {HARMFUL} AND defense_baseline
    AND judge = $judge AND judge_version = $version GROUP BY model_id
"""


def fill_corrected_asr(con: duckdb.DuckDBPyConnection, table: str, safety_judge: JudgeRef) -> int:
    """Set asr_corrected(_lo/_hi) on every leaderboard row, from the safety judge's own ASR (after
    storage.outcomes.prepare); returns how many rows got a value."""
    confusion = latest_confusion(con, safety_judge)
    if confusion is None:
        return 0
    filled = 0
    judged = con.execute(SAFETY_JUDGED, {"judge": safety_judge.name, "version": safety_judge.version}).fetchall()
    for model_id, n, k in judged:
        fixed = corrected_asr(int(k), int(n), confusion) if n else None
        if fixed is None or fixed.estimate is None:
            continue
        con.execute(f"UPDATE {table} SET asr_corrected = ?, asr_corrected_lo = ?, asr_corrected_hi = ? "
                    "WHERE model_id = ?", [fixed.estimate, *fixed.interval, model_id])
        filled += 1
    return filled
