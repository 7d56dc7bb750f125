"""mmwatch-mini: the built-in benchmark, small enough to run every night on every model.

The text lives in `data/mini.yaml` (written by the project, so it can ship and be published); the
utility images are drawn here with PIL at load time, deterministically, so no binary files are
needed and the same id always means the same pixels on a machine with the same font.
"""

from __future__ import annotations

import importlib.util
import math
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from PIL import Image, ImageDraw, ImageFont

from mmwatch.plugins import benchmark
from mmwatch.types import ImageData, Sample, SampleKind

NAME = "mmwatch-mini"
VERSION = 1
DATA_FILE = Path(__file__).parent / "data" / "mini.yaml"

CANVAS = 448
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "green": (30, 150, 50),
    "blue": (30, 70, 220),
    "yellow": (245, 205, 0),
    "orange": (250, 130, 0),
    "purple": (130, 50, 170),
    "black": (0, 0, 0),
    "gray": (110, 110, 110),
}
SHAPES = ("circle", "square", "triangle", "star")
# Cells of a 3x3 grid in a fixed order: dots never overlap and need no random generator.
_DOT_CELLS = (4, 0, 8, 2, 6, 1, 7, 3, 5)
_FIELDS = {"id", "category", "text", "instruction", "key_phrase", "rephrased", "reference", "draw"}


@benchmark(NAME, version=VERSION)
def mini(kinds: list[str] | None = None, per_category: int | None = None) -> list[Sample]:
    """The built-in harmful / benign look-alike / drawn-utility benchmark (mmwatch-mini).

    `per_category` keeps the first N items of each (kind, category), in file order: a smaller
    set that still covers every category (the demo uses it to stay quick on a CPU).
    """
    if per_category is not None and per_category < 1:
        raise ValueError(f"{NAME}: per_category must be >= 1, got {per_category}")
    wanted = _parse_kinds(kinds)
    taken: Counter[tuple[SampleKind, str]] = Counter()
    out = []
    for sample in load_all():
        if wanted is not None and sample.kind not in wanted:
            continue
        taken[(sample.kind, sample.category)] += 1
        if per_category is None or taken[(sample.kind, sample.category)] <= per_category:
            out.append(sample)
    return out


def _parse_kinds(kinds: list[str] | None) -> set[SampleKind] | None:
    if kinds is None:
        return None
    allowed = [k.value for k in SampleKind]
    out: set[SampleKind] = set()
    for kind in kinds:
        if kind not in allowed:
            raise ValueError(f"{NAME}: unknown kind {kind!r} in 'kinds' (allowed: {', '.join(allowed)})")
        out.add(SampleKind(kind))
    return out


@lru_cache(maxsize=1)
def load_all() -> tuple[Sample, ...]:
    """Every sample, in file order. Cached: the data file and the drawing are pure."""
    data = yaml.safe_load(DATA_FILE.read_text(encoding="utf-8"))
    if data.get("version") != VERSION:
        raise ValueError(f"{DATA_FILE}: version {data.get('version')!r} != benchmark version {VERSION}")
    samples: list[Sample] = []
    for kind in SampleKind:
        for entry in data.get(kind.value) or []:
            samples.append(_sample(kind, entry))
    return tuple(samples)


def _sample(kind: SampleKind, entry: dict[str, Any]) -> Sample:
    where = f"{DATA_FILE} ({kind.value} item {entry.get('id', '?')!r})"
    unknown = set(entry) - _FIELDS
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    draw = entry.get("draw")
    if kind is SampleKind.UTILITY and (draw is None or not entry.get("reference")):
        raise ValueError(f"{where}: a utility item needs 'draw' and 'reference'")
    fields = {k: v for k, v in entry.items() if k not in {"id", "draw"}}
    image = ImageData.from_pil(draw_image(draw)) if draw is not None else None
    return Sample(benchmark=NAME, source_id=entry["id"], kind=kind, image=image, **fields)


def draw_image(spec: dict[str, Any]) -> Image.Image:
    """Draw one utility picture from its spec: dots to count, one shape, or one printed word."""
    img = Image.new("RGB", (CANVAS, CANVAS), "white")
    canvas = ImageDraw.Draw(img)
    figure = spec.get("figure")
    if figure == "word":
        _draw_word(canvas, str(spec["word"]))
        return img
    colour = _colour(spec.get("colour", "black"))
    if figure == "dots":
        count = int(spec["count"])
        if not 1 <= count <= len(_DOT_CELLS):
            raise ValueError(f"dots: count must be 1..{len(_DOT_CELLS)}, got {count}")
        cell = CANVAS // 3
        for index in _DOT_CELLS[:count]:
            cx, cy = cell * (index % 3) + cell // 2, cell * (index // 3) + cell // 2
            canvas.ellipse((cx - 45, cy - 45, cx + 45, cy + 45), fill=colour)
    elif figure in SHAPES:
        _draw_shape(canvas, figure, colour)
    else:
        raise ValueError(f"unknown figure {figure!r} (allowed: dots, word, {', '.join(SHAPES)})")
    return img


def _colour(name: str) -> tuple[int, int, int]:
    try:
        return COLOURS[name]
    except KeyError:
        raise ValueError(f"unknown colour {name!r} (allowed: {', '.join(COLOURS)})") from None


def _draw_shape(canvas: ImageDraw.ImageDraw, shape: str, colour: tuple[int, int, int]) -> None:
    c, r = CANVAS // 2, 140
    if shape == "circle":
        canvas.ellipse((c - r, c - r, c + r, c + r), fill=colour)
    elif shape == "square":
        canvas.rectangle((c - r, c - r, c + r, c + r), fill=colour)
    elif shape == "triangle":
        canvas.polygon([(c, c - r), (c + r, c + r - 20), (c - r, c + r - 20)], fill=colour)
    else:  # five-pointed star: alternate outer and inner radius every 36 degrees
        points = []
        for i in range(10):
            radius = r + 20 if i % 2 == 0 else (r + 20) * 0.4
            angle = math.pi / 2 + i * math.pi / 5
            points.append((round(c + radius * math.cos(angle)), round(c - radius * math.sin(angle))))
        canvas.polygon(points, fill=colour)


def _draw_word(canvas: ImageDraw.ImageDraw, word: str) -> None:
    """Print the word in black, as large as fits with a margin, centred."""
    size = 120
    while True:
        font = _font(size)
        left, top, right, bottom = canvas.textbbox((0, 0), word, font=font)
        if right - left <= CANVAS - 48 or size <= 24:
            break
        size -= 4
    x = (CANVAS - (right - left)) // 2 - left
    y = (CANVAS - (bottom - top)) // 2 - top
    canvas.text((x, y), word, fill="black", font=font)


@lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu Sans Bold (system or matplotlib's copy), else FreeSans Bold, else Pillow's own font."""
    path = font_path()
    if path is not None:
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)


@lru_cache(maxsize=1)
def font_path() -> Path | None:
    """Where DejaVu Sans Bold is; found without importing matplotlib (it is slow to import)."""
    candidates = [
        Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
        Path("/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf"),
        Path("/usr/share/fonts/TTF/DejaVuSans-Bold.ttf"),
    ]
    fallbacks = [Path("/usr/share/fonts/truetype/freefont/FreeSansBold.ttf")]
    spec = importlib.util.find_spec("matplotlib")
    if spec is not None and spec.origin:
        candidates.append(Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf" / "DejaVuSans-Bold.ttf")
    return next((p for p in [*candidates, *fallbacks] if p.is_file()), None)
