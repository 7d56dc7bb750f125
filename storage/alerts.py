"""The alerts tables: raised once, a state that changes, silences, and a delivery row per sink.

An alert is keyed by what it is about (mmwatch.alerts.watch.alert_id), so a night that finds the
same regression again inserts nothing and sends nothing. Deliveries are an outbox: a row per
(alert, sink) stays `pending` until the sink took the alert, so a sink that is down on one night
gets it the next.
"""

from __future__ import annotations

import fnmatch
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import duckdb

from mmwatch.records import AlertMetric, AlertRecord, AlertState, BaselineKind
from storage.rows import insert_rows, utcnow

COLUMNS = (
    "alert_id", "run_id", "lineage", "model_id", "baseline_id", "attack", "defense", "metric", "n_pairs", "only_new",
    "only_old", "rate_old", "rate_new", "p_value", "p_adjusted", "created_at", "attack_hash", "defense_hash", "judge",
    "judge_version", "baseline_kind", "category", "diff_low", "diff_high", "state", "state_changed_at", "state_note",
)
_SELECT = ("SELECT alert_id, run_id, lineage, model_id, baseline_id, attack, defense, attack_hash, defense_hash, judge, "
           "judge_version, metric, n_pairs, only_new, only_old, rate_old, rate_new, p_value, p_adjusted, baseline_kind, "
           "category, diff_low, diff_high, state, created_at, state_note FROM alerts")
PENDING, SENT = "pending", "sent"


def _record(r: tuple[Any, ...]) -> AlertRecord:
    return AlertRecord(alert_id=r[0], run_id=r[1], lineage=r[2], model_id=r[3], baseline_id=r[4], attack=r[5],
                       defense=r[6], attack_hash=r[7], defense_hash=r[8], judge=r[9], judge_version=r[10],
                       metric=AlertMetric(r[11]), n_pairs=r[12], only_new=r[13], only_old=r[14], rate_old=r[15],
                       rate_new=r[16], p_value=r[17], p_adjusted=r[18],
                       baseline_kind=BaselineKind(r[19] or BaselineKind.PREDECESSOR.value), category=r[20] or "",
                       diff_low=r[21], diff_high=r[22], state=AlertState(r[23] or AlertState.NEW.value))


def silenced_by(con: duckdb.DuckDBPyConnection, alert: AlertRecord, at: datetime) -> str | None:
    """The id of an active silence that covers the alert, if any."""
    for silence_id, lineage, metric in con.execute(
            "SELECT silence_id, lineage, metric FROM alert_silences WHERE until > ?", [at]).fetchall():
        if fnmatch.fnmatchcase(alert.lineage, lineage) and metric in (None, alert.metric.value):
            return str(silence_id)
    return None


def raise_alerts(con: duckdb.DuckDBPyConnection, alerts: Sequence[AlertRecord]) -> list[AlertRecord]:
    """Insert the alerts not raised before; returns those, each `new` or `silenced` (an active silence)."""
    known = {r[0] for r in con.execute("SELECT alert_id FROM alerts WHERE alert_id IN (SELECT unnest(?))",
                                       [[a.alert_id for a in alerts]]).fetchall()}
    now = utcnow()
    fresh, rows = [], []
    for alert in alerts:
        if alert.alert_id in known:
            continue
        known.add(alert.alert_id)
        silence = silenced_by(con, alert, now)
        state = AlertState.SILENCED if silence else AlertState.NEW
        alert = alert.model_copy(update={"state": state})
        fresh.append(alert)
        rows.append([alert.alert_id, alert.run_id, alert.lineage, alert.model_id, alert.baseline_id, alert.attack,
                     alert.defense, alert.metric.value, alert.n_pairs, alert.only_new, alert.only_old, alert.rate_old,
                     alert.rate_new, alert.p_value, alert.p_adjusted, now, alert.attack_hash, alert.defense_hash,
                     alert.judge, alert.judge_version, alert.baseline_kind.value, alert.category, alert.diff_low,
                     alert.diff_high, state.value, now, f"silence {silence}" if silence else None])
    insert_rows(con, "alerts", COLUMNS, rows)
    return fresh


