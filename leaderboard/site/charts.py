"""The site's charts, from the data module's frames: the safety-utility frontier, the attack x defense
heatmap, per-category ASR bars and trend lines. Each draws its 95% intervals, as the tables print them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from leaderboard import data
from leaderboard.site.html import Markup
from leaderboard.site.svg import (
    INK, MUTED, Frame, Linear, axis_bands, axis_x, axis_y, band, circle, colour, error_bar, finite, heat_cell, legend,
    line, percent_ticks, polyline, rect, svg, text,
)


def _interval(rate: object, lo: object, hi: object) -> str:
    return data.format_interval(rate, lo, hi)  # type: ignore[arg-type]


def frontier(df: pd.DataFrame) -> Markup:
    """Safety against utility per revision: both intervals, each lineage's path over its revisions in
    order, and the Pareto front (no revision both safer and more useful) ringed and joined."""
    frame = Frame(width=720, height=460, right=190)
    x, y = Linear(0, 1, frame.x0, frame.x1), Linear(0, 1, frame.y0, frame.y1)
    parts = [axis_x(x, frame, percent_ticks(), "Utility (higher is better)"),
             axis_y(y, frame, percent_ticks(), "Safety = 1 − ASR (higher is better)")]
    lineages = list(dict.fromkeys(str(v) for v in df["lineage"]))
    for i, lineage in enumerate(lineages):
        rows = df[df["lineage"] == lineage]
        if len(rows) > 1:
            parts.append(polyline([(x(r.utility), y(r.safety)) for r in rows.itertuples()], stroke=colour(i),
                                  dash="4 3", class_="lineage", tip=f"{lineage}: revisions in order"))
    front = df[df["on_front"].astype(bool)].sort_values("utility")
    if len(front) > 1:
        parts.append(polyline([(x(r.utility), y(r.safety)) for r in front.itertuples()], stroke=INK, width=1,
                              class_="front"))
    for r in df.itertuples():
        px, py, fill = x(r.utility), y(r.safety), colour(lineages.index(str(r.lineage)))
        if finite(r.utility_lo, r.utility_hi):
            parts.append(error_bar(py, x(r.utility_lo), x(r.utility_hi), vertical=False, stroke=fill))
        if finite(r.safety_lo, r.safety_hi):
            parts.append(error_bar(px, y(r.safety_lo), y(r.safety_hi), stroke=fill))
        tip = (f"{r.model} ({r.lineage} @ {r.revision}): safety {_interval(r.safety, r.safety_lo, r.safety_hi)}, "
               f"utility {_interval(r.utility, r.utility_lo, r.utility_hi)}" + (", on the front" if r.on_front else ""))
        if r.on_front:
            parts.append(circle(px, py, 9, fill="none", stroke=INK, width=1.5, class_="on-front"))
        parts += [circle(px, py, 5, fill=fill, tip=tip, class_="point"), text(px + 11, py - 6, r.model, size=10)]
    names = [(name, colour(i)) for i, name in enumerate(lineages)]
    parts += [legend(names, frame.x1 + 16, frame.y1 + 10),
              circle(frame.x1 + 21, frame.y1 + 24 + 16 * len(names), 7, fill="none", stroke=INK, width=1.5),
              text(frame.x1 + 32, frame.y1 + 28 + 16 * len(names), "on the Pareto front")]
    return svg(frame, "Safety against utility per model revision, with 95% intervals", *parts, class_="chart frontier")


def heatmap(df: pd.DataFrame) -> Markup:
    """ASR per attack (rows) x defense (columns): colour and words, the interval and n on hover."""
    attacks, defenses = _baseline_first(df, "attack"), _baseline_first(df, "defense")
    cell_w, cell_h, left, top = 130, 34, 190, 40
    frame = Frame(width=left + cell_w * len(defenses) + 10, height=top + cell_h * len(attacks) + 10)
    parts = [text(left - 8, 24, "attack ↓ / defense →", anchor="end", fill=MUTED)]
    for j, defense in enumerate(defenses):
        parts.append(text(left + cell_w * (j + 0.5), 28, _clip(defense, 20), anchor="middle"))
    for i, attack in enumerate(attacks):
        parts.append(text(left - 8, top + cell_h * (i + 0.5) + 4, _clip(attack, 28), anchor="end"))
        for j, defense in enumerate(defenses):
            hit = df[(df["attack"] == attack) & (df["defense"] == defense)]
            if hit.empty:
                parts.append(heat_cell(left + cell_w * j, top + cell_h * i, cell_w, cell_h, None, "—", "not run"))
                continue
            r = hit.iloc[0]
            tip = f"{attack} / {defense}: ASR {_interval(r.asr, r.asr_lo, r.asr_hi)}, n {r.n}"
            parts.append(heat_cell(left + cell_w * j, top + cell_h * i, cell_w, cell_h, r.asr,
                                   data.format_rate(r.asr), tip))
    return svg(frame, "Attack success rate per attack and defense", *parts, class_="chart heatmap")


def _baseline_first(df: pd.DataFrame, column: str) -> list[str]:
    """The column's values, the unattacked / undefended baseline first (as the data module orders them)."""
    first = df.groupby(column)[f"{column}_baseline"].any() if f"{column}_baseline" in df else pd.Series(dtype=bool)
    names = list(dict.fromkeys(str(v) for v in df[column]))
    return sorted(names, key=lambda n: (not bool(first.get(n, False)), n))


