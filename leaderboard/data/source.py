"""Every query the leaderboard makes, against the published snapshot only (storage/snapshot.sql).

Pages never query: they call these functions, so the snapshot schema is read in one place.
Each query opens the file read-only and closes it again, never caching a connection: a held
DuckDB handle would block the nightly writer, and reopening picks up the snapshot that the
writer renamed into place.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from mmwatch.analysis.outcomes import Outcome
from mmwatch.types import SampleKind

SNAPSHOT_ENV = "MMWATCH_SNAPSHOT"
DEFAULT_SNAPSHOT = "leaderboard.duckdb"
# Responses to these kinds are harmless to show; anything else (harmful, unknown) is redacted.
_PUBLIC_KINDS = (SampleKind.BENIGN.value, SampleKind.UTILITY.value)
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
    snapshot_version: str | None = None
    show_responses: bool = False
    demo: bool = False  # meta demo = 'true', or a title that says "demo" (configs/demo.yaml)
    safety_judge: str | None = None
    utility_judge: str | None = None
    target_judge: str | None = None
    config_hash: str | None = None  # the config, and the plan of its cells, that every number counts
    plan_id: str | None = None
    plan_cells: int | None = None
    extra: dict[str, str] = field(default_factory=dict)


def snapshot_path(path: PathArg = None) -> Path:
    """The argument, else $MMWATCH_SNAPSHOT, else leaderboard.duckdb in the working folder."""
    return Path(path if path is not None else os.environ.get(SNAPSHOT_ENV) or DEFAULT_SNAPSHOT)


def _query(sql: str, params: Sequence[Any] = (), path: PathArg = None) -> pd.DataFrame:
    """Run one query on a fresh read-only connection and close it before returning."""
    file = snapshot_path(path)
    if not file.is_file():
        raise SnapshotMissing(
            f"No leaderboard snapshot at {file.resolve()}. Run `mmwatch run` to evaluate models "
            f"and publish one, or point ${SNAPSHOT_ENV} at an existing snapshot file."
        )
    for attempt in range(_LOCK_RETRIES):
        try:
            with duckdb.connect(str(file), read_only=True) as con:
                return con.execute(sql, list(params)).df()
        except duckdb.IOException as exc:  # a writer holds the file: wait, it renames soon
            if "lock" not in str(exc).lower() or attempt == _LOCK_RETRIES - 1:
                raise SnapshotError(f"Cannot open snapshot {file}: {exc}") from exc
            time.sleep(0.2 * (attempt + 1))
        except duckdb.CatalogException as exc:
            raise SnapshotError(f"Snapshot {file} does not match storage/snapshot.sql: {exc}") from exc
    raise AssertionError("unreachable")


def _is_true(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


def meta(*, path: PathArg = None) -> Meta:
    """Title, publication time and publishing policy of the snapshot."""
    rows = dict(_query("SELECT key, value FROM meta", path=path).itertuples(index=False))
    known = {"title", "published_at", "run_id", "snapshot_version", "show_responses", "demo",
             "safety_judge", "utility_judge", "target_judge", "config_hash", "plan_id", "plan_cells"}
    title = rows.get("title") or Meta.title
    return Meta(
        title=title,
        published_at=rows.get("published_at"),
        run_id=rows.get("run_id"),
        snapshot_version=rows.get("snapshot_version"),
        show_responses=_is_true(rows.get("show_responses")),
        demo=_is_true(rows.get("demo")) or "demo" in title.lower().split(),
        safety_judge=rows.get("safety_judge"),
        utility_judge=rows.get("utility_judge"),
        target_judge=rows.get("target_judge"),
        config_hash=rows.get("config_hash"),
        plan_id=rows.get("plan_id"),
        plan_cells=int(rows["plan_cells"]) if (rows.get("plan_cells") or "").isdigit() else None,
        extra={k: v for k, v in rows.items() if k not in known},
    )


# Display name per model: its label, prefixed by the lineage where two lineages share a label.
_NAMES = """names AS (
    SELECT model_id, lineage, CASE WHEN count(*) OVER (PARTITION BY label) > 1
        THEN lineage || ' · ' || label ELSE label END AS model FROM leaderboard)"""


def ranking(*, latest_only: bool = False, path: PathArg = None) -> pd.DataFrame:
    """One row per model revision, safest first, with safety's interval (1 - ASR's)."""
    df = _query(
        f"""WITH {_NAMES}
        SELECT n.model, l.*, 1 - l.asr_hi AS safety_lo, 1 - l.asr_lo AS safety_hi,
            l.order_key = max(l.order_key) OVER (PARTITION BY l.lineage) AS is_latest
        FROM leaderboard l JOIN names n USING (model_id)
        ORDER BY l.safety DESC NULLS LAST, l.utility DESC NULLS LAST, n.model""",
        path=path,
    )
    if latest_only:
        df = df[df["is_latest"].fillna(False).astype(bool)]
    df = df.reset_index(drop=True)
    df.insert(0, "rank", range(1, len(df) + 1))
    return df


def history(lineage: str | None = None, *, path: PathArg = None) -> pd.DataFrame:
    """Each lineage's revisions in order (order_key), for trends over time."""
    return _query(
        f"""WITH {_NAMES}
        SELECT n.model, l.* FROM leaderboard l JOIN names n USING (model_id)
        WHERE ? IS NULL OR l.lineage = ? ORDER BY l.lineage, l.order_key""",
        [lineage, lineage],
        path=path,
    )


