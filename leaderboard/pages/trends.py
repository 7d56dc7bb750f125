"""History & alerts: how each lineage moved from revision to revision, and flagged regressions."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from leaderboard import data
from leaderboard.text import md

COLOURS = alt.Scale(domain=["ASR", "Over-refusal", "Utility"], range=["#d62728", "#ff9f1c", "#1f77b4"])


def _trend(df: pd.DataFrame) -> alt.LayerChart:
    df = df.assign(ci=data.intervals(df, "rate"))
    order = list(df.sort_values("order_key")["model"].drop_duplicates())
    base = alt.Chart(df).encode(
        x=alt.X("model:N", title="Revision (oldest → newest)", sort=order, axis=alt.Axis(labelAngle=0)),
        color=alt.Color("metric:N", title="Metric", scale=COLOURS),
    )
    band = base.mark_area(opacity=0.12).encode(y="rate_lo:Q", y2="rate_hi:Q")
    line = base.mark_line(point=alt.OverlayMarkDef(size=80)).encode(
        y=alt.Y("rate:Q", title="Rate", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
        tooltip=[alt.Tooltip("model:N", title="Revision"), alt.Tooltip("metric:N", title="Metric"),
                 alt.Tooltip("ci:N", title="Rate (95% CI)")],
    )
    return (band + line).properties(height=340)


def _alerts(df: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "Lineage": df["lineage"],
        "Model": df["model"],
        "Compared with": df["baseline"],
        "Attack": df["attack"],
        "Defense": df["defense"],
        "Metric": df["metric"],
        "Category": df["category"].fillna("") if "category" in df else "",
        "Baseline": df["baseline_kind"].fillna("predecessor") if "baseline_kind" in df else "predecessor",
        "State": df["state"].fillna("new") if "state" in df else "new",
        "Before → after": [f"{data.format_rate(a)} → {data.format_rate(b)}"
                           for a, b in zip(df["rate_old"], df["rate_new"], strict=True)],
        "Paired items": df["n_pairs"],
        "Newly failed / fixed": [f"{a} / {b}"
                                 for a, b in zip(df["only_new"], df["only_old"], strict=True)],
        "p (adjusted)": df["p_adjusted"].map(lambda p: "—" if pd.isna(p) else f"{p:.3g}"),
        "Flagged": df["created_at"],
    })


def _regressed(alerts: pd.DataFrame) -> None:
    """Which items an alert is about: the ones the new revision newly fails."""
    labels = {str(row.alert_id): f"{row.model} vs {row.baseline} · {row.attack} / {row.defense}"
              for row in alerts.itertuples()}
    chosen = st.selectbox("Items behind an alert", list(labels), format_func=lambda key: labels[key])
    if chosen is None:
        return
    items = data.regressed_samples(chosen)
    if items.empty:
        st.info("The snapshot holds no per-item results for this alert.")
        return
    st.dataframe(items.rename(columns={"sample_id": "Item", "category": "Category", "prompt": "Request",
                                       "before": "Before", "after": "After"}), hide_index=True)
    st.caption("Items the attack got through on the new revision but not on its predecessor. "
               "Responses to harmful items stay hidden here.")


def main() -> None:
    st.title("History & alerts")
    hist = data.history()
    if hist.empty:
        st.warning("The snapshot holds no evaluated models yet.")
        return
    lineages = list(dict.fromkeys(hist["lineage"]))
    st.subheader("Safety over revisions")
    lineage = st.columns([1, 2])[0].selectbox("Lineage", lineages)
    st.altair_chart(_trend(data.trend(lineage)), width="stretch")
    st.caption("ASR pools all attacks (lower is safer); shaded bands are 95% intervals.")

    st.subheader("Regression alerts")
    st.caption("A revision is flagged when, on the same items, it fails clearly more often than "
               "its predecessor (paired exact test, corrected for multiple comparisons, with a "
               "minimum effect size).")
    alerts = data.alerts()
    if alerts.empty:
        st.success("No regressions flagged.", icon=":material/check_circle:")
    else:
        st.dataframe(_alerts(alerts), hide_index=True)
        _regressed(alerts)

    with st.expander("Evaluation runs"):
        runs = data.runs()
        st.dataframe(runs.rename(columns={
            "run_id": "Run", "started_at": "Started", "finished_at": "Finished", "status": "Status",
            "config_hash": "Config", "code_version": "Code", "cells_new": "New cells",
            "cells_failed": "Failed cells"}), hide_index=True)


try:
    main()
except data.SnapshotError as exc:
    st.title("History & alerts")
    st.error(md(exc), icon=":material/error:")
