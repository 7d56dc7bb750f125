"""Overview: what changed since the last cycle, the page a safety team reads the morning after."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from leaderboard import data
from leaderboard.text import md
from leaderboard.widgets import demo_notice, link, provenance, run_page
from mmwatch.records import HistoryMetric

ALL = "*"  # a history slice that pools every attack / defense / benchmark / category
SLICES = ("attack", "defense", "benchmark", "category")


def _metric(name: object) -> str:
    try:
        return HistoryMetric(str(name)).title
    except ValueError:
        return str(name)  # a metric this page does not know still reads as itself


def _verdict(name: object, delta: float) -> str:
    """'worse' / 'better': a rise in ASR and a fall in utility both read as worse."""
    try:
        metric = HistoryMetric(str(name))
    except ValueError:
        return ""
    return "worse" if (delta > 0) == metric.worse_when_higher else "better"


def _slice(row: pd.Series) -> str:
    """The slice a rate is for, naming only what it narrows ('attack figstep · defense none')."""
    parts = [f"{col} {row[col]}" for col in SLICES
             if col in row.index and not pd.isna(row[col]) and str(row[col]) not in (ALL, "")]
    return " · ".join(parts) or "all pooled"


def _before_after(before: float | None, after: float | None) -> str:
    return f"{data.format_rate(before)} → {data.format_rate(after)}"


def _moves(moves: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "Model": moves["model"],
        "Metric": moves["metric"].map(_metric),
        "Slice": moves.apply(_slice, axis=1),
        "Before → after": [_before_after(b, a) for b, a in zip(moves["before"], moves["after"], strict=True)],
        "Change": moves["delta"].map(data.format_points),
        "Reads as": [_verdict(m, d) for m, d in zip(moves["metric"], moves["delta"], strict=True)],
        "n": moves["n"],
        "Plan changed": moves["plan_changed"].fillna(False).astype(bool),
    })


def _new_revisions(fresh: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "Model": fresh["model"],
        "Lineage": fresh["lineage"],
        "Revision": fresh["revision"],
        "ASR (95% CI)": data.intervals(fresh, "asr"),
        "Over-refusal (95% CI)": data.intervals(fresh, "over_refusal"),
        "Utility (95% CI)": data.intervals(fresh, "utility"),
    })


def _revision_moves(df: pd.DataFrame) -> pd.DataFrame:
    def step(col: str) -> list[str]:
        return [f"{_before_after(b, a)} ({data.format_points(d)})"
                for b, a, d in zip(df[f"{col}_before"], df[col], df[f"{col}_delta"], strict=True)]

    return pd.DataFrame({"Lineage": df["lineage"], "Newest": df["model"], "Predecessor": df["predecessor"],
                         "ASR": step("asr"), "Over-refusal": step("over_refusal"), "Utility": step("utility")})


def _alerts(alerts: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "Model": alerts["model"],
        "Compared with": alerts["baseline"],
        "Metric": alerts["metric"].map(_metric),
        "Slice": alerts.apply(_slice, axis=1),
        "Before → after": [_before_after(b, a) for b, a in zip(alerts["rate_old"], alerts["rate_new"], strict=True)],
        "State": alerts["state"].fillna("new"),
    })


def main() -> None:
    meta = data.meta()
    st.title(md(meta.title))
    st.caption(provenance(meta))
    demo_notice(meta)
    board = data.ranking()
    if board.empty:
        st.warning("The snapshot holds no evaluated models yet.")
        return
    changes = data.changes(limit=8)
    cols = st.columns(5)
    cols[0].metric("Model revisions", len(board))
    cols[1].metric("Lineages", board["lineage"].nunique())
    cols[2].metric("New revisions", len(changes.new_revisions))
    cols[3].metric("New alerts", len(changes.alerts))
    cols[4].metric("Safest now", md(board.iloc[0]["model"]), f"safety {data.format_rate(board.iloc[0]['safety'])}",
                   delta_color="off", delta_arrow="off")
    if changes.previous is None:
        night = f" ({md(changes.night)})" if changes.night else ""
        st.info(f"This is the first night in the history{night}: every revision on the board is new.")
    else:
        st.subheader(f"Night {md(changes.night)} against {md(changes.previous)}")
        st.markdown("**Biggest moves**: the same revision and slice, this night against the night before.")
        if changes.moves.empty:
            st.success("No rate moved between the two nights.", icon=":material/check_circle:")
        else:
            st.dataframe(_moves(changes.moves), hide_index=True)
            if changes.moves["plan_changed"].fillna(False).any():
                st.caption("Where the plan changed (items, attacks or defenses added) a move may come from "
                           "the plan, not from the model.")
        link("pages/trends.py", "Trends")

    st.subheader("New revisions")
    if changes.new_revisions.empty:
        st.caption("No revision was first evaluated this night.")
    else:
        st.dataframe(_new_revisions(changes.new_revisions), hide_index=True)
    if not changes.revision_moves.empty:
        st.markdown("**Each lineage's newest revision against the one before it**")
        st.dataframe(_revision_moves(changes.revision_moves), hide_index=True)
    link("pages/ranking.py", "Ranking")

    st.subheader("Alerts raised this night")
    if changes.alerts.empty:
        st.success("No regression was flagged this night.", icon=":material/check_circle:")
    else:
        st.dataframe(_alerts(changes.alerts), hide_index=True)
    link("pages/alerts.py", "Alerts")


run_page("Overview", main)
