"""Over time: each lineage over its revisions and over nights, what changed since the last cycle,
the alerts and the runs.

Nights come from the snapshot history (storage/history.py): one block of rates per published
cycle; when a night saw two cycles, the later one stands for it.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from leaderboard.data.source import NAMES, PathArg, names_cte, opened, query
from mmwatch.records import HistoryMetric

HEADLINE = {m.value: m.title for m in (HistoryMetric.ASR, HistoryMetric.OVER_REFUSAL, HistoryMetric.UTILITY)}
# the history's revisions and the current ones, named by one rule (a revision keeps its latest label)
_ALL_NAMES = names_cte("""(SELECT model_id, arg_max(lineage, night) AS lineage, arg_max(revision, night) AS revision,
        arg_max(label, night) AS label FROM (
            SELECT model_id, lineage, revision, label, night FROM history
            UNION ALL SELECT model_id, lineage, revision, label, DATE '9999-12-31' FROM leaderboard)
        GROUP BY model_id)""")
# The cycle that stands for each night: its latest (a small aggregate, so the history is filtered
# before it is joined, never windowed whole)
_LATEST = "latest AS (SELECT night, max(published_at) AS published_at FROM history GROUP BY night)"


def history(lineage: str | None = None, *, path: PathArg = None) -> pd.DataFrame:
    """Each lineage's revisions in order (order_key), for trends over revisions."""
    return query(
        f"""WITH {NAMES}
        SELECT n.model, l.* FROM leaderboard l JOIN names n USING (model_id)
        WHERE ? IS NULL OR l.lineage = ? ORDER BY l.lineage, l.order_key""",
        [lineage, lineage],
        path=path,
    )


def trend(lineage: str | None = None, *, path: PathArg = None) -> pd.DataFrame:
    """history() in long form: one row per revision x metric (ASR, Over-refusal, Utility)."""
    wide = history(lineage, path=path)
    parts = []
    for col, metric in HEADLINE.items():
        part = wide[["model", "lineage", "revision", "order_key", col, f"{col}_lo", f"{col}_hi"]]
        part = part.set_axis([*part.columns[:4], "rate", "rate_lo", "rate_hi"], axis=1)
        parts.append(part.assign(metric=metric))
    return pd.concat(parts, ignore_index=True)


def lineages(*, path: PathArg = None) -> list[str]:
    """Lineages on the board, the one with the most revisions first (its trend says most)."""
    df = query("SELECT lineage, count(*) AS n FROM leaderboard GROUP BY lineage ORDER BY n DESC, lineage", path=path)
    return [str(x) for x in df["lineage"]]


def nights(*, path: PathArg = None) -> list[str]:
    """The nights the history holds, oldest first (ISO dates)."""
    with opened(path) as con:
        return _nights(con)


def _nights(con: duckdb.DuckDBPyConnection) -> list[str]:
    df = query("SELECT DISTINCT night FROM history ORDER BY night", con=con)
    return [str(pd.Timestamp(n).date()) for n in df["night"]]


def trend_nights(lineage: str | None = None, *, path: PathArg = None) -> pd.DataFrame:
    """Headline rates (ASR, over-refusal, utility) per night x revision of a lineage, with intervals."""
    metrics = list(HEADLINE)
    df = query(
        f"""WITH {_ALL_NAMES}, {_LATEST}, h AS (SELECT * FROM history JOIN latest USING (night, published_at))
        SELECT h.night, coalesce(n.model, h.model_id) AS model, h.model_id, h.lineage, h.revision, h.order_key,
            h.metric, h.rate, h.rate_lo, h.rate_hi, h.n, h.run_id, h.plan_id
        FROM h LEFT JOIN names n USING (model_id)
        WHERE (? IS NULL OR h.lineage = ?) AND h.metric IN (SELECT unnest(?))
            AND h.attack = '*' AND h.defense = '*' AND h.benchmark = '*' AND h.category = '*'
        ORDER BY h.night, h.order_key, h.metric""",
        [lineage, lineage, metrics], path=path,
    )
    return df.assign(metric=df["metric"].map(HEADLINE))


def night_alerts(lineage: str | None = None, *, path: PathArg = None) -> pd.DataFrame:
    """The alerts each night raised (for markers on the trends), with their state now where known."""
    with opened(path) as con:
        return _night_alerts(con, lineage)


def _night_alerts(con: duckdb.DuckDBPyConnection, lineage: str | None) -> pd.DataFrame:
    return query(
        f"""WITH {_ALL_NAMES}
        SELECT h.night, coalesce(n.model, h.model_id) AS model, coalesce(b.model, h.baseline_id) AS baseline,
            h.alert_id, h.lineage, h.model_id, h.baseline_id, h.metric, h.attack, h.defense, h.category,
            h.rate_old, h.rate_new, h.p_adjusted, coalesce(a.state, h.state) AS state
        FROM history_alerts h LEFT JOIN alerts a USING (alert_id)
        LEFT JOIN names n ON n.model_id = h.model_id LEFT JOIN names b ON b.model_id = h.baseline_id
        WHERE ? IS NULL OR h.lineage = ? ORDER BY h.night DESC, h.lineage, h.attack""",
        [lineage, lineage], con=con,
    )


@dataclass(frozen=True)
class Changes:
    """What the Overview says changed: since the previous night, and each new revision against the
    one before it in its lineage."""

    night: str | None
    previous: str | None
    new_revisions: pd.DataFrame  # revisions first seen this night (model, lineage, revision, rates)
    alerts: pd.DataFrame  # raised this night
    moves: pd.DataFrame  # same revision and slice, this night against the previous: biggest first
    revision_moves: pd.DataFrame  # each lineage's newest revision against its predecessor


