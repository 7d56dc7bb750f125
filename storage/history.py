"""The snapshot history: one block of aggregate rates per published cycle, kept in the primary store
(snapshot_history, snapshot_history_alerts: migration 008) and copied whole into every snapshot, so
the board shows trends over nights as well as over revisions.

A night's rows are read from the snapshot tables that publish has just written, never counted a
second time: the headline rates of `leaderboard` (attack, defense, benchmark, category '*'), ASR
per attack x defense (`asr_by_attack`), per attack x benchmark x category (`asr_by_category`,
baseline defense: defense '*'), each benchmark's own number (`benchmark_scores` headlines: its ASR
over attacks, its utility metric; attack, defense and category '*'), and refusal rates per attack
(`refusal_rates`: `refusal` on harmful items, `over_refusal` on benign ones). Only revisions on the
leaderboard have rows. The night's alerts are the snapshot's alerts that this run raised.

The store and the snapshot file are not one transaction, so the store write is left open by
`record_night`: publish commits it once the snapshot is in place and rolls it back when the publish
fails, so a failed publish leaves no rows of its run (and a re-publish that fails keeps the earlier
ones). Re-publishing a run replaces its rows: never a second block for one run.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import duckdb

from mmwatch.analysis.outcomes import JudgeRole, JudgeRoles
from mmwatch.records import HistoryMetric, PublishOptions
from storage.metrics import BENIGN, HARMFUL, UTILITY
from storage.outcomes import literal


ALL = literal("*")  # pooled as the headline pools it
_M = {m: literal(m.value) for m in HistoryMetric}

# (model_id, metric, attack, defense, benchmark, category, judge, n, k, rate, lo, hi) of this snapshot;
# $safety / $refusal / $utility: the role's judge (with the benchmarks' own, where pooled over them);
# a benchmark's row names that benchmark's safety judge ({safety_of_benchmark}: _safety_of_benchmark).
_RATES = f"""
SELECT model_id, {_M[HistoryMetric.ASR]}, {ALL}, {ALL}, {ALL}, {ALL}, $safety, n_harmful,
    round(asr * n_harmful), asr, asr_lo, asr_hi FROM snap.leaderboard
UNION ALL SELECT model_id, {_M[HistoryMetric.ANY_ASR]}, {ALL}, {ALL}, {ALL}, {ALL}, $safety, n_any,
    round(any_asr * n_any), any_asr, any_asr_lo, any_asr_hi FROM snap.leaderboard
UNION ALL SELECT model_id, {_M[HistoryMetric.OVER_REFUSAL]}, {ALL}, {ALL}, {ALL}, {ALL}, $refusal, n_benign,
    round(over_refusal * n_benign), over_refusal, over_refusal_lo, over_refusal_hi FROM snap.leaderboard
UNION ALL SELECT model_id, {_M[HistoryMetric.UTILITY]}, {ALL}, {ALL}, {ALL}, {ALL}, $utility, n_utility,
    round(utility * n_utility), utility, utility_lo, utility_hi FROM snap.leaderboard
UNION ALL SELECT model_id, {_M[HistoryMetric.ASR]}, attack, defense, {ALL}, {ALL}, coalesce(judge, $safety), n,
    successes, asr, asr_lo, asr_hi FROM snap.asr_by_attack
UNION ALL SELECT model_id, {_M[HistoryMetric.ASR]}, attack, {ALL}, benchmark, category, {{safety_of_benchmark}}, n,
    successes, asr, asr_lo, asr_hi FROM snap.asr_by_category
UNION ALL SELECT model_id, CASE kind WHEN {HARMFUL} THEN {_M[HistoryMetric.ASR]} ELSE {_M[HistoryMetric.UTILITY]} END,
    {ALL}, {ALL}, benchmark, {ALL}, judge, n, round(value * n), value, lo, hi
FROM snap.benchmark_scores WHERE headline AND kind IN ({HARMFUL}, {UTILITY})  -- each benchmark's own number
UNION ALL SELECT model_id, CASE kind WHEN {HARMFUL} THEN {_M[HistoryMetric.REFUSAL]}
        ELSE {_M[HistoryMetric.OVER_REFUSAL]} END, attack, {ALL}, {ALL}, {ALL}, $refusal, n,
    refusals, rate, rate_lo, rate_hi FROM snap.refusal_rates WHERE kind IN ({HARMFUL}, {BENIGN})
