"""Runs (operator snapshots only): every evaluation cycle, how long it took, what it cost, what failed.

A public snapshot holds no run internals (code version, cost, messages), so the page says so and
stops rather than show half a table.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from leaderboard import data
from leaderboard.widgets import run_page

TITLE = "Runs"


def duration(seconds: float | None) -> str:
    """'31 min', '2 h 05 min', '45 s'; '—' for a run still going."""
    if seconds is None or pd.isna(seconds):
        return "—"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def _seconds(runs: pd.DataFrame) -> pd.Series:
    """The recorded duration, else finished − started (older rows lack duration_s)."""
    elapsed = (pd.to_datetime(runs["finished_at"]) - pd.to_datetime(runs["started_at"])).dt.total_seconds()
    return runs["duration_s"].astype(float).fillna(elapsed)


def _cost(value: float | None) -> str:
    return "—" if value is None or pd.isna(value) else f"${value:,.2f}"


def _count(value: float | None) -> str:
    return "—" if value is None or pd.isna(value) else f"{int(value):,}"


def _table(runs: pd.DataFrame, seconds: pd.Series) -> pd.DataFrame:
    return pd.DataFrame({
        "Run": runs["run_id"],
        "Started": runs["started_at"],
        "Finished": runs["finished_at"],
        "Duration": seconds.map(duration),
        "Status": runs["status"],
        "Cells planned": runs["cells_planned"].map(_count),
        "New cells": runs["cells_new"].map(_count),
        "Failed cells": runs["cells_failed"].map(_count),
        "Cost (USD)": runs["cost_usd"].map(_cost),
        "Config": runs["config_hash"],
        "Plan": runs["plan_id"],
        "Code": runs["code_version"],
        "Message": runs["message"].fillna(""),
    })


def _durations(runs: pd.DataFrame, seconds: pd.Series) -> alt.LayerChart:
    df = pd.DataFrame({"run": runs["run_id"], "started": runs["started_at"].astype(str),
                       "minutes": seconds / 60, "label": seconds.map(duration), "status": runs["status"]})
    order = list(df.sort_values("started")["run"])
    base = alt.Chart(df).encode(
        x=alt.X("run:N", title="Run (oldest → newest)", sort=order, axis=alt.Axis(labelAngle=0, labelLimit=200)),
        y=alt.Y("minutes:Q", title="Duration (min)"),
        tooltip=[alt.Tooltip("run:N", title="Run"), alt.Tooltip("label:N", title="Duration"),
                 alt.Tooltip("status:N", title="Status")],
    )
    bars = base.mark_bar(color="#1f77b4")
    text = base.mark_text(dy=-8).encode(text="label:N")
    return (bars + text).properties(height=240)


def main() -> None:
    st.title(TITLE)
    if not data.meta().operator:
        st.info("Runs are shown only on an operator snapshot: a public snapshot holds no run internals.",
                icon=":material/lock:")
        return
    runs = data.runs()
    if runs.empty:
        st.info("No evaluation run is recorded yet.")
        return
    seconds = _seconds(runs)
    st.dataframe(_table(runs, seconds), hide_index=True)
    timed = seconds.notna()
    if timed.any():
        st.altair_chart(_durations(runs[timed], seconds[timed]), width="stretch")
        st.caption("How long each cycle took, discovery to publish.")
    else:
        st.info("No run has finished yet, so there is no duration to draw.")


run_page(TITLE, main)
