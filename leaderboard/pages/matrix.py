"""Attacks & defenses: where each model breaks, by attack and harm category, and what helps."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from leaderboard import data
from leaderboard.text import md

RATE = alt.Scale(scheme="orangered", domain=[0, 1])


def _heatmap(df: pd.DataFrame, models: list[str], order: list[str]) -> alt.LayerChart:
    df = df.assign(ci=data.intervals(df, "asr"))
    base = alt.Chart(df).encode(
        x=alt.X("attack:N", title="Attack", sort=order,
                axis=alt.Axis(labelAngle=0, labelLimit=220, orient="top")),
        y=alt.Y("model:N", title=None, sort=models, axis=alt.Axis(labelLimit=220)),
    )
    cells = base.mark_rect(stroke="white", strokeWidth=2).encode(
        color=alt.Color("asr:Q", title="ASR", scale=RATE, legend=alt.Legend(format="%")),
        tooltip=[
            alt.Tooltip("model:N", title="Model"),
            alt.Tooltip("attack:N", title="Attack"),
            alt.Tooltip("defense:N", title="Defense"),
            alt.Tooltip("ci:N", title="ASR (95% CI)"),
            alt.Tooltip("n:Q", title="n"),
            alt.Tooltip("unscored:Q", title="Unscored"),
        ],
    )
    text = base.mark_text(fontSize=14).encode(
        text=alt.Text("asr:Q", format=".0%"),
        color=alt.condition("datum.asr > 0.45", alt.value("white"), alt.value("#262730")),
    )
    return (cells + text).properties(height=max(160, 52 * len(models)))


def _by_category(df: pd.DataFrame, order: list[str]) -> alt.Chart:
    df = df.assign(ci=data.intervals(df, "asr"))
    return (
        alt.Chart(df)
        .mark_bar()
        .encode(
            x=alt.X("asr:Q", title="ASR", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
            y=alt.Y("category:N", title=None),
            yOffset=alt.YOffset("attack:N", sort=order),
            color=alt.Color("attack:N", title="Attack", sort=order,
                            scale=alt.Scale(scheme="tableau10")),
            tooltip=[alt.Tooltip("category:N", title="Category"), alt.Tooltip("attack:N", title="Attack"),
                     alt.Tooltip("ci:N", title="ASR (95% CI)"), alt.Tooltip("n:Q", title="n")],
        )
        .properties(height=alt.Step(14))
    )


def _defenses(deltas: pd.DataFrame) -> None:
    st.subheader("Do defenses help?")
    st.caption("ASR with each defense against the same model and attack with no defense. "
               "A negative change means the defense stopped attacks.")
    table = pd.DataFrame({
        "Model": deltas["model"],
        "Attack": deltas["attack"],
        "Defense": deltas["defense"],
        "ASR, no defense": deltas["asr_none"].map(data.format_rate),
        "ASR, with defense": deltas["asr_defended"].map(data.format_rate),
        "Change": deltas["delta"].map(data.format_points),
        "n": deltas["n"],
    })
    chart = (
        alt.Chart(deltas)
        .mark_bar()
        .encode(
            x=alt.X("delta:Q", title="Change in ASR", axis=alt.Axis(format="+%")),
            y=alt.Y("model:N", title=None),
            yOffset=alt.YOffset("attack:N"),
            color=alt.Color("attack:N", title="Attack", scale=alt.Scale(scheme="tableau10")),
            column=alt.Column("defense:N", title="Defense"),
            tooltip=["model:N", "attack:N", "defense:N", alt.Tooltip("delta:Q", format="+.0%")],
        )
        .properties(height=alt.Step(12), width=360)
    )
    st.altair_chart(chart)
    st.dataframe(table, hide_index=True)


def main() -> None:
    st.title("Attacks & defenses")
    board = data.ranking()
    if board.empty:
        st.warning("The snapshot holds no evaluated models yet.")
        return
    defenses = data.defenses()
    order = data.attacks()
    st.subheader("Attack success rate by model and attack")
    defense = (
        st.columns([1, 2])[0].selectbox("Defense", defenses, help="the first is the undefended model")
        if len(defenses) > 1 else (defenses[0] if defenses else None)
    )
    grid = data.asr_by_attack(defense=defense)
    if grid.empty:
        st.info(f"No harmful-item results with defense '{md(defense)}'.")
    else:
        st.altair_chart(_heatmap(grid, list(board["model"]), order), width="stretch")
        st.caption("Cells show the share of harmful requests each attack got answered; "
                   "models are ordered safest first. Hover a cell for its 95% interval and n.")

    st.subheader("By harm category")
    names = dict(zip(board["model"], board["model_id"], strict=True))
    model = st.columns([1, 2])[0].selectbox("Model", list(names))
    cats = data.asr_by_category(names[model])
    if cats.empty:
        st.info("No per-category results for this model.")
    else:
        st.altair_chart(_by_category(cats, order), width="stretch")
    refusals = data.refusal_rates(names[model])
    if not refusals.empty:
        st.markdown("**Refusal rates** — on harmful items (higher is safer) and on benign "
                    "items (over-refusal, lower is better)")
        st.dataframe(pd.DataFrame({
            "Attack": refusals["attack"],
            "Items": refusals["kind"],
            "Refusal rate (95% CI)": data.intervals(refusals, "rate"),
            "n": refusals["n"],
        }), hide_index=True)

    if len(defenses) > 1:
        deltas = data.defense_deltas()
        if not deltas.empty:
            _defenses(deltas)


try:
    main()
except data.SnapshotError as exc:
    st.title("Attacks & defenses")
    st.error(md(exc), icon=":material/error:")
