"""How a rate reads on the board: one formatting for every page, the terminal and the static site."""

from __future__ import annotations

import pandas as pd


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
