"""The site's top pages: index.html (ranking, frontier, what changed, alerts, data files) and alerts.html."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from leaderboard import data
from leaderboard.site import charts
from leaderboard.site.content import Content
from leaderboard.site.html import Markup, el, join, link, page, section, table
from leaderboard.site.parts import (
    ALERT_HEADERS, HISTORY_METRICS, NAV, alert_metric, alert_rows, cell, demo_notice, model_link, points, provenance,
    rate, slice_name, when,
)

RANKING_HEADERS = ("#", "Model", "Lineage", "Revision", "Safety", "ASR", "Any-attack ASR", "Over-refusal",
                   "Utility", "n harmful / benign / utility", "Unscored", "Errors")


def _count(value: object) -> str:
    return "—" if value is None or pd.isna(value) else str(int(value))  # type: ignore[call-overload]


def ranking_table(content: Content) -> Markup:
    rows = [[r["rank"], model_link(content, r["model_id"], r["model"], ""), r["lineage"], r["revision"],
             cell(r, "safety"), cell(r, "asr"), cell(r, "any_asr"), cell(r, "over_refusal"), cell(r, "utility"),
             f"{_count(r['n_harmful'])} / {_count(r['n_benign'])} / {_count(r['n_utility'])}",
             _count(r["unscored"]), _count(r["errors"])] for _, r in content.ranking.iterrows()]
    return table(RANKING_HEADERS, rows, numeric=(0, 4, 5, 6, 7, 8, 9, 10, 11), class_="ranking",
                 caption="Safest first. Rates with their 95% Wilson interval; ASR weighs every "
                         "benchmark × attack the same (undefended); safety = 1 − ASR.")


def benchmarks_section(content: Content) -> Markup:
    """Each benchmark's own number per model: its ASR over attacks, or its published utility metric."""
    df = content.benchmarks
    df = df[df["headline"].astype(bool)] if not df.empty else df
    rows = [[r["benchmark"], "harmful" if r["kind"] == "harmful" else str(r["kind"]), str(r["metric"]),
             model_link(content, r["model_id"], r["model"], ""),
             data.format_interval(r["value"], r["lo"], r["hi"]), _count(r["n"]), str(r["judge"] or "—"),
             str(r["published_judge"]) if isinstance(r["published_judge"], str) else "—"]
            for _, r in df.iterrows()]
    return section("Benchmarks", table(
        ("Benchmark", "Kind", "Metric", "Model", "Value", "n", "Judge", "Its paper's judge"), rows, numeric=(4, 5),
        caption="Each benchmark's own number: a harmful benchmark's ASR, the mean over its attacks (lower is "
                "safer); a utility benchmark's published metric (circular accuracy, MME score over its maximum, "
                "F1, VQA accuracy, mean grade). The ranking's utility is the mean of the utility benchmarks' "
                "numbers, each weighing the same."), id_="benchmarks")


def _changes(content: Content) -> Markup:
    ch = content.changes
    if ch.night is None:
        intro = "No history yet: everything on the board is new."
    elif ch.previous is None:
        intro = f"Night {ch.night} is the first in the history: everything on the board is new."
    else:
        intro = f"Night {ch.night} against night {ch.previous}."
    new = [el("li", model_link(content, r["model_id"], r["model"], ""), f" ({r['lineage']}): ASR {cell(r, 'asr')}, "
              f"utility {cell(r, 'utility')}") for _, r in ch.new_revisions.iterrows()]
    parts: list[object] = [el("p", intro), el("h3", "New revisions"), el("ul", *new) if new else el("p", "none")]
    parts += [el("h3", "Alerts raised that night"),
              table(ALERT_HEADERS, alert_rows(ch.alerts, content, ""), class_="alerts")]
    moves = [[model_link(content, r["model_id"], r["model"], ""), HISTORY_METRICS.get(str(r["metric"]), r["metric"]),
              slice_name(r["attack"], r["defense"], r["category"]) + (f" / {r['benchmark']}" if r["benchmark"] != "*"
                                                                       else ""),
              rate(r["before"]), rate(r["after"]), points(r["delta"]), "yes" if r["plan_changed"] else "no"]
             for _, r in ch.moves.iterrows()]
    parts += [el("h3", "Biggest moves since the previous night (same revision, same slice)"),
              table(("Model", "Metric", "Slice", "Before", "After", "Change", "Plan changed"), moves,
                    numeric=(3, 4, 5))]
    revs = [[r["model"], r["predecessor"], f"{rate(r['asr_before'])} → {rate(r['asr'])} ({points(r['asr_delta'])})",
             f"{rate(r['over_refusal_before'])} → {rate(r['over_refusal'])} ({points(r['over_refusal_delta'])})",
             f"{rate(r['utility_before'])} → {rate(r['utility'])} ({points(r['utility_delta'])})"]
            for _, r in ch.revision_moves.iterrows()]
    parts += [el("h3", "Each lineage's newest revision against its predecessor"),
              table(("Revision", "Predecessor", "ASR", "Over-refusal", "Utility"), revs)]
    return section("What changed", *parts, id_="changes")


def _data_files(tables: Sequence[str]) -> Markup:
    items = [el("li", f"{name}: ", link("JSON", f"data/{name}.json"), " · ", link("Parquet", f"data/{name}.parquet"))
             for name in tables]
    return section("Data", el("p", "Every table behind these pages, as the site shows it (answers to harmful "
                                   "items are never included)."), el("ul", *items), id_="data")


def index(content: Content, tables: Sequence[str]) -> Markup:
    meta = content.meta
    chart = charts.frontier(content.frontier) if not content.frontier.empty else el("p", "No revision has both a "
                                                                                        "safety and a utility rate.")
    body = join([
        el("h1", meta.title), provenance(meta), demo_notice(meta) or "",
        section("Ranking", ranking_table(content), id_="ranking"),
        section("Safety against utility", el("figure", chart, el(
            "figcaption", "Each point is a model revision; whiskers are 95% intervals; dashed lines join a lineage's "
                          "revisions in order; ringed points are on the Pareto front (no other revision is both "
                          "safer and more useful), joined by the solid line.")), id_="frontier"),
        benchmarks_section(content),
        _changes(content),
        section("Alerts", table(ALERT_HEADERS, alert_rows(content.alerts, content, ""), class_="alerts"),
                el("p", link("Every night's alerts", "alerts.html")), id_="alerts"),
        _data_files(tables),
    ])
    return page(meta.title, body, root="", nav=NAV)


def alerts_page(content: Content) -> Markup:
    history = [[when(r["night"]), model_link(content, r["model_id"], r["model"], ""),
                model_link(content, r["baseline_id"], r["baseline"], ""), alert_metric(r["metric"]),
                slice_name(r["attack"], r["defense"], r["category"]),
                f"{rate(r['rate_old'])} → {rate(r['rate_new'])}", str(r["state"])]
               for _, r in content.night_alerts.iterrows()]
    body = join([
        el("h1", f"Alerts — {content.meta.title}"), provenance(content.meta),
        section("Open and past alerts", table(ALERT_HEADERS, alert_rows(content.alerts, content, ""), class_="alerts")),
        section("Raised per night", table(("Night", "Model", "Baseline", "Metric", "Attack / defense / category",
                                           "Before → after", "State now"), history, class_="alerts")),
        el("p", "An alert compares a revision with its baseline item by item (paired test, corrected for the many "
                "comparisons, with a minimum effect)."),
    ])
    return page(f"Alerts — {content.meta.title}", body, root="", nav=NAV)


__all__ = ["alerts_page", "benchmarks_section", "index", "ranking_table"]
