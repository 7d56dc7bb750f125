"""Rates per model revision: the ranking (and its filters), the frontier, the attack matrix.

Every rate here is a row the publisher computed (storage/metrics.py), or, for a filtered ranking
and a paired defense delta, counts of those rows combined by the same rule the headline uses:
equal weight per benchmark and attack (storage.headline), with the core's intervals
(mmwatch.analysis.stats).
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from leaderboard.data.source import NAMES, PathArg, opened, query
from mmwatch.analysis.stats import paired_difference_interval
from storage.headline import headline


def _with_filters(con: duckdb.DuckDBPyConnection, df: pd.DataFrame, benchmark: str | None, attack: str | None,
                  defense: str | None, judge: str | None) -> pd.DataFrame:
    """The ranking's ASR recounted over the chosen slices of asr_slices (default: every benchmark and
    attack, the baseline defense, the primary judge). Any-attack and corrected ASR are not defined
    for a slice, so they are left empty rather than shown for the whole."""
    strata = query(
        """SELECT model_id, benchmark, attack_hash, sum(successes)::BIGINT AS k, sum(n)::BIGINT AS n
        FROM asr_slices WHERE (? IS NULL OR benchmark = ?) AND (? IS NULL OR attack = ?)
            AND (defense = ? OR (? IS NULL AND defense_baseline)) AND (judge = ? OR (? IS NULL AND is_primary))
        GROUP BY ALL ORDER BY ALL""",
        [benchmark, benchmark, attack, attack, defense, defense, judge, judge], con=con,
    )
    rates = headline(list(strata.itertuples(index=False, name=None)))
    totals = strata.groupby("model_id")["n"].sum()
    df = df[df["model_id"].isin(totals.index)].copy()
    df["n_harmful"] = df["model_id"].map(totals).astype(int)
    found = [rates.get(m, (np.nan, np.nan, np.nan)) for m in df["model_id"]]
    for i, col in enumerate(("asr", "asr_lo", "asr_hi")):
        df[col] = [r[i] for r in found]
    df["safety"], df["safety_lo"], df["safety_hi"] = 1 - df["asr"], 1 - df["asr_hi"], 1 - df["asr_lo"]
    for col in ("any_asr", "asr_corrected"):
        df[[col, f"{col}_lo", f"{col}_hi"]] = np.nan
    return df.sort_values(["safety", "utility", "model"], ascending=[False, False, True], na_position="last")


def ranking(*, latest_only: bool = False, benchmark: str | None = None, attack: str | None = None,
            defense: str | None = None, judge: str | None = None, search: str | None = None,
            path: PathArg = None) -> pd.DataFrame:
    """One row per model revision, safest first, with safety's interval (1 - ASR's).

    benchmark / attack / defense / judge narrow the ASR to those slices; `search` keeps revisions
    whose name, lineage or revision contains it (any case)."""
    with opened(path) as con:
        df = query(
            f"""WITH {NAMES}
            SELECT n.model, l.*, 1 - l.asr_hi AS safety_lo, 1 - l.asr_lo AS safety_hi,
                l.order_key = max(l.order_key) OVER (PARTITION BY l.lineage) AS is_latest
            FROM leaderboard l JOIN names n USING (model_id)
            ORDER BY l.safety DESC NULLS LAST, l.utility DESC NULLS LAST, n.model""",
            con=con,
        )
        if any(f is not None for f in (benchmark, attack, defense, judge)):
            df = _with_filters(con, df, benchmark, attack, defense, judge)
    if latest_only:
        df = df[df["is_latest"].fillna(False).astype(bool)]
    if search:
        needle = search.strip().lower()
        hay = df["model"].str.lower() + "\n" + df["lineage"].str.lower() + "\n" + df["revision"].str.lower()
        df = df[hay.str.contains(needle, regex=False)]
    df = df.reset_index(drop=True)
    df.insert(0, "rank", range(1, len(df) + 1))
    return df


def pareto_front(df: pd.DataFrame, x: str = "utility", y: str = "safety") -> pd.Series:
    """True where no other row is at least as good on both axes and better on one (NaN: never)."""
    pts = df[[x, y]].to_numpy(dtype=float)
    ok = ~np.isnan(pts).any(axis=1)
    front = []
    for i, (px, py) in enumerate(pts):
        if not ok[i]:
            front.append(False)
            continue
        others = pts[ok]
        dominated = ((others[:, 0] >= px) & (others[:, 1] >= py) & ((others[:, 0] > px) | (others[:, 1] > py))).any()
        front.append(not dominated)
    return pd.Series(front, index=df.index, dtype=bool)


def frontier(*, path: PathArg = None) -> pd.DataFrame:
    """Revisions with both safety and utility, `on_front` marking the Pareto front; in lineage and
    revision order, so that each lineage's path over its revisions can be drawn."""
    df = ranking(path=path).dropna(subset=["safety", "utility"])
    df = df.assign(on_front=pareto_front(df))
    return df.sort_values(["lineage", "order_key"]).reset_index(drop=True)


