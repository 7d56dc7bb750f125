"""Inline SVG primitives for the static site: scales, axes, bars, points with error bars, lines, heat cells.

Charts are drawn here in Python, so the site needs no script and no library from anywhere. Every
label goes through html.el, escaped; a tooltip is an SVG <title>, which browsers show on hover.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

from leaderboard.site.html import Markup, el, join

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22")
INK, GRID, MUTED = "#222", "#e3e3e3", "#666"


def colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def finite(*values: object) -> bool:
    """True when every value is a real number (not None, not NaN)."""
    return all(isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(float(v)) for v in values)


def _f(v: float) -> str:
    return f"{v:.1f}"


@dataclass(frozen=True)
class Frame:
    """A chart's size and the margins around its plot area (pixels)."""

    width: int = 640
    height: int = 360
    left: int = 56
    right: int = 16
    top: int = 16
    bottom: int = 48

    @property
    def x0(self) -> float:
        return self.left

    @property
    def x1(self) -> float:
        return self.width - self.right

    @property
    def y0(self) -> float:  # the bottom of the plot area (SVG y grows downwards)
        return self.height - self.bottom

    @property
    def y1(self) -> float:
        return self.top


@dataclass(frozen=True)
class Linear:
    """Maps [lo, hi] onto [start, end], clamped, so that an out-of-range value stays on the chart."""

    lo: float
    hi: float
    start: float
    end: float

    def __call__(self, v: float) -> float:
        t = (min(max(v, self.lo), self.hi) - self.lo) / ((self.hi - self.lo) or 1.0)
        return self.start + t * (self.end - self.start)


def band(n: int, start: float, end: float, pad: float = 0.2) -> list[tuple[float, float]]:
    """(centre, width) of n equal bands from start to end, `pad` of each left empty."""
    step = (end - start) / max(n, 1)
    return [(start + step * (i + 0.5), step * (1 - pad)) for i in range(n)]


def percent_ticks(step: float = 0.25) -> list[tuple[float, str]]:
    return [(i * step, f"{i * step * 100:.0f}%") for i in range(int(round(1 / step)) + 1)]


def svg(frame: Frame, label: str, *children: object, class_: str = "chart") -> Markup:
    """The chart; `label` is its accessible name and its hover text."""
    return el("svg", el("title", label), *children, viewBox=f"0 0 {frame.width} {frame.height}",
              width=frame.width, height=frame.height, role="img", aria_label=label, class_=class_)


def text(x: float, y: float, value: object, *, anchor: str = "start", class_: str | None = None,
         size: int = 11, fill: str = INK, rotate: bool = False) -> Markup:
    turn = f"rotate(-90 {_f(x)} {_f(y)})" if rotate else None
    return el("text", value, x=_f(x), y=_f(y), text_anchor=anchor, font_size=size, fill=fill, transform=turn,
              class_=class_)


def line(x1: float, y1: float, x2: float, y2: float, *, stroke: str = INK, width: float = 1,
         dash: str | None = None, class_: str | None = None) -> Markup:
    return el("line", x1=_f(x1), y1=_f(y1), x2=_f(x2), y2=_f(y2), stroke=stroke, stroke_width=width,
              stroke_dasharray=dash, class_=class_)


def rect(x: float, y: float, w: float, h: float, *, fill: str, tip: str | None = None,
         class_: str | None = None, stroke: str | None = None) -> Markup:
    return el("rect", el("title", tip) if tip else None, x=_f(x), y=_f(y), width=_f(max(w, 0)),
              height=_f(max(h, 0)), fill=fill, stroke=stroke, class_=class_)


def circle(cx: float, cy: float, r: float, *, fill: str, stroke: str = "#fff", width: float = 1,
           tip: str | None = None, class_: str | None = None) -> Markup:
    return el("circle", el("title", tip) if tip else None, cx=_f(cx), cy=_f(cy), r=_f(r), fill=fill,
              stroke=stroke, stroke_width=width, class_=class_)


def polyline(points: Sequence[tuple[float, float]], *, stroke: str, width: float = 1.5, dash: str | None = None,
             class_: str | None = None, tip: str | None = None) -> Markup:
    coords = " ".join(f"{_f(x)},{_f(y)}" for x, y in points)
    return el("polyline", el("title", tip) if tip else None, points=coords, fill="none", stroke=stroke,
              stroke_width=width, stroke_dasharray=dash, stroke_linejoin="round", class_=class_)


