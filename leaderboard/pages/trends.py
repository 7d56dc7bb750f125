"""Trends: how a lineage moved, night by night and revision by revision, and where it was flagged.

Nights and revisions answer different questions: over nights a revision's rate moves only when the
plan or the judges change (new items, attacks, judge versions); over revisions it moves with the model.
"""

from __future__ import annotations

from enum import StrEnum

import altair as alt
import pandas as pd
import streamlit as st

from leaderboard import data
from leaderboard.text import md
from leaderboard.widgets import link, run_page

RATE = alt.Scale(domain=[0, 1])
ALERT_RED = "#d62728"
SOLID = alt.Legend(symbolOpacity=1, symbolType="circle")  # not the pale band's swatch


class Metric(StrEnum):
    """The headline metrics as data.trend and data.trend_nights name them."""

    ASR = "ASR"
    OVER_REFUSAL = "Over-refusal"
    UTILITY = "Utility"

    @property
    def hint(self) -> str:
        return {Metric.ASR: "lower is safer", Metric.OVER_REFUSAL: "lower is better",
                Metric.UTILITY: "higher is better"}[self]


COLOURS = alt.Scale(domain=[m.value for m in Metric], range=["#d62728", "#ff9f1c", "#1f77b4"])


def _night(value: object) -> str:
    return str(pd.Timestamp(str(value)).date())


def _alert_marks(alerts: pd.DataFrame, x: alt.X) -> alt.LayerChart:
    """A red shade behind the night or revision that raised an alert (under it, not over its interval
    bars), and a marker on top that names the alert on hover."""
    marks = alerts.assign(change=[f"{data.format_rate(a)} → {data.format_rate(b)}"
                                  for a, b in zip(alerts["rate_old"], alerts["rate_new"], strict=True)],
                          state=alerts["state"].fillna("new"), top=1.0)
    base = alt.Chart(marks).encode(x=x)
    shade = base.mark_rule(color=ALERT_RED, strokeWidth=22, opacity=0.12)
    flag = base.mark_point(shape="triangle-down", size=140, filled=True, color=ALERT_RED).encode(
        y=alt.Y("top:Q", scale=RATE),
        tooltip=[alt.Tooltip("model:N", title="Alert on"), alt.Tooltip("baseline:N", title="Compared with"),
                 alt.Tooltip("metric:N", title="Metric"), alt.Tooltip("attack:N", title="Attack"),
                 alt.Tooltip("defense:N", title="Defense"), alt.Tooltip("change:N", title="Before → after"),
                 alt.Tooltip("state:N", title="State")])
    return shade + flag


def _over_nights(df: pd.DataFrame, alerts: pd.DataFrame, metric: Metric) -> alt.LayerChart:
    df = df.assign(night=df["night"].map(_night), ci=data.intervals(df, "rate"))
    order = list(df.sort_values("order_key")["model"].drop_duplicates())
    x = alt.X("night:O", title="Night", sort="ascending", axis=alt.Axis(labelAngle=0))
    base = alt.Chart(df).encode(x=x, color=alt.Color("model:N", title="Revision", sort=order, legend=SOLID,
                                                     scale=alt.Scale(scheme="tableau10")))
    band = base.mark_area(opacity=0.12).encode(y="rate_lo:Q", y2="rate_hi:Q")
    bars = base.mark_rule(opacity=0.5).encode(y="rate_lo:Q", y2="rate_hi:Q")
    line = base.mark_line(point=alt.OverlayMarkDef(size=80, filled=True)).encode(
        y=alt.Y("rate:Q", title=f"{metric.value} ({metric.hint})", scale=RATE, axis=alt.Axis(format="%")),
        tooltip=[alt.Tooltip("night:O", title="Night"), alt.Tooltip("model:N", title="Revision"),
                 alt.Tooltip("ci:N", title=f"{metric.value} (95% CI)"), alt.Tooltip("n:Q", title="n"),
                 alt.Tooltip("run_id:N", title="Run")])
    chart = band + bars + line
    if not alerts.empty:
        chart = _alert_marks(alerts.assign(night=alerts["night"].map(_night)), x) + chart
    return chart.properties(height=320)


def _over_revisions(df: pd.DataFrame, alerts: pd.DataFrame) -> alt.LayerChart:
    df = df.assign(ci=data.intervals(df, "rate"))
    order = list(df.sort_values("order_key")["model"].drop_duplicates())
    x = alt.X("model:N", title="Revision (oldest → newest)", sort=order, axis=alt.Axis(labelAngle=0))
    base = alt.Chart(df).encode(x=x, color=alt.Color("metric:N", title="Metric", scale=COLOURS, legend=SOLID))
    band = base.mark_area(opacity=0.12).encode(y="rate_lo:Q", y2="rate_hi:Q")
    line = base.mark_line(point=alt.OverlayMarkDef(size=80, filled=True)).encode(
        y=alt.Y("rate:Q", title="Rate", scale=RATE, axis=alt.Axis(format="%")),
        tooltip=[alt.Tooltip("model:N", title="Revision"), alt.Tooltip("metric:N", title="Metric"),
                 alt.Tooltip("ci:N", title="Rate (95% CI)")])
    chart = band + line
    flagged = alerts[alerts["model"].isin(order)]
    if not flagged.empty:
        chart = _alert_marks(flagged, x) + chart
    return chart.properties(height=340)


def _nights_section(lineage: str) -> None:
    st.subheader("Over nights")
    nightly = data.trend_nights(lineage)
    if nightly.empty:
        st.info("The snapshot history holds no night for this lineage yet.")
        return
    metric = Metric(st.radio("Metric", [m.value for m in Metric], horizontal=True) or Metric.ASR.value)
    shown = nightly[nightly["metric"] == metric.value].dropna(subset=["rate"])
    if shown.empty:
        st.info(f"No {metric.value} was scored for this lineage on any night.")
        return
    st.altair_chart(_over_nights(shown, data.night_alerts(lineage), metric), width="stretch")
    st.caption("One line per revision; a revision's rate moves between nights when the plan or the judges "
               "change. Bands and bars are 95% intervals; a red shade and triangle mark a night that raised an alert.")


def _revisions_section(lineage: str) -> None:
    st.subheader("Over revisions")
    trend = data.trend(lineage)
    if trend.dropna(subset=["rate"]).empty:
        st.info("No rate was scored for this lineage's revisions.")
        return
    st.altair_chart(_over_revisions(trend, data.alerts(lineage)), width="stretch")
    st.caption("ASR weighs every benchmark × attack the same (lower is safer); shaded bands are 95% intervals; a red shade and triangle "
               "mark a revision flagged as a regression against its baseline.")


def main() -> None:
    st.title("Trends")
    lineages = data.lineages()
    if not lineages:
        st.warning("The snapshot holds no evaluated models yet.")
        return
    lineage = st.columns([1, 2])[0].selectbox("Lineage", lineages)
    if lineage is None:
        return
    _nights_section(lineage)
    _revisions_section(lineage)
    link("pages/alerts.py", "Every alert, and the items behind it, on the Alerts page")


run_page("Trends", main)