def _clip(name: str, n: int) -> str:
    return name if len(name) <= n else name[: n - 1] + "…"


def category_bars(df: pd.DataFrame, benchmark: str) -> Markup:
    """ASR per category of one benchmark, a bar per attack; a 0 % bar still draws its mark at the axis."""
    categories = list(dict.fromkeys(str(c) for c in df["category"]))
    attacks = list(dict.fromkeys(str(a) for a in df["attack"]))
    frame = Frame(width=max(420, 70 + 40 * len(categories) * max(len(attacks), 1)), height=300, right=150)
    y = Linear(0, 1, frame.y0, frame.y1)
    groups = band(len(categories), frame.x0, frame.x1)
    parts = [axis_y(y, frame, percent_ticks(), "ASR"), axis_bands([c for c, _ in groups], categories, frame)]
    for (centre, width), category in zip(groups, categories, strict=True):
        for k, (bx, bw) in enumerate(band(len(attacks), centre - width / 2, centre + width / 2, pad=0.1)):
            hit = df[(df["category"] == category) & (df["attack"] == attacks[k])]
            if hit.empty:
                continue
            r = hit.iloc[0]
            top = y(r.asr) if finite(r.asr) else frame.y0
            tip = f"{benchmark} / {category} / {attacks[k]}: ASR {_interval(r.asr, r.asr_lo, r.asr_hi)}, n {r.n}"
            parts += [rect(bx - bw / 2, top, bw, frame.y0 - top, fill=colour(k), tip=tip, class_="bar"),
                      line(bx - bw / 2, top, bx + bw / 2, top, stroke=INK, width=2, class_="mark")]
            if finite(r.asr_lo, r.asr_hi):
                parts.append(error_bar(bx, y(r.asr_lo), y(r.asr_hi), cap=min(4, bw / 3)))
    parts.append(legend([(a, colour(k)) for k, a in enumerate(attacks)], frame.x1 + 14, frame.y1 + 10))
    return svg(frame, f"ASR per category of {benchmark}, per attack, with 95% intervals", *parts, class_="chart bars")


@dataclass(frozen=True)
class Series:
    """One line of a trend chart: a rate (with its interval) at some of the x positions."""

    name: str
    points: list[tuple[int, float, float | None, float | None]] = field(default_factory=list)  # x, rate, lo, hi
    bold: bool = False


def trend(title: str, xs: Sequence[str], series: Sequence[Series], *, marks: Sequence[int] = ()) -> Markup:
    """Rates over ordered positions (revisions or nights); `marks`: positions flagged (an alert)."""
    frame = Frame(width=max(480, 120 * len(xs) + 226), height=280, right=170)
    y = Linear(0, 1, frame.y0, frame.y1)
    centres = [c for c, _ in band(len(xs), frame.x0, frame.x1, pad=0)]
    parts = [axis_y(y, frame, percent_ticks(), "rate"), axis_bands(centres, list(xs), frame, clip=14)]
    for i in sorted(set(marks)):
        parts += [line(centres[i], frame.y0, centres[i], frame.y1, stroke="#d62728", dash="2 3", class_="alert-mark"),
                  text(centres[i], frame.y1 + 10, "alert", anchor="middle", fill="#d62728", size=10)]
    for k, s in enumerate(series):
        fill, width = colour(k), (2.5 if s.bold else 1.5)
        shift = (k - (len(series) - 1) / 2) * 4  # side by side, so that equal rates do not hide each other
        pts = [(centres[i] + shift, y(rate)) for i, rate, _, _ in s.points]
        if len(pts) > 1:
            parts.append(polyline(pts, stroke=fill, width=width, class_="trend", tip=s.name))
        for (i, rate, lo, hi), (px, py) in zip(s.points, pts, strict=True):
            if finite(lo, hi):
                parts.append(error_bar(px, y(lo or 0), y(hi or 0), stroke=fill))
            parts.append(circle(px, py, 4 if s.bold else 3, fill=fill,
                                tip=f"{s.name} at {xs[i]}: {_interval(rate, lo, hi)}", class_="point"))
    parts.append(legend([(s.name, colour(k)) for k, s in enumerate(series)], frame.x1 + 14, frame.y1 + 10))
    return svg(frame, title, *parts, class_="chart trend")


def series(df: pd.DataFrame, xs: Sequence[str], at: str, name: str, *, bold: bool = False) -> Series:
    """A Series from rows with `rate`, `rate_lo`, `rate_hi` and an x column `at` holding values of xs."""
    points = [(xs.index(str(r[at])), float(r["rate"]), _num(r["rate_lo"]), _num(r["rate_hi"]))
              for _, r in df.iterrows() if str(r[at]) in xs and finite(r["rate"])]
    return Series(name=name, points=sorted(points), bold=bold)


def _num(v: object) -> float | None:
    return float(v) if finite(v) else None  # type: ignore[arg-type]


__all__ = ["Series", "category_bars", "frontier", "heatmap", "series", "trend"]