def error_bar(x: float, lo: float, hi: float, *, vertical: bool = True, stroke: str = INK, cap: float = 3,
              class_: str = "err") -> Markup:
    """A whisker from lo to hi (pixel positions) with caps, at x (or at y when horizontal)."""
    if vertical:
        d = f"M{_f(x)},{_f(lo)}V{_f(hi)}M{_f(x - cap)},{_f(lo)}H{_f(x + cap)}M{_f(x - cap)},{_f(hi)}H{_f(x + cap)}"
    else:
        d = f"M{_f(lo)},{_f(x)}H{_f(hi)}M{_f(lo)},{_f(x - cap)}V{_f(x + cap)}M{_f(hi)},{_f(x - cap)}V{_f(x + cap)}"
    return el("path", d=d, stroke=stroke, stroke_width=1, fill="none", class_=class_)


def axis_y(scale: Linear, frame: Frame, ticks: Sequence[tuple[float, str]], label: str) -> Markup:
    """Left axis with gridlines across the plot area."""
    parts = [line(frame.x0, scale(v), frame.x1, scale(v), stroke=GRID, class_="grid") for v, _ in ticks]
    parts += [text(frame.x0 - 6, scale(v) + 4, name, anchor="end", fill=MUTED) for v, name in ticks]
    parts += [line(frame.x0, frame.y0, frame.x0, frame.y1, stroke=MUTED),
              text(14, (frame.y0 + frame.y1) / 2, label, anchor="middle", rotate=True, size=12)]
    return join(parts)


def axis_x(scale: Linear, frame: Frame, ticks: Sequence[tuple[float, str]], label: str) -> Markup:
    """Bottom axis with gridlines up the plot area."""
    parts = [line(scale(v), frame.y0, scale(v), frame.y1, stroke=GRID, class_="grid") for v, _ in ticks]
    parts += [text(scale(v), frame.y0 + 16, name, anchor="middle", fill=MUTED) for v, name in ticks]
    parts += [line(frame.x0, frame.y0, frame.x1, frame.y0, stroke=MUTED),
              text((frame.x0 + frame.x1) / 2, frame.height - 8, label, anchor="middle", size=12)]
    return join(parts)


def axis_bands(centres: Sequence[float], names: Sequence[str], frame: Frame, *, clip: int = 18) -> Markup:
    """Category names under a band axis, shortened to `clip` characters (the full name on hover)."""
    parts = [line(frame.x0, frame.y0, frame.x1, frame.y0, stroke=MUTED)]
    for x, name in zip(centres, names, strict=True):
        short = name if len(name) <= clip else name[: clip - 1] + "…"
        parts.append(el("g", el("title", name), text(x, frame.y0 + 16, short, anchor="middle", fill=MUTED)))
    return join(parts)


def heat_colour(rate: float | None) -> str:
    """Pale for 0 %, deep red for 100 %; grey where nothing was scored."""
    if not finite(rate):
        return "#eeeeee"
    t = min(max(float(rate or 0.0), 0.0), 1.0)
    low, mid, high = (255, 247, 236), (252, 141, 89), (153, 0, 13)
    a, b, u = (low, mid, t * 2) if t < 0.5 else (mid, high, (t - 0.5) * 2)
    r, g, bl = (round(x + (y - x) * u) for x, y in zip(a, b, strict=True))
    return f"#{r:02x}{g:02x}{bl:02x}"


def heat_cell(x: float, y: float, w: float, h: float, rate: float | None, label: str, tip: str) -> Markup:
    """One cell of a heatmap: its colour says the rate, its text says it in words."""
    ink = "#fff" if finite(rate) and float(rate or 0.0) > 0.55 else INK
    return join([rect(x, y, w, h, fill=heat_colour(rate), tip=tip, stroke="#fff", class_="cell"),
                 text(x + w / 2, y + h / 2 + 4, label, anchor="middle", fill=ink, size=12)])


def legend(items: Sequence[tuple[str, str]], x: float, y: float, *, step: float = 16) -> Markup:
    """Colour swatches with names, one under the other, from (x, y)."""
    return join(join([rect(x, y + i * step - 9, 10, 10, fill=fill), text(x + 14, y + i * step, name)])
                for i, (name, fill) in enumerate(items))