"""
def role_judges_text(roles: JudgeRoles, role: JudgeRole) -> str:
    """A role's judge as a history row names it: the run's, then any benchmark's own (`a; hb: b`)."""
    own = roles.benchmark_judges(role)
    return "; ".join([roles.of(role).name] + [f"{b}: {j.name}" for b, j in sorted(own.items())])


def _safety_of_benchmark(roles: JudgeRoles) -> str:
    own = roles.benchmark_judges(JudgeRole.SAFETY)
    arms = " ".join(f"WHEN {literal(b)} THEN {literal(j.name)}" for b, j in sorted(own.items()))
    return f"CASE benchmark {arms} ELSE {literal(roles.safety.name)} END" if arms else literal(roles.safety.name)


NIGHT_HISTORY = f"""
SELECT $night::DATE, $run, $published, $config, $plan, r.model_id, l.lineage, l.revision, l.label, l.order_key,
    r.metric, r.attack, r.defense, r.benchmark, r.category, r.judge, coalesce(r.n, 0),
    coalesce(r.k, 0)::INTEGER, r.rate, r.lo, r.hi
FROM ({{rates}}) r(model_id, metric, attack, defense, benchmark, category, judge, n, k, rate, lo, hi)
JOIN snap.leaderboard l USING (model_id)
"""

NIGHT_ALERTS = """
SELECT $night::DATE, $run, a.alert_id, a.lineage, a.model_id, a.baseline_id, a.metric, a.attack, a.defense,
    a.category, a.rate_old, a.rate_new, a.p_adjusted, a.state
FROM snap.alerts a WHERE a.alert_id IN (SELECT alert_id FROM alerts WHERE run_id = $run)
"""

_ORDER = {"history": "night, published_at, run_id, lineage, order_key, model_id, metric, attack, defense, "
                     "benchmark, category",
          "history_alerts": "night, run_id, lineage, model_id, alert_id"}


def _meta(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return {str(k): str(v) for k, v in con.execute("SELECT key, value FROM snap.meta").fetchall()}


def _published_at(iso: str) -> datetime:
    """meta's published_at (ISO, UTC offset) as the naive UTC timestamp the tables hold."""
    return datetime.fromisoformat(iso).astimezone(UTC).replace(tzinfo=None)


def record_night(con: duckdb.DuckDBPyConnection, options: PublishOptions) -> bool:
    """Put every night's history into the snapshot attached as `snap` (its other tables filled), and
    this night's into the store: that write is left in an open transaction for the caller to commit
    once the snapshot file is in place, or roll back (returns True when one is open). Without a run
    id, or with `options.history` off (a second file of the same run), the history is only copied."""
    recording = bool(options.run_id) and options.history
    run = options.run_id if recording else None
    if recording:
        meta = _meta(con)
        params: dict[str, Any] = {
            "night": meta["night"], "run": options.run_id, "published": _published_at(meta["published_at"]),
            "config": options.config_hash, "plan": options.plan_id,
            **{role.value: role_judges_text(options.roles, role)
               for role in (JudgeRole.SAFETY, JudgeRole.REFUSAL, JudgeRole.UTILITY)}}
        rates = _RATES.format(safety_of_benchmark=_safety_of_benchmark(options.roles))
        con.execute(f"CREATE OR REPLACE TEMP TABLE night_history AS {NIGHT_HISTORY.format(rates=rates)}", params)
        con.execute(f"CREATE OR REPLACE TEMP TABLE night_alerts AS {NIGHT_ALERTS}",
                    {"night": params["night"], "run": params["run"]})
    for table, night in (("history", "night_history"), ("history_alerts", "night_alerts")):
        if run is None:
            con.execute(f"INSERT INTO snap.{table} SELECT * FROM snapshot_{table} ORDER BY {_ORDER[table]}")
        else:  # the store's other runs, and this one as it is about to be stored
            con.execute(f"INSERT INTO snap.{table} SELECT * FROM (SELECT * FROM snapshot_{table} WHERE run_id <> $run "
                        f"UNION ALL SELECT * FROM {night}) ORDER BY {_ORDER[table]}", {"run": run})
    if run is None:
        return False
    con.execute("BEGIN TRANSACTION")
    try:
        for table, night in (("history", "night_history"), ("history_alerts", "night_alerts")):
            con.execute(f"DELETE FROM snapshot_{table} WHERE run_id = ?", [run])
            con.execute(f"INSERT INTO snapshot_{table} SELECT * FROM {night}")
            con.execute(f"DROP TABLE {night}")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return True