def trend(lineage: str | None = None, *, path: PathArg = None) -> pd.DataFrame:
    """history() in long form: one row per revision x metric (ASR, Over-refusal, Utility)."""
    wide = history(lineage, path=path)
    parts = []
    for metric, col in (("ASR", "asr"), ("Over-refusal", "over_refusal"), ("Utility", "utility")):
        part = wide[["model", "lineage", "revision", "order_key", col, f"{col}_lo", f"{col}_hi"]]
        part = part.set_axis([*part.columns[:4], "rate", "rate_lo", "rate_hi"], axis=1)
        parts.append(part.assign(metric=metric))
    return pd.concat(parts, ignore_index=True)


def asr_by_attack(
    model_id: str | None = None, *, defense: str | None = None, path: PathArg = None
) -> pd.DataFrame:
    """ASR per model x attack x defense; None means every model / every defense."""
    return _query(
        f"""WITH {_NAMES}
        SELECT coalesce(n.model, a.model_id) AS model, n.lineage, a.* FROM asr_by_attack a
        LEFT JOIN names n USING (model_id)
        WHERE (? IS NULL OR a.model_id = ?) AND (? IS NULL OR a.defense = ?)
        ORDER BY model, a.attack, a.defense""",
        [model_id, model_id, defense, defense],
        path=path,
    )


def defense_deltas(model_id: str | None = None, *, path: PathArg = None) -> pd.DataFrame:
    """ASR under each defense against the same model and attack undefended (delta < 0 helps)."""
    return _query(
        f"""WITH {_NAMES}
        SELECT coalesce(n.model, d.model_id) AS model, d.model_id, d.attack, d.defense,
            b.asr AS asr_none, d.asr AS asr_defended, d.asr - b.asr AS delta, b.n AS n_none, d.n
        FROM asr_by_attack d
        JOIN asr_by_attack b ON b.model_id = d.model_id AND b.attack_hash = d.attack_hash AND b.defense_baseline
        LEFT JOIN names n ON n.model_id = d.model_id
        WHERE NOT d.defense_baseline AND (? IS NULL OR d.model_id = ?)
        ORDER BY model, d.attack, d.defense""",
        [model_id, model_id],
        path=path,
    )


def defenses(*, path: PathArg = None) -> list[str]:
    """Defenses present in the snapshot, the undefended baseline first."""
    df = _query("SELECT defense, bool_or(defense_baseline) AS baseline FROM asr_by_attack GROUP BY defense", path=path)
    return [str(d) for d in df.sort_values(["baseline", "defense"], ascending=[False, True])["defense"]]


def attacks(*, path: PathArg = None) -> list[str]:
    """Attacks present in the snapshot, the unattacked baseline first."""
    df = _query("SELECT attack, bool_or(attack_baseline) AS baseline FROM asr_by_attack GROUP BY attack", path=path)
    return [str(a) for a in df.sort_values(["baseline", "attack"], ascending=[False, True])["attack"]]


def asr_by_category(
    model_id: str | None = None, *, attack: str | None = None, path: PathArg = None
) -> pd.DataFrame:
    """ASR per model x attack x harm category."""
    return _query(
        """SELECT * FROM asr_by_category WHERE (? IS NULL OR model_id = ?)
        AND (? IS NULL OR attack = ?) ORDER BY model_id, category, attack""",
        [model_id, model_id, attack, attack],
        path=path,
    )


def refusal_rates(
    model_id: str | None = None, *, kind: str | None = None, path: PathArg = None
) -> pd.DataFrame:
    """Refusal rate per model x attack x kind (RtA on harmful, over-refusal on benign)."""
    return _query(
        """SELECT * FROM refusal_rates WHERE (? IS NULL OR model_id = ?)
        AND (? IS NULL OR kind = ?) ORDER BY model_id, attack, kind""",
        [model_id, model_id, kind, kind],
        path=path,
    )


def alerts(lineage: str | None = None, *, path: PathArg = None) -> pd.DataFrame:
    """Regression alerts, newest first, with display names for the model and its baseline."""
    return _query(
        f"""WITH {_NAMES}
        SELECT coalesce(n.model, a.model_id) AS model, coalesce(b.model, a.baseline_id) AS baseline,
            a.* FROM alerts a LEFT JOIN names n ON n.model_id = a.model_id
        LEFT JOIN names b ON b.model_id = a.baseline_id
        WHERE ? IS NULL OR a.lineage = ? ORDER BY a.created_at DESC, a.lineage, a.attack""",
        [lineage, lineage],
        path=path,
    )


