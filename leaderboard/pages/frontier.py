"""Frontier: safety against utility, the Pareto front, and where each lineage moved over revisions.

A safer model that answers nothing is no win: the front shows which revisions no other revision
beats on both axes at once, and each lineage's path shows whether its new revisions moved towards it.
"""

from __future__ import annotations

from enum import StrEnum

import altair as alt
import pandas as pd
import streamlit as st

from leaderboard import data
from leaderboard.text import md
from leaderboard.widgets import demo_notice, run_page

UNIT, PCT = alt.Scale(domain=[0, 1]), alt.Axis(format="%")


class Place(StrEnum):
    """Where a revision stands against the front (the shape legend)."""

    FRONT = "on the Pareto front"
    DOMINATED = "beaten on both axes"


def _points(front: pd.DataFrame) -> pd.DataFrame:
    """frontier() with what the chart and its tooltips need: intervals as text, place, step in lineage."""
    return front.assign(
        safety_ci=data.intervals(front, "safety"),
        utility_ci=data.intervals(front, "utility"),
        place=[(Place.FRONT if on else Place.DOMINATED).value for on in front["on_front"]],
        step=front.groupby("lineage").cumcount() + 1,  # frontier() is in lineage, order_key order
    )


def _chart(pts: pd.DataFrame) -> alt.LayerChart:
    x = alt.X("utility:Q", title="Utility (higher is better)", scale=UNIT, axis=PCT)
    y = alt.Y("safety:Q", title="Safety = 1 − ASR (higher is better)", scale=UNIT, axis=PCT)
    colour = alt.Color("lineage:N", title="Lineage", scale=alt.Scale(scheme="tableau10"),
                       legend=alt.Legend(symbolOpacity=1, symbolType="circle"))  # not the pale trail's swatch
    base = alt.Chart(pts).encode(color=colour)
    paths = base.mark_trail(opacity=0.35).encode(
        x=x, y=y, detail="lineage:N", order=alt.Order("order_key:Q"),
        size=alt.Size("step:Q", scale=alt.Scale(range=[1, 9]), legend=None))
    # the edge of what the front dominates: down from each front point, then across to the next
    edge = (alt.Chart(pts[pts["on_front"]]).mark_line(interpolate="step-before", color="#262730",
                                                      strokeDash=[6, 3], strokeWidth=1.5)
            .encode(x=x, y=y, order=alt.Order("utility:Q")))
    x_bar = base.mark_rule(opacity=0.5).encode(x="utility_lo:Q", x2="utility_hi:Q", y="safety:Q")
    y_bar = base.mark_rule(opacity=0.5).encode(y="safety_lo:Q", y2="safety_hi:Q", x="utility:Q")
    dots = base.mark_point(filled=True, opacity=0.95, stroke="#262730").encode(
        x=x, y=y,
        shape=alt.Shape("place:N", title=None, sort=[p.value for p in Place],
                        scale=alt.Scale(domain=[p.value for p in Place], range=["diamond", "circle"])),
        size=alt.condition("datum.on_front", alt.value(220), alt.value(110)),
        strokeWidth=alt.condition("datum.on_front", alt.value(1.5), alt.value(0)),
        tooltip=[
            alt.Tooltip("model:N", title="Model"), alt.Tooltip("lineage:N", title="Lineage"),
            alt.Tooltip("revision:N", title="Revision"), alt.Tooltip("step:Q", title="Revision no. in lineage"),
            alt.Tooltip("safety_ci:N", title="Safety (95% CI)"), alt.Tooltip("utility_ci:N", title="Utility (95% CI)"),
            alt.Tooltip("place:N", title="Place"),
        ],
    )
    labels = base.mark_text(align="left", dx=10, dy=-10, fontSize=12).encode(x=x, y=y, text="model:N")
    return (paths + edge + x_bar + y_bar + dots + labels).properties(height=480)


def _table(pts: pd.DataFrame) -> pd.DataFrame:
    rows = pts.sort_values(["on_front", "safety", "utility"], ascending=False)
    return pd.DataFrame({
        "Model": rows["model"], "Lineage": rows["lineage"], "Revision": rows["revision"],
        "Safety (95% CI)": data.intervals(rows, "safety"), "Utility (95% CI)": data.intervals(rows, "utility"),
        "On the front": rows["on_front"].astype(bool),
    })


def main() -> None:
    meta = data.meta()
    st.title("Frontier")
    demo_notice(meta)
    board = data.ranking()
    if board.empty:
        st.warning("The snapshot holds no evaluated models yet.")
        return
    front = data.frontier()
    if front.empty:
        st.info("No utility items were scored in this snapshot, so there is no frontier to plot.")
        return
    st.subheader("Safety vs utility")
    st.caption("Up and to the right is better. Diamonds are the Pareto front (no other revision is at least as "
               "safe and as useful, and better on one); the dashed line bounds what they beat. Each lineage's "
               "trail runs from its oldest revision (thin) to its newest (thick). Lines through points are 95% "
               f"intervals; ASR weighs every benchmark and attack the same, judged by {md(meta.safety_judge or 'the configured judge')}.")
    pts = _points(front)
    st.altair_chart(_chart(pts), width="stretch")
    missing = board.loc[~board["model_id"].isin(front["model_id"]), "model"]
    if not missing.empty:
        st.caption("Not plotted (no utility or no safety scored): " + ", ".join(md(m) for m in missing) + ".")
    st.dataframe(_table(pts), hide_index=True)


run_page("Frontier", main)
