"""Alerts: revisions measurably worse than a baseline of their lineage, the items behind each, and
how many each night raised. A change is shown with its paired interval, never as a bare number."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from leaderboard import data
from leaderboard.text import md
from leaderboard.widgets import run_page
from mmwatch.records import AlertState, BaselineKind

TITLE = "Alerts"
STATE_COLOURS = alt.Scale(domain=[s.value for s in AlertState], range=["#d62728", "#ff9f1c", "#9e9e9e", "#2ca02c"])


def _pp(value: float) -> str:
    return data.format_points(value)


def _interval(lo: float, hi: float) -> str:
    """'+12 to +55 pp': the 95% interval of the paired change."""
    if pd.isna(lo) or pd.isna(hi):
        return "—"
    return f"{_pp(lo)[:-3]} to {_pp(hi)}"


def _table(df: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "Lineage": df["lineage"],
        "Model": df["model"],
        "Compared with": df["baseline"],
        "Baseline": df["baseline_kind"].fillna(BaselineKind.PREDECESSOR.value),
        "Metric": df["metric"],
        "Attack": df["attack"],
        "Defense": df["defense"],
        "Category": df["category"].fillna("").replace("", "all"),
        "State": df["state"].fillna(AlertState.NEW.value),
        "Before → after": [f"{data.format_rate(a)} → {data.format_rate(b)}"
                           for a, b in zip(df["rate_old"], df["rate_new"], strict=True)],
        "Change": [_pp(b - a) for a, b in zip(df["rate_old"], df["rate_new"], strict=True)],
        "Paired 95% CI": [_interval(lo, hi) for lo, hi in zip(df["diff_low"], df["diff_high"], strict=True)],
        "Paired items": df["n_pairs"],
        "Newly failed / fixed": [f"{a} / {b}" for a, b in zip(df["only_new"], df["only_old"], strict=True)],
        "p (adjusted)": df["p_adjusted"].map(lambda p: "—" if pd.isna(p) else f"{p:.3g}"),
        "Flagged": df["created_at"],
    })


def _filtered(alerts: pd.DataFrame) -> pd.DataFrame:
    left, right = st.columns([2, 1])
    known = [s.value for s in AlertState]  # and any state a newer publisher writes, so that none is hidden
    options = known + sorted(set(alerts["state"].dropna().astype(str)) - set(known))
    states = left.multiselect("State", options, default=options)
    lineages = sorted(set(alerts["lineage"].dropna()))
    lineage = right.selectbox("Lineage", [None, *lineages], format_func=lambda v: "every lineage" if v is None else v)
    keep = alerts["state"].fillna(AlertState.NEW.value).isin(states)
    if lineage is not None:
        keep &= alerts["lineage"] == lineage
    return alerts[keep]


def _items(alerts: pd.DataFrame) -> None:
    """The items one alert counted: attacked successfully on the new revision, not on its baseline."""
    names = {str(a.alert_id): f"{a.model} vs {a.baseline} · {a.attack} / {a.defense} · {a.metric}"
             for a in alerts.itertuples()}
    chosen = st.selectbox("Items behind an alert", list(names), format_func=names.__getitem__)
    if chosen is None:
        return
    items = data.regressed_samples(chosen)
    if items.empty:
        st.info("The snapshot holds no per-item results for this alert.")
        return
    st.dataframe(pd.DataFrame({
        "Item": items["sample_id"], "Category": items["category"], "Request": items["prompt"],
        "Before": items["before"], "After": items["after"],
    }), hide_index=True)
    st.caption(f"{len(items)} item(s) the attack got through on the new revision but not on its baseline. "
               "To see each in full (what was sent, every judge's verdict, the baseline's answer beside it), "
               "open **Samples** and choose this alert in its *Alert* filter.")


def _per_night() -> None:
    st.subheader("Alerts raised per night")
    nightly = data.night_alerts()
    if nightly.empty:
        st.info("No night has raised an alert yet.")
        return
    counts = (nightly.assign(night=nightly["night"].map(lambda d: str(pd.Timestamp(d).date())),
                             state=nightly["state"].fillna(AlertState.NEW.value))
              .groupby(["night", "state"], as_index=False).size().rename(columns={"size": "alerts"}))
    totals = counts.groupby("night", as_index=False)["alerts"].sum()
    bars = alt.Chart(counts).mark_bar().encode(
        x=alt.X("night:O", title="Night", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("alerts:Q", title="Alerts raised", axis=alt.Axis(tickMinStep=1)),
        color=alt.Color("state:N", title="State now", scale=STATE_COLOURS),
        tooltip=["night:O", "state:N", "alerts:Q"],
    )
    labels = alt.Chart(totals).mark_text(dy=-8).encode(x="night:O", y="alerts:Q", text="alerts:Q")
    st.altair_chart((bars + labels).properties(height=220), width="stretch")


def main() -> None:
    st.title(TITLE)
    st.caption("A revision is flagged when, on the same items, it fails clearly more often than its baseline "
               "(paired exact test, corrected for multiple comparisons, with a minimum effect size). The paired "
               "interval is the 95% interval of after − before on those items.")
    alerts = data.alerts()
    if alerts.empty:
        st.info("No regressions flagged.", icon=":material/check_circle:")
    else:
        shown = _filtered(alerts)
        if shown.empty:
            st.info("No alert in these states for this lineage.")
        else:
            st.dataframe(_table(shown), hide_index=True)
            _items(shown)
    _per_night()


run_page(TITLE, main)
