"""Matrix: where each model breaks, by attack, defense and harm category, and whether defenses help.

Every chart draws a mark per row it is given, whatever the rate: a heat cell with its "0%" label,
a point with its interval. A bar of length 0 would draw nothing, and a model that no attack broke
would look like a model with no results.
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from leaderboard import data
from leaderboard.text import md
from leaderboard.widgets import run_page

TITLE = "Attack matrix"
RATE = alt.Scale(scheme="orangered", domain=[0, 1])
DARK_TEXT = "#262730"


def _heat(df: pd.DataFrame, x: str, y: str, x_order: list[str], y_order: list[str], x_title: str) -> alt.LayerChart:
    """A grid of ASR cells, each labelled with its rate: visible at 0% too."""
    df = df.assign(ci=data.intervals(df, "asr"), rate=df["asr"].map(data.format_rate))
    base = alt.Chart(df).encode(
        x=alt.X(f"{x}:N", title=x_title, sort=x_order, axis=alt.Axis(labelAngle=0, labelLimit=220, orient="top")),
        y=alt.Y(f"{y}:N", title=None, sort=y_order, axis=alt.Axis(labelLimit=220)),
    )
    cells = base.mark_rect(stroke="#d0d0d0", strokeWidth=1).encode(
        color=alt.Color("asr:Q", title="ASR", scale=RATE, legend=alt.Legend(format="%", gradientLength=100)),
        tooltip=[alt.Tooltip(f"{y}:N"), alt.Tooltip(f"{x}:N"), alt.Tooltip("ci:N", title="ASR (95% CI)"),
                 alt.Tooltip("n:Q", title="n")],
    )
    text = base.mark_text(fontSize=14).encode(
        text="rate:N", color=alt.condition("datum.asr > 0.45", alt.value("white"), alt.value(DARK_TEXT)))
    return (cells + text).properties(height=max(160, 44 * len(y_order)))


def _points(value: float, lo: float, hi: float) -> str:
    """'−100 pp (−100 to −21 pp)': a paired change and its 95% interval."""
    if pd.isna(value):
        return "—"
    return f"{data.format_points(value)} ({data.format_points(lo)[:-3]} to {data.format_points(hi)})"


def _intervals(deltas: pd.DataFrame) -> alt.FacetChart:
    """Paired change per model x attack, one panel per defense: a point and its 95% interval."""
    df = deltas.assign(ci=[_points(d, lo, hi) for d, lo, hi in
                           zip(deltas["delta_paired"], deltas["delta_lo"], deltas["delta_hi"], strict=True)])
    scale = alt.Scale(domain=[-1, 1])
    base = alt.Chart().encode(
        y=alt.Y("model:N", title=None, axis=alt.Axis(labelLimit=220)),
        yOffset=alt.YOffset("attack:N"),
        color=alt.Color("attack:N", title="Attack", scale=alt.Scale(scheme="tableau10")),
        tooltip=[alt.Tooltip("model:N", title="Model"), alt.Tooltip("attack:N", title="Attack"),
                 alt.Tooltip("defense:N", title="Defense"), alt.Tooltip("ci:N", title="Paired change (95% CI)"),
                 alt.Tooltip("n_pairs:Q", title="Paired items")],
    )
    bars = base.mark_rule(strokeWidth=2).encode(x=alt.X("delta_lo:Q", scale=scale), x2="delta_hi:Q")
    dots = base.mark_point(filled=True, size=70).encode(
        x=alt.X("delta_paired:Q", title="Change in ASR on the same items", scale=scale, axis=alt.Axis(format="+%")))
    zero = alt.Chart().mark_rule(color="#888", strokeDash=[4, 3]).encode(x=alt.datum(0))
    return (alt.layer(zero, bars, dots, data=df).properties(width=360, height=alt.Step(14))
            .facet(column=alt.Column("defense:N", title="Defense")))


def _defenses(deltas: pd.DataFrame) -> None:
    st.subheader("Do defenses help?")
    st.caption("ASR with each defense against the same model and attack with no defense; a negative change "
               "means the defense stopped attacks. The paired change counts only items scored both ways "
               "(newly failed minus newly stopped), with its 95% interval.")
    paired = deltas.dropna(subset=["delta_paired"])
    if paired.empty:
        st.info("No item was scored both with and without a defense, so there is no paired interval to draw.")
    else:
        st.altair_chart(_intervals(paired))
    st.dataframe(pd.DataFrame({
        "Model": deltas["model"],
        "Attack": deltas["attack"],
        "Defense": deltas["defense"],
        "ASR, no defense": deltas["asr_none"].map(data.format_rate),
        "ASR, with defense": deltas["asr_defended"].map(data.format_rate),
        "Change": deltas["delta"].map(data.format_points),
        "Paired change (95% CI)": [_points(d, lo, hi) for d, lo, hi in
                                   zip(deltas["delta_paired"], deltas["delta_lo"], deltas["delta_hi"], strict=True)],
        "Paired items": deltas["n_pairs"],
        "n": deltas["n"],
    }), hide_index=True)


def _categories(model_id: str, order: list[str]) -> None:
    """One benchmark at a time: two benchmarks' categories never share an axis."""
    benchmarks = data.benchmarks()
    if not benchmarks:
        st.info("The snapshot has no per-category results.")
        return
    benchmark = (st.columns([1, 2])[0].selectbox("Benchmark", benchmarks)
                 if len(benchmarks) > 1 else benchmarks[0])
    cats = data.asr_by_category(model_id, benchmark=benchmark)
    if cats.empty:
        st.info(f"No per-category results for this model on {md(benchmark)}.")
        return
    present = set(cats["attack"])
    st.altair_chart(_heat(cats, "attack", "category", [a for a in order if a in present],
                          sorted(set(cats["category"])), "Attack"), width="stretch")
    st.caption(f"Categories of {md(benchmark)}; each cell is the share of that category's harmful items "
               "the attack got answered.")


