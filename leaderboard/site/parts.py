"""Pieces every page of the site shares: the navigation, the provenance line, rate cells, model links."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from leaderboard import data
from leaderboard.site.content import Content
from leaderboard.site.html import Markup, el, esc, join, link
from mmwatch.records import AlertMetric

NAV = (("Ranking", "index.html"), ("Frontier", "index.html#frontier"), ("Benchmarks", "index.html#benchmarks"),
       ("What changed", "index.html#changes"),
       ("Alerts", "alerts.html"), ("Data", "index.html#data"))
# history metrics (storage/history.py) as the site words them
HISTORY_METRICS = {"asr": "ASR", "any_asr": "any-attack ASR", "over_refusal": "over-refusal", "utility": "utility",
                   "refusal": "refusal rate (harmful)"}


def cell(row: Mapping[str, object] | pd.Series, col: str) -> str:
    """'12% (8–17%)' from a row's col, col_lo and col_hi."""
    return data.format_interval(row.get(col), row.get(f"{col}_lo"), row.get(f"{col}_hi"))  # type: ignore[arg-type]


def rate(value: object) -> str:
    return data.format_rate(value)  # type: ignore[arg-type]


def points(value: object) -> str:
    return data.format_points(value)  # type: ignore[arg-type]


def alert_metric(value: object) -> str:
    try:
        return AlertMetric(str(value)).phrase
    except ValueError:
        return str(value)


def model_link(content: Content, model_id: object, name: object, root: str) -> Markup:
    """The model's name, linking to its page where it has one."""
    page = content.page(model_id)
    return link(name, f"{root}{page}") if page else esc(name)


def when(value: object) -> str:
    """A timestamp or date as ISO text ('—' when missing)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "—"
    if isinstance(value, str):
        return value
    stamp = pd.Timestamp(value)
    return str(stamp.date()) if stamp == stamp.normalize() else stamp.strftime("%Y-%m-%d %H:%M")


def provenance(meta: data.Meta) -> Markup:
    """Where every number on the site comes from: publication, run, judges, config and plan."""
    cells = f" ({meta.plan_cells} cells)" if meta.plan_cells is not None else ""
    facts = [f"published {meta.published_at or '?'}", f"run {meta.run_id or '?'}", f"night {meta.night or '?'}",
             f"judges: {meta.judges_text()}",
             f"config {meta.config_hash or '?'}", f"plan {meta.plan_id or '?'}{cells}",
             f"snapshot v{meta.snapshot_version or '?'}"]
    return el("p", join(facts, " · "), class_="provenance")


def demo_notice(meta: data.Meta) -> Markup | None:
    if not meta.demo:
        return None
    return el("p", el("strong", "Demo data."), " These numbers come from reference models (rule-based) and tiny "
              "random models: they test the pipeline and say nothing about real multimodal LLMs.", class_="notice")


def slice_name(attack: object, defense: object, category: object = "") -> str:
    text = f"{attack} / {defense}"
    return text + (f" / {category}" if isinstance(category, str) and category and category != "*" else "")


def alert_rows(df: pd.DataFrame, content: Content, root: str) -> list[list[object]]:
    """Rows of an alerts table: model, baseline, what got worse, where, before → after, test, state."""
    rows: list[list[object]] = []
    for _, r in df.iterrows():
        diff = (f"{points(r['diff_low'])} to {points(r['diff_high'])}" if "diff_low" in r else "—")
        p = r.get("p_adjusted")
        rows.append([model_link(content, r["model_id"], r["model"], root),
                     model_link(content, r["baseline_id"], r["baseline"], root), alert_metric(r["metric"]),
                     slice_name(r["attack"], r["defense"], r.get("category")),
                     f"{rate(r['rate_old'])} → {rate(r['rate_new'])}", diff,
                     f"{float(p):.3g}" if p is not None and not pd.isna(p) else "—", str(r["state"]),
                     when(r.get("created_at", r.get("night")))])
    return rows


ALERT_HEADERS = ("Model", "Baseline", "Got worse", "Attack / defense / category", "Before → after",
                 "Paired change (95%)", "p (adjusted)", "State", "Raised")