def _moves(con: duckdb.DuckDBPyConnection, night: str | None, previous: str | None, limit: int) -> pd.DataFrame:
    """The two nights' latest cycles only (the history is written in night order: the scan reads
    their row groups), paired by revision and slice."""
    return query(
        f"""WITH {_ALL_NAMES},
        h AS (SELECT * FROM history WHERE night IN (?::DATE, ?::DATE)
              QUALIFY published_at = max(published_at) OVER (PARTITION BY night)),
        now AS (SELECT * FROM h WHERE night = ?::DATE), before AS (SELECT * FROM h WHERE night = ?::DATE)
        SELECT coalesce(n.model, now.model_id) AS model, now.model_id, now.lineage, now.metric, now.attack,
            now.defense, now.benchmark, now.category, before.rate AS before, now.rate AS after,
            now.rate - before.rate AS delta, now.n, before.n AS n_before, now.plan_id <> before.plan_id AS plan_changed
        FROM now JOIN before USING (model_id, metric, attack, defense, benchmark, category)
        LEFT JOIN names n ON n.model_id = now.model_id
        WHERE now.rate IS NOT NULL AND before.rate IS NOT NULL AND abs(now.rate - before.rate) > 0
        ORDER BY abs(now.rate - before.rate) DESC, model, now.metric LIMIT ?""",
        [night, previous, night, previous, limit], con=con,
    )


def _revision_moves(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return query(
        f"""WITH {NAMES}, l AS (SELECT *, lag(model_id) OVER w AS prev_id, row_number() OVER w AS pos,
                count(*) OVER (PARTITION BY lineage) AS revisions
            FROM leaderboard WINDOW w AS (PARTITION BY lineage ORDER BY order_key))
        SELECT n.model, p.model AS predecessor, l.lineage, l.asr, b.asr AS asr_before, l.asr - b.asr AS asr_delta,
            l.over_refusal, b.over_refusal AS over_refusal_before, l.over_refusal - b.over_refusal AS over_refusal_delta,
            l.utility, b.utility AS utility_before, l.utility - b.utility AS utility_delta
        FROM l JOIN leaderboard b ON b.model_id = l.prev_id JOIN names n ON n.model_id = l.model_id
        JOIN names p ON p.model_id = l.prev_id
        WHERE l.pos = l.revisions ORDER BY abs(coalesce(l.asr - b.asr, 0)) DESC, n.model""",
        con=con,
    )


def changes(*, limit: int = 10, path: PathArg = None) -> Changes:
    """The Overview's facts; with one night of history, everything on the board is new. Every query
    on one connection: one snapshot, opened once."""
    with opened(path) as con:
        seen = _nights(con)
        night = seen[-1] if seen else None
        previous = seen[-2] if len(seen) > 1 else None
        fresh = query(
            f"""WITH {NAMES}
            SELECT n.model, l.* FROM leaderboard l JOIN names n USING (model_id)
            WHERE NOT EXISTS (SELECT 1 FROM history h WHERE h.model_id = l.model_id AND h.night < ?::DATE)
            ORDER BY l.lineage, l.order_key""",
            [night], con=con,
        ) if night else query(f"WITH {NAMES} SELECT n.model, l.* FROM leaderboard l JOIN names n USING (model_id)",
                              con=con)
        raised = _night_alerts(con, None)
        if night is not None and not raised.empty:
            raised = raised[raised["night"].map(lambda d: str(pd.Timestamp(d).date())) == night]
        moves = _moves(con, night, previous, limit) if previous else pd.DataFrame()
        return Changes(night=night, previous=previous, new_revisions=fresh, alerts=raised.reset_index(drop=True),
                       moves=moves, revision_moves=_revision_moves(con))


def alerts(lineage: str | None = None, *, path: PathArg = None) -> pd.DataFrame:
    """Regression alerts, newest first, with display names for the model and its baseline."""
    return query(
        f"""WITH {NAMES}
        SELECT coalesce(n.model, a.model_id) AS model, coalesce(b.model, a.baseline_id) AS baseline,
            a.* FROM alerts a LEFT JOIN names n ON n.model_id = a.model_id
        LEFT JOIN names b ON b.model_id = a.baseline_id
        WHERE ? IS NULL OR a.lineage = ? ORDER BY a.created_at DESC, a.lineage, a.attack""",
        [lineage, lineage],
        path=path,
    )


# The items behind an alert, paired when the snapshot was published (alert_items: storage/metrics.py derived)
REGRESSED = """SELECT n.sample_id, n.category, n.prompt, o.label AS before, n.label AS after, n.cell_key,
            o.cell_key AS baseline_cell_key
        FROM alert_items i JOIN examples n ON n.item_order = i.item_order
        JOIN examples o ON o.item_order = i.baseline_order
        WHERE i.alert_id = ?"""


def regressed_samples(alert_id: str, *, path: PathArg = None) -> pd.DataFrame:
    """The items behind an alert: the attack succeeded on the new revision, not on its baseline.

    The same rows and the same outcome the regression test paired: the alert's attack and defense
    specs (by hash), each item's primary-role outcome, items scored on both revisions; paired when
    the snapshot was published (alert_items), so that no page joins two revisions' rows.
    """
    return query(REGRESSED + " ORDER BY n.category, n.sample_id", [alert_id], path=path)


def runs(*, path: PathArg = None) -> pd.DataFrame:
    """Evaluation runs, newest first (durations, cells, errors; cost and internals in operator mode)."""
    return query("SELECT * FROM runs ORDER BY started_at DESC", path=path)