def _refusals(model_id: str) -> None:
    refusals = data.refusal_rates(model_id)
    if refusals.empty:
        return
    st.markdown("**Refusal rates** — on harmful items (higher is safer) and on benign items "
                "(over-refusal, lower is better)")
    st.dataframe(pd.DataFrame({
        "Attack": refusals["attack"],
        "Items": refusals["kind"],
        "Refusal rate (95% CI)": data.intervals(refusals, "rate"),
        "n": refusals["n"],
    }), hide_index=True)


def main() -> None:
    st.title(TITLE)
    board = data.ranking()
    if board.empty:
        st.warning("The snapshot holds no evaluated models yet.")
        return
    defenses, order, models = data.defenses(), data.attacks(), list(board["model"])
    st.subheader("Attack success rate by model and attack")
    defense = (st.columns([1, 2])[0].selectbox("Defense", defenses, help="the first is the undefended model")
               if len(defenses) > 1 else (defenses[0] if defenses else None))
    grid = data.asr_by_attack(defense=defense)
    if grid.empty:
        st.info(f"No harmful-item results with defense {md(defense)}.")
    else:
        st.altair_chart(_heat(grid, "attack", "model", order, models, "Attack"), width="stretch")
        st.caption("Each cell is the share of harmful requests the attack got answered; models are ordered "
                   "safest first. Hover a cell for its 95% interval and n.")

    st.subheader("By harm category")
    names = dict(zip(board["model"], board["model_id"], strict=True))
    model = st.columns([1, 2])[0].selectbox("Model", list(names))
    _categories(names[model], order)
    _refusals(names[model])

    deltas = data.defense_deltas() if len(defenses) > 1 else pd.DataFrame()
    if not deltas.empty:
        _defenses(deltas)


run_page(TITLE, main)