def alerts(con: duckdb.DuckDBPyConnection, states: Sequence[AlertState] = ()) -> list[tuple[AlertRecord, datetime,
                                                                                              str | None]]:
    """Alerts (all, or in `states`), oldest first, with when they were raised and the state's note."""
    where = " WHERE state IN (SELECT unnest(?))" if states else ""
    params = [[s.value for s in states]] if states else []
    return [(_record(r), r[24], r[25]) for r in con.execute(f"{_SELECT}{where} ORDER BY created_at, alert_id",
                                                            params).fetchall()]


def set_state(con: duckdb.DuckDBPyConnection, alert_id: str, state: AlertState, note: str | None) -> bool:
    """Change one alert's state; False when no alert has that id (or unique prefix)."""
    ids = [r[0] for r in con.execute("SELECT alert_id FROM alerts WHERE starts_with(alert_id, ?)", [alert_id]).fetchall()]
    if len(ids) != 1:
        return False
    con.execute("UPDATE alerts SET state = ?, state_changed_at = ?, state_note = ? WHERE alert_id = ?",
                [state.value, utcnow(), note, ids[0]])
    return True


def add_silence(con: duckdb.DuckDBPyConnection, lineage: str, until: datetime, metric: AlertMetric | None,
                reason: str | None) -> str:
    silence_id = uuid.uuid4().hex[:8]
    con.execute("INSERT INTO alert_silences VALUES (?, ?, ?, ?, ?, ?)",
                [silence_id, lineage, metric.value if metric else None, until, reason, utcnow()])
    return silence_id


def queue_deliveries(con: duckdb.DuckDBPyConnection, alert_ids: Sequence[str], sinks: Sequence[tuple[str, str]]) -> None:
    """A pending row per (alert, sink); `sinks` are (spec hash, label)."""
    rows = [[a, sink, label, PENDING, 0, None, None] for a in alert_ids for sink, label in sinks]
    insert_rows(con, "alert_deliveries", ("alert_id", "sink", "sink_label", "status", "attempts", "last_error",
                                          "sent_at"), rows)


def pending(con: duckdb.DuckDBPyConnection, sink: str) -> list[AlertRecord]:
    """The alerts a sink has not taken yet (an alert silenced or acknowledged since is not sent)."""
    rows = con.execute(f"{_SELECT} WHERE alert_id IN (SELECT alert_id FROM alert_deliveries WHERE sink = ? AND "
                       "status = ?) AND state = ? ORDER BY created_at, alert_id",
                       [sink, PENDING, AlertState.NEW.value]).fetchall()
    return [_record(r) for r in rows]


def record_delivery(con: duckdb.DuckDBPyConnection, sink: str, alert_ids: Sequence[str], error: str | None,
                    tries: int) -> None:
    con.execute("UPDATE alert_deliveries SET attempts = attempts + ?, last_error = ?, status = ?, sent_at = ? "
                "WHERE sink = ? AND alert_id IN (SELECT unnest(?))",
                [tries, error, PENDING if error else SENT, None if error else utcnow(), sink, list(alert_ids)])


def watch_marks(con: duckdb.DuckDBPyConnection, plan_id: str) -> dict[str, int]:
    """Scored answers per revision when the watch last compared it under this plan."""
    return {r[0]: r[1] for r in con.execute("SELECT model_id, scored FROM watched_revisions WHERE plan_id = ?",
                                            [plan_id]).fetchall()}


def set_watch_marks(con: duckdb.DuckDBPyConnection, plan_id: str, marks: dict[str, int]) -> None:
    insert_rows(con, "watched_revisions", ("model_id", "plan_id", "scored", "compared_at"),
                [[m, plan_id, n, utcnow()] for m, n in marks.items()], verb="INSERT OR REPLACE")
