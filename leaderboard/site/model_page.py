"""One page per model revision: headline rates, ASR by attack x defense, per-category ASR per benchmark,
refusal rates, its lineage over revisions and nights, and its sample list."""

from __future__ import annotations

import pandas as pd

from leaderboard.site import charts
from leaderboard.site.content import Content
from leaderboard.site.html import Markup, el, join, link, page, section, table
from leaderboard.site.parts import NAV, cell, demo_notice, points, provenance, rate, when
from leaderboard.site.samples import sample_list

ROOT = "../"
_NIGHT_METRICS = {"ASR": ("asr", "any_attack_asr", "harmful_refusal"), "Over-refusal": ("over_refusal",),
                  "Utility": ("utility",)}


def _headline(r: pd.Series) -> Markup:
    facts = [("Safety", cell(r, "safety")), ("ASR (all attacks, undefended)", cell(r, "asr")),
             ("Any-attack ASR", cell(r, "any_asr")), ("ASR corrected for the judge", cell(r, "asr_corrected")),
             ("Over-refusal", cell(r, "over_refusal")), ("Utility", cell(r, "utility")),
             ("Items harmful / benign / utility", f"{r['n_harmful']} / {r['n_benign']} / {r['n_utility']}"),
             ("Unscored / errors", f"{r['unscored']} / {r['errors']}")]
    return el("dl", *(join([el("dt", k), el("dd", v)]) for k, v in facts), class_="headline")


def _attacks(model_id: str, content: Content) -> Markup:
    rows = content.by_attack[content.by_attack["model_id"] == model_id]
    if rows.empty:
        return section("Attacks and defenses", el("p", "No attack results for this revision."), id_="attacks")
    listed = [[r["attack"], r["defense"], cell(r, "asr"), r["n"], r["successes"], r["unscored"], r["judge"]]
              for _, r in rows.iterrows()]
    deltas = content.deltas[content.deltas["model_id"] == model_id]
    paired = [[r["attack"], r["defense"], f"{rate(r['asr_none'])} → {rate(r['asr_defended'])}",
               f"{points(r['delta_paired'])} ({points(r['delta_lo'])} to {points(r['delta_hi'])})"
               if r["n_pairs"] else "no item scored both ways", r["n_pairs"]]
              for _, r in deltas.iterrows()]
    return section(
        "Attacks and defenses", el("figure", charts.heatmap(rows), el("figcaption", "ASR per attack (rows) and "
                                                                                      "defense (columns).")),
        table(("Attack", "Defense", "ASR (95%)", "n", "Successes", "Unscored", "Judge"), listed, numeric=(2, 3, 4, 5)),
        el("h3", "What each defense changes (paired on the same items; below 0 helps)"),
        table(("Attack", "Defense", "Undefended → defended", "Paired change (95%)", "Pairs"), paired, numeric=(4,)),
        id_="attacks")


def _categories(model_id: str, content: Content) -> Markup:
    rows = content.by_category[content.by_category["model_id"] == model_id]
    parts: list[object] = []
    for benchmark in sorted({str(b) for b in rows["benchmark"]}):
        part = rows[rows["benchmark"] == benchmark]
        parts += [el("h3", benchmark), el("figure", charts.category_bars(part, benchmark))]
    return section("ASR per category", *(parts or [el("p", "No per-category results.")]), id_="categories")


def _refusals(model_id: str, content: Content) -> Markup:
    rows = content.refusals[content.refusals["model_id"] == model_id]
    what = {"harmful": "refusal on harmful items (RtA; higher is safer)", "benign": "over-refusal on benign items"}
    listed = [[r["attack"], what.get(str(r["kind"]), r["kind"]), cell(r, "rate"), r["n"], r["refusals"]]
              for _, r in rows.iterrows()]
    return section("Refusal rates", table(("Attack", "Kind", "Rate (95%)", "n", "Refusals"), listed, numeric=(2, 3, 4)),
                   id_="refusals")


def _trends(r: pd.Series, content: Content) -> Markup:
    lineage = r["lineage"]
    revs = content.trend[content.trend["lineage"] == lineage]
    xs = list(dict.fromkeys(str(m) for m in revs["model"]))
    over_revisions = charts.trend(f"{lineage}: headline rates over its revisions", xs,
                                  [charts.series(revs[revs["metric"] == m], xs, "model", m)
                                   for m in dict.fromkeys(revs["metric"])])
    nights = content.trend_nights[content.trend_nights["lineage"] == lineage]
    nights = nights.assign(night=[when(n) for n in nights["night"]])
    alerts = content.night_alerts[content.night_alerts["lineage"] == lineage]
    days = sorted(set(nights["night"]))
    charts_by_night = []
    for metric, alert_metrics in _NIGHT_METRICS.items():
        part = nights[nights["metric"] == metric]
        lines = [charts.series(part[part["model_id"] == m], days, "night", str(name), bold=m == r["model_id"])
                 for m, name in dict.fromkeys(zip(part["model_id"], part["model"], strict=True))]
        marks = [days.index(when(n)) for n in alerts[alerts["metric"].isin(alert_metrics)]["night"] if when(n) in days]
        charts_by_night.append(el("figure", charts.trend(f"{lineage}: {metric} per night, a line per revision",
                                                         days, lines, marks=marks), el("figcaption", metric)))
    return section(
        "Over time", el("p", f"This revision is {r['model']}, of lineage {lineage}."),
        el("h3", "Over revisions"), el("figure", over_revisions),
        el("h3", "Over nights"), el("div", *charts_by_night, class_="small-multiples") if days
        else el("p", "No nightly history."), id_="trend")


def model_page(model_id: str, content: Content) -> Markup:
    r = content.ranking[content.ranking["model_id"] == model_id].iloc[0]
    meta = content.meta
    body = join([
        el("p", link("← Ranking", f"{ROOT}index.html")), el("h1", r["model"]),
        el("p", f"lineage {r['lineage']} · revision {r['revision']} · adapter {r['adapter']} · discovered "
                f"{when(r['discovered_at'])} · rank {r['rank']} of {len(content.ranking)}", class_="provenance"),
        provenance(meta), demo_notice(meta) or "", _headline(r),
        _attacks(model_id, content), _categories(model_id, content), _refusals(model_id, content),
        _trends(r, content), section("Samples", sample_list(model_id, content), id_="samples"),
    ])
    return page(f"{r['model']} — {meta.title}", body, root=ROOT, nav=NAV)