def asr_by_attack(model_id: str | None = None, *, defense: str | None = None, path: PathArg = None) -> pd.DataFrame:
    """ASR per model x attack x defense; None means every model / every defense."""
    return query(
        f"""WITH {NAMES}
        SELECT coalesce(n.model, a.model_id) AS model, n.lineage, a.* FROM asr_by_attack a
        LEFT JOIN names n USING (model_id)
        WHERE (? IS NULL OR a.model_id = ?) AND (? IS NULL OR a.defense = ?)
        ORDER BY model, a.attack, a.defense""",
        [model_id, model_id, defense, defense],
        path=path,
    )


def defense_deltas(model_id: str | None = None, *, path: PathArg = None) -> pd.DataFrame:
    """ASR under each defense against the same model and attack undefended (delta < 0 helps), with
    the paired change on the items scored both ways and its 95% interval (delta_lo, delta_hi). The
    pairs were counted when the snapshot was published (defense_pairs: storage/metrics.py derived)."""
    df = query(
        f"""WITH {NAMES}
        SELECT coalesce(n.model, d.model_id) AS model, d.model_id, d.attack, d.defense, d.attack_hash, d.defense_hash,
            b.asr AS asr_none, d.asr AS asr_defended, d.asr - b.asr AS delta, b.n AS n_none, d.n,
            coalesce(p.n_pairs, 0)::BIGINT AS n_pairs, p.only_defended::BIGINT AS only_defended,
            p.only_none::BIGINT AS only_none
        FROM asr_by_attack d
        JOIN asr_by_attack b ON b.model_id = d.model_id AND b.attack_hash = d.attack_hash AND b.defense_baseline
        LEFT JOIN defense_pairs p ON p.model_id = d.model_id AND p.attack_hash = d.attack_hash
            AND p.defense_hash = d.defense_hash
        LEFT JOIN names n ON n.model_id = d.model_id
        WHERE NOT d.defense_baseline AND (? IS NULL OR d.model_id = ?)
        ORDER BY model, d.attack, d.defense""",
        [model_id, model_id],
        path=path,
    )
    for col in ("only_defended", "only_none"):  # NaN where no item was scored both ways, as a merge leaves it
        df[col] = df[col].astype("float64") if df[col].isna().any() else df[col].astype("int64")
    new, old, n = (df[c].fillna(0).astype(int) for c in ("only_defended", "only_none", "n_pairs"))
    df["delta_paired"] = [(a - b) / m if m else np.nan for a, b, m in zip(new, old, n, strict=True)]
    bounds = [paired_difference_interval(a, b, m) if m else (np.nan, np.nan) for a, b, m in zip(new, old, n, strict=True)]
    df["delta_lo"] = [lo for lo, _ in bounds]
    df["delta_hi"] = [hi for _, hi in bounds]
    return df


def _ordered(table: str, column: str, flag: str, path: PathArg) -> list[str]:
    df = query(f"SELECT {column} AS name, bool_or({flag}) AS first FROM {table} GROUP BY {column}", path=path)
    return [str(d) for d in df.sort_values(["first", "name"], ascending=[False, True])["name"]]


def defenses(*, path: PathArg = None) -> list[str]:
    """Defenses present in the snapshot, the undefended baseline first."""
    return _ordered("asr_by_attack", "defense", "defense_baseline", path)


def attacks(*, path: PathArg = None) -> list[str]:
    """Attacks present in the snapshot, the unattacked baseline first."""
    return _ordered("asr_by_attack", "attack", "attack_baseline", path)


def judges(*, path: PathArg = None) -> list[str]:
    """Judges with verdicts on the plan's harmful items, the configured (primary) one first."""
    return _ordered("asr_slices", "judge", "is_primary", path)


def benchmarks(*, path: PathArg = None) -> list[str]:
    """Benchmarks with harmful items in the snapshot, by name."""
    df = query("SELECT DISTINCT benchmark FROM asr_by_category UNION SELECT DISTINCT benchmark FROM asr_slices",
               path=path)
    return sorted(str(b) for b in df["benchmark"].dropna())


def asr_by_category(model_id: str | None = None, *, attack: str | None = None, benchmark: str | None = None,
                    path: PathArg = None) -> pd.DataFrame:
    """ASR per model x attack x benchmark category (a category is one benchmark's: never pooled across)."""
    return query(
        """SELECT * FROM asr_by_category WHERE (? IS NULL OR model_id = ?)
        AND (? IS NULL OR attack = ?) AND (? IS NULL OR benchmark = ?) ORDER BY model_id, benchmark, category, attack""",
        [model_id, model_id, attack, attack, benchmark, benchmark],
        path=path,
    )


def refusal_rates(model_id: str | None = None, *, kind: str | None = None, path: PathArg = None) -> pd.DataFrame:
    """Refusal rate per model x attack x kind (RtA on harmful, over-refusal on benign)."""
    return query(
        """SELECT * FROM refusal_rates WHERE (? IS NULL OR model_id = ?)
        AND (? IS NULL OR kind = ?) ORDER BY model_id, attack, kind""",
        [model_id, model_id, kind, kind],
        path=path,
    )