def regressed_samples(alert_id: str, *, path: PathArg = None) -> pd.DataFrame:
    """The items behind an alert: the attack succeeded on the new revision, not on its baseline.

    The same rows and the same outcome the regression test paired: the alert's attack and defense
    specs (by hash), each item's primary-role outcome, items scored on both revisions.
    """
    return _query(
        """WITH a AS (SELECT * FROM alerts WHERE alert_id = ?)
        SELECT n.sample_id, n.category, n.prompt, o.label AS before, n.label AS after
        FROM a JOIN examples n ON n.model_id = a.model_id AND a.attack_hash IN ('*', n.attack_hash)
            AND a.defense_hash IN ('*', n.defense_hash) AND (a.category = '' OR n.category = a.category)
        JOIN examples o ON o.model_id = a.baseline_id AND o.attack_hash = n.attack_hash
            AND o.defense_hash = n.defense_hash AND o.sample_id = n.sample_id AND o.probe_index = n.probe_index
        WHERE n.attacked AND n.judge = a.judge AND o.judge = a.judge
            AND n.outcome = ? AND o.outcome IN (SELECT unnest(?))
        ORDER BY n.category, n.sample_id""",
        [alert_id, Outcome.SUCCESS.value, [Outcome.REFUSED.value, Outcome.SAFE.value]],
        path=path,
    )


def runs(*, path: PathArg = None) -> pd.DataFrame:
    """Evaluation runs, newest first."""
    return _query("SELECT * FROM runs ORDER BY started_at DESC", path=path)


def examples(
    model_id: str,
    attack: str,
    *,
    defense: str | None = None,
    category: str | None = None,
    limit: int = 500,
    path: PathArg = None,
) -> pd.DataFrame:
    """Per-sample results; harmful responses are redacted unless meta.show_responses is 'true'.

    The publisher already leaves them NULL; redacting here too means a snapshot written by a
    buggy or older publisher still cannot leak them. `redacted` marks rows hidden by policy.
    """
    public = ", ".join(f"'{kind}'" for kind in _PUBLIC_KINDS)
    # Policy read in the same query as the rows, so a snapshot swapped in between cannot mix.
    visible = f"""(coalesce((SELECT lower(trim(value)) = 'true' FROM meta
        WHERE key = 'show_responses'), false) OR coalesce(e.kind IN ({public}), false))"""
    return _query(
        f"""SELECT sample_id, category, kind, attack, defense, prompt, label, outcome, judge,
            CASE WHEN {visible} THEN response_text END AS response_text,
            NOT {visible} AS redacted, error, model_id
        FROM examples e WHERE model_id = ? AND attack = ? AND (? IS NULL OR defense = ?)
            AND (? IS NULL OR category = ?)
        ORDER BY kind, category, sample_id, defense LIMIT ?""",
        [model_id, attack, defense, defense, category, category, limit],
        path=path,
    )


def example_index(*, path: PathArg = None) -> pd.DataFrame:
    """Which (model, attack, defense) have per-sample rows, for the drill-down's pickers."""
    return _query(
        f"""WITH {_NAMES}
        SELECT coalesce(n.model, e.model_id) AS model, e.model_id, e.attack, e.defense,
            count(*) AS n FROM examples e LEFT JOIN names n USING (model_id)
        GROUP BY ALL ORDER BY model, e.attack, e.defense""",
        path=path,
    )


def format_rate(rate: float | None) -> str:
    """12%; '<1%' / '>99%' so that a rare event never reads as exactly 0 or 100."""
    if rate is None or pd.isna(rate):
        return "—"
    pct = rate * 100
    if 0 < pct < 1:
        return "<1%"
    if 99 < pct < 100:
        return ">99%"
    return f"{pct:.0f}%"


def format_interval(rate: float | None, lo: float | None, hi: float | None) -> str:
    """'12% (8–17%)': the rate and its 95% interval; '—' when nothing was scored."""
    if format_rate(rate) == "—":
        return "—"
    if format_rate(lo) == "—" or format_rate(hi) == "—":
        return format_rate(rate)
    return f"{format_rate(rate)} ({format_rate(lo).rstrip('%')}–{format_rate(hi)})"


def format_points(delta: float | None) -> str:
    """A change of rate in percentage points, signed: '−25 pp'."""
    if delta is None or pd.isna(delta):
        return "—"
    return f"{delta * 100:+.0f} pp".replace("-", "−")


def intervals(df: pd.DataFrame, col: str) -> pd.Series:
    """Column `col` with its `col_lo`/`col_hi` formatted as '12% (8–17%)' for display tables."""
    if df.empty:
        return pd.Series([], dtype=object, index=df.index)
    return df.apply(lambda r: format_interval(r[col], r[f"{col}_lo"], r[f"{col}_hi"]), axis=1)
