"""Benchmarks: each benchmark's own number, as its paper defines it, and the judge behind it.

The Ranking pools: its ASR weighs every benchmark x attack the same and its utility every utility
benchmark's headline the same. Here each benchmark stands alone: a harmful benchmark's ASR (the
mean over its attacks) by the judge that counted it (its own where the config names one), beside
the judge its paper counts with; a utility benchmark's published metric (MMBench's circular
accuracy, MME's score, POPE's F1, VQA accuracy...) and every other metric it reports.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from leaderboard import data
from leaderboard.text import md
from leaderboard.widgets import demo_notice, provenance, run_page

TITLE = "Benchmarks"
ALL_ATTACKS = "*"
SHOWN_AS = {"asr": "ASR"}  # metric names as a column reads them (storage.benchmark_scores.SafetyMetric)


def _cell(row: pd.Series) -> str:
    return data.format_interval(row["value"], row["lo"], row["hi"])


def grid(rows: pd.DataFrame) -> pd.DataFrame:
    """Model x benchmark, each cell the benchmark's headline with its interval; a benchmark's column
    names its metric ('pope · F1')."""
    if rows.empty:
        return pd.DataFrame()
    metric = rows["metric"].map(lambda m: SHOWN_AS.get(str(m), str(m)))
    shown = rows.assign(column=rows["benchmark"] + " · " + metric, cell=rows.apply(_cell, axis=1))
    table = shown.pivot_table(index="model", columns="column", values="cell", aggfunc="first", sort=True)
    return table.fillna("—").reset_index().rename(columns={"model": "Model"})


def judged_by(rows: pd.DataFrame, meta: data.Meta, what: str | None = None) -> list[str]:
    """One line per benchmark: the judge behind its numbers, and its paper's where that differs;
    `what` names the number (default: ASR, or the non-refusal rate for a refusal judge)."""
    lines = []
    for benchmark, part in rows.groupby("benchmark", sort=True):
        judges = ", ".join(sorted({str(j) for j in part["judge"].dropna()})) or "no judge"
        published = next((str(p) for p in part["published_judge"].dropna()), None)
        named = what or ("non-refusal rate" if meta.safety_measures == "refusal" and judges == meta.safety_judge
                         else "ASR")
        line = f"**{md(benchmark)}**: {named} by {md(judges)}"
        if published and published not in judges.split(", "):
            line += f" (its paper counts with {md(published)}: name it as this benchmark's safety_judge to match)"
        lines.append(line)
    return lines


def _every_metric(rows: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "Benchmark": rows["benchmark"], "Part": rows["part"].fillna("all"), "Model": rows["model"],
        "Metric": rows["metric"],
        "Attack": rows["attack"].fillna("none (utility items are sent as they are)").replace(
            ALL_ATTACKS, "mean over attacks"),
        "Value (95% CI)": rows.apply(_cell, axis=1), "n": rows["n"], "Unscored": rows["unscored"],
        "Judge": rows["judge"], "Headline": rows["headline"].astype(bool),
    })


def _section(title: str, rows: pd.DataFrame, empty: str, caption: str) -> None:
    st.subheader(title)
    if rows.empty:
        st.info(empty)
        return
    st.dataframe(grid(rows), hide_index=True)
    st.caption(caption)


def main() -> None:
    meta = data.meta()
    st.title(TITLE)
    demo_notice(meta)
    st.caption(provenance(meta))
    scores = data.benchmark_scores()
    if scores.empty:
        st.info("This snapshot has no per-benchmark numbers: no item was scored, or it was published by an "
                "older mmwatch (snapshot format below 6). Publish it again to see them.")
        return
    heads = scores[scores["headline"].astype(bool)]
    harmful = heads[heads["kind"] == "harmful"]
    _section("Safety benchmarks", harmful, "No harmful benchmark was scored.",
             "Each benchmark's ASR is the mean over the attacks run on it (baseline defense), each attack weighing "
             "the same; lower is safer. " + " · ".join(judged_by(harmful, meta)))
    utility = heads[heads["kind"] == "utility"]
    _section("Utility benchmarks", utility, "No utility benchmark was scored.",
             "Each benchmark's published number, its items sent as they are: MMBench's circular accuracy (right on "
             "every rotation of the options), MME's score over its maximum (mean over subtasks of (acc + acc+) / 2), "
             "POPE's F1 with yes positive, VQA accuracy and MM-Vet's mean grade; an answer the judge could not read "
             "counts as wrong, as the published scripts count it. The Ranking's utility is the mean of these, each "
             "benchmark weighing the same. " + " · ".join(judged_by(utility, meta, "scored")))
    over = scores[scores["metric"] == "over-refusal"]
    if not over.empty:
        _section("Over-refusal per benchmark", over, "",
                 "Benign requests that look harmful, refused anyway, sent as they are. "
                 + " · ".join(judged_by(over, meta, "refusals judged")))
    with st.expander("Every metric of every benchmark"):
        st.dataframe(_every_metric(scores), hide_index=True)


run_page(TITLE, main)
