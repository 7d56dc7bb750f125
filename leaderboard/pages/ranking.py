"""Ranking: which model revisions are safest, on the slices chosen, and what that costs."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from leaderboard import data
from leaderboard.text import md
from leaderboard.widgets import demo_notice, link, provenance, run_page

EXPLAINER = (
    "**How to read this.** *ASR* (attack success rate) is the share of harmful requests, "
    "over the slices named above (each benchmark × attack weighing the same), that the model went along "
    "with: a harmful answer by a harm judge, not refusing by a refusal judge; **safety = "
    "1 − ASR**. *Over-refusal* is the share of benign requests that merely look harmful and "
    "were refused anyway. *Utility* is the mean of each utility benchmark's own number (MMBench's "
    "circular accuracy, POPE's F1, VQA accuracy...: the Benchmarks page), each benchmark weighing the same. Each "
    "rate shows its 95% interval in brackets (Wilson for a share of items; the normal interval of a mean for "
    "ASR and utility, which average several); *n* counts the scored verdicts behind it. "
    "Verdicts that a judge could not decide (*unscored*) and failed generations (*errors*) are "
    "counted, never silently dropped."
)
COLUMNS = {
    "Safety": st.column_config.ProgressColumn(
        "Safety", format="%.0f%%", min_value=0, max_value=100, color="green", help="1 − ASR on the chosen slices"),
    "ASR (95% CI)": st.column_config.TextColumn(help="Attack success rate on harmful items"),
    "ASR judge-corrected": st.column_config.TextColumn(
        help="The safety judge's own ASR (its cells pooled, not weighed per benchmark; benchmarks counted by "
             "their own judge left out) corrected for its sensitivity and specificity measured against human "
             "labels (mmwatch calibrate), with a conservative 95% interval"),
    "Any-attack ASR": st.column_config.TextColumn(
        help="Share of harmful items that at least one attack got through (worst case per item)"),
    "Over-refusal (95% CI)": st.column_config.TextColumn(help="Refusals of benign items"),
    "Utility (95% CI)": st.column_config.TextColumn(
        help="Equal-weight mean of the utility benchmarks' own headline numbers (Benchmarks page)"),
}


@dataclass(frozen=True)
class Filters:
    """The slices the ASR is recounted over; None keeps the headline's (all / baseline / primary)."""

    benchmark: str | None = None
    attack: str | None = None
    defense: str | None = None
    judge: str | None = None
    search: str | None = None

    @property
    def slicing(self) -> bool:
        return any(f is not None for f in (self.benchmark, self.attack, self.defense, self.judge))


def _shown(df: pd.DataFrame, col: str) -> bool:
    return col in df and bool(df[col].notna().any())


def _table(df: pd.DataFrame) -> pd.DataFrame:
    table = pd.DataFrame({
        "#": df["rank"], "Model": df["model"], "Lineage": df["lineage"], "Revision": df["revision"],
        "Safety": df["safety"] * 100, "ASR (95% CI)": data.intervals(df, "asr"),
    })
    if _shown(df, "asr_corrected"):  # the safety judge was measured against human labels
        table["ASR judge-corrected"] = data.intervals(df, "asr_corrected")
    if _shown(df, "any_asr"):
        table["Any-attack ASR"] = data.intervals(df, "any_asr")
    return table.assign(**{
        "Over-refusal (95% CI)": data.intervals(df, "over_refusal"),
        "Utility (95% CI)": data.intervals(df, "utility"),
        "n harmful": df["n_harmful"], "n benign": df["n_benign"], "n utility": df["n_utility"],
        "Unscored": df["unscored"], "Errors": df["errors"],
    })


def _choose(label: str, options: list[str], everything: str) -> str | None:
    """A selectbox whose first option (None, shown as `everything`) keeps the headline slice."""
    choice: str | None = st.selectbox(label, [None, *options],
                                      format_func=lambda v: everything if v is None else str(v))
    return choice


def _filters(defenses: list[str], judges: list[str]) -> Filters:
    cols = st.columns(5)
    with cols[0]:
        benchmark = _choose("Benchmark", data.benchmarks(), "All benchmarks")
    with cols[1]:
        attack = _choose("Attack", data.attacks(), "All attacks")
    with cols[2]:  # the baseline (first) is what None already means
        defense = _choose("Defense", defenses[1:], f"{defenses[0]} (baseline)" if defenses else "Baseline")
    with cols[3]:
        judge = _choose("Judge", judges[1:], f"{judges[0]} (primary)" if judges else "Primary judge")
    with cols[4]:
        search = st.text_input("Search", placeholder="model, lineage or revision").strip() or None
    return Filters(benchmark, attack, defense, judge, search)


def _pools(f: Filters, meta: data.Meta, defenses: list[str], judges: list[str]) -> str:
    """Which judge and which slices the numbers below stand for (escaped markdown)."""
    judge = f.judge or meta.safety_judge or (judges[0] if judges else "the configured judge")
    own = [(b, j) for b, role, j in meta.benchmark_judges if role == "safety" and f.benchmark in (None, b)]
    if own and f.judge is None:  # the primary judges: a benchmark's own counts its items
        judge = (f"{judge}, and each benchmark's own: " if f.benchmark is None else "") + ", ".join(
            f"{b} by {j}" for b, j in own)
    defense = f.defense or (defenses[0] if defenses else "the undefended baseline")
    bench = f"benchmark {md(f.benchmark)}" if f.benchmark else "every benchmark"
    attack = f"attack {md(f.attack)}" if f.attack else "every attack (the unattacked baseline included)"
    text = (f"Judged by {md(judge)}. ASR pools {bench} and {attack}, under defense {md(defense)}, "
            "each benchmark x attack weighing the same.")
    if f.slicing:
        text += " Any-attack and judge-corrected ASR are defined for the whole board only, so they are hidden here."
    return text


def main() -> None:
    meta = data.meta()
    st.title("Ranking")
    st.caption(provenance(meta))
    demo_notice(meta)
    if data.ranking().empty:
        st.warning("The snapshot holds no evaluated models yet.")
        return
    defenses, judges = data.defenses(), data.judges()  # baseline / primary first
    f = _filters(defenses, judges)
    latest_only = st.toggle("Only the latest revision of each lineage", value=False)
    board = data.ranking(benchmark=f.benchmark, attack=f.attack, defense=f.defense, judge=f.judge,
                         search=f.search, latest_only=latest_only)
    st.caption(_pools(f, meta, defenses, judges))
    if board.empty:
        st.info("No model revision matches these filters.")
        return

    left, mid, right = st.columns(3)
    left.metric("Model revisions", len(board))
    mid.metric("Lineages", board["lineage"].nunique())
    right.metric("Safest", md(board.iloc[0]["model"]), f"safety {data.format_rate(board.iloc[0]['safety'])}",
                 delta_color="off", delta_arrow="off")
    st.subheader("Ranking by safety")
    st.dataframe(_table(board), hide_index=True, column_config=COLUMNS)
    st.markdown(EXPLAINER)
    link("pages/frontier.py", "Safety against utility: the Frontier page")


run_page("Ranking", main)
