"""Ranking: which model revisions are safest, and what that costs in refusals and utility."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from leaderboard import data
from leaderboard.text import md

EXPLAINER = (
    "**How to read this.** *ASR* (attack success rate) is the share of harmful requests, "
    "pooled over all attacks, that the model went along with instead of refusing; **safety = "
    "1 − ASR**. *Over-refusal* is the share of benign requests that merely look harmful and "
    "were refused anyway. *Utility* is the share of ordinary tasks answered correctly. Each "
    "rate shows its 95% Wilson interval in brackets; *n* counts the scored verdicts behind it. "
    "Verdicts that a judge could not decide (*unscored*) and failed generations (*errors*) are "
    "counted, never silently dropped."
)


def _table(df: pd.DataFrame) -> pd.DataFrame:
    table = _columns(df)
    if "asr_corrected" in df and df["asr_corrected"].notna().any():
        # the safety judge was measured against human labels: show ASR as a perfect judge would count it
        table.insert(5, "ASR judge-corrected", data.intervals(df, "asr_corrected"))
    return table


def _columns(df: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "#": df["rank"],
        "Model": df["model"],
        "Lineage": df["lineage"],
        "Revision": df["revision"],
        "Safety": df["safety"] * 100,
        "ASR (95% CI)": data.intervals(df, "asr"),
        "Any-attack ASR": data.intervals(df, "any_asr"),
        "Over-refusal (95% CI)": data.intervals(df, "over_refusal"),
        "Utility (95% CI)": data.intervals(df, "utility"),
        "n harmful": df["n_harmful"],
        "n benign": df["n_benign"],
        "n utility": df["n_utility"],
        "Unscored": df["unscored"],
        "Errors": df["errors"],
    })


def _frontier(df: pd.DataFrame) -> alt.LayerChart:
    pts = df.dropna(subset=["utility", "safety"]).assign(
        safety_ci=lambda d: data.intervals(d, "safety"),
        utility_ci=lambda d: data.intervals(d, "utility"),
    )
    pct, unit = alt.Axis(format="%"), alt.Scale(domain=[0, 1])
    colour = alt.Color("lineage:N", title="Lineage", scale=alt.Scale(scheme="tableau10"))
    base = alt.Chart(pts).encode(color=colour)
    x_bar = base.mark_rule(opacity=0.5).encode(
        x=alt.X("utility_lo:Q"), x2="utility_hi:Q", y="safety:Q"
    )
    y_bar = base.mark_rule(opacity=0.5).encode(
        y=alt.Y("safety_lo:Q"), y2="safety_hi:Q", x="utility:Q"
    )
    dots = base.mark_circle(size=140, opacity=0.95).encode(
        x=alt.X("utility:Q", title="Utility (higher is better)", scale=unit, axis=pct),
        y=alt.Y("safety:Q", title="Safety = 1 − ASR (higher is better)", scale=unit, axis=pct),
        tooltip=[
            alt.Tooltip("model:N", title="Model"),
            alt.Tooltip("lineage:N", title="Lineage"),
            alt.Tooltip("revision:N", title="Revision"),
            alt.Tooltip("safety_ci:N", title="Safety (95% CI)"),
            alt.Tooltip("utility_ci:N", title="Utility (95% CI)"),
        ],
    )
    labels = base.mark_text(align="left", dx=9, dy=-9, fontSize=12).encode(
        x="utility:Q", y="safety:Q", text="model:N"
    )
    return (x_bar + y_bar + dots + labels).properties(height=440)


def main() -> None:
    meta = data.meta()
    st.title(md(meta.title))
    judges = (f" · judged by {md(meta.safety_judge)} (safety) / {md(meta.utility_judge)} (utility)"
              f" / {md(meta.target_judge)} (target)") if meta.safety_judge else ""
    plan = (f" · numbers for config {md(meta.config_hash)}, plan {md(meta.plan_id)} ({meta.plan_cells} cells)"
            if meta.config_hash else "")
    st.caption(  # every value escaped: a code span would not stop a backtick in the data
        f"Published {md(meta.published_at or 'at an unknown time')} · run {md(meta.run_id or '—')}"
        f"{judges}{plan} · snapshot format v{md(meta.snapshot_version or '?')}"
    )
    if meta.demo:
        st.info(
            "**Demo snapshot.** These numbers come from tiny, locally built demonstration models "
            "and a few benchmark items: they show how the leaderboard works, not how safe any "
            "real model is.",
            icon=":material/science:",
        )
    latest_only = st.toggle("Only the latest revision of each lineage", value=False)
    board = data.ranking(latest_only=latest_only)
    if board.empty:
        st.warning("The snapshot holds no evaluated models yet.")
        return

    left, mid, right = st.columns(3)
    left.metric("Model revisions", len(board))
    mid.metric("Lineages", board["lineage"].nunique())
    right.metric("Safest", md(board.iloc[0]["model"]), f"safety {data.format_rate(board.iloc[0]['safety'])}",
                 delta_color="off", delta_arrow="off")

    st.subheader("Ranking by safety")
    st.dataframe(
        _table(board),
        hide_index=True,
        column_config={
            "Safety": st.column_config.ProgressColumn(
                "Safety", format="%.0f%%", min_value=0, max_value=100, color="green",
                help="1 − ASR, all attacks pooled",
            ),
            "ASR (95% CI)": st.column_config.TextColumn(help="Attack success rate on harmful items"),
            "ASR judge-corrected": st.column_config.TextColumn(
                help="ASR corrected for the safety judge's sensitivity and specificity measured against "
                     "human labels (mmwatch calibrate), with a conservative 95% interval"),
            "Any-attack ASR": st.column_config.TextColumn(
                help="Share of harmful items that at least one attack got through (worst case per item)"),
            "Over-refusal (95% CI)": st.column_config.TextColumn(help="Refusals of benign items"),
            "Utility (95% CI)": st.column_config.TextColumn(help="Correct answers on utility items"),
        },
    )
    st.markdown(EXPLAINER)

    st.subheader("Safety vs utility")
    st.caption("Up and to the right is better. Lines are 95% intervals; hover a point for details.")
    if board[["utility", "safety"]].dropna().empty:
        st.info("No utility items were scored in this snapshot, so there is no frontier to plot.")
    else:
        st.altair_chart(_frontier(board), width="stretch")


try:
    main()
except data.SnapshotError as exc:
    st.title("mmwatch safety leaderboard")
    st.error(md(exc), icon=":material/error:")
