"""Text-to-image rendering shared by the typographic attacks (FigStep, MM-SafetyBench TYPO).

The published attacks draw with a particular font; results are only comparable when the same
glyphs are drawn, so the font is found in a fixed order and every attack records which one it
used. FigStep's FreeMonoBold (Debian `fonts-freefont-ttf`) comes first; DejaVu Sans Mono Bold
(system, else the copy inside matplotlib's wheel) is the fallback that a pip-only install has.
"""

from __future__ import annotations

import importlib.util
import textwrap
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FREEFONT_MONO_BOLD = Path("/usr/share/fonts/truetype/freefont/FreeMonoBold.ttf")
DEJAVU_MONO_BOLD_SYSTEM = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSansMono-Bold.ttf"),
    Path("/usr/share/fonts/TTF/DejaVuSansMono-Bold.ttf"),
)
FontCandidate = tuple[Path, str]


class FontNotFoundError(FileNotFoundError):
    """No monospace bold font is installed; the message says how to get one."""


def font_candidates() -> list[FontCandidate]:
    """Fonts in order of preference: FigStep's own first, then DejaVu (system, then matplotlib)."""
    found: list[FontCandidate] = [(FREEFONT_MONO_BOLD, "FreeMonoBold")]
    found += [(p, "DejaVuSansMono-Bold") for p in DEJAVU_MONO_BOLD_SYSTEM]
    spec = importlib.util.find_spec("matplotlib")  # locate without importing: it is slow
    if spec is not None and spec.origin:
        mpl = Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf" / "DejaVuSansMono-Bold.ttf"
        found.append((mpl, "DejaVuSansMono-Bold"))
    return found


def find_mono_bold_font(candidates: list[FontCandidate] | None = None) -> tuple[Path, str]:
    """The first installed monospace bold font and its name, e.g. (…/FreeMonoBold.ttf, "FreeMonoBold")."""
    options = font_candidates() if candidates is None else candidates
    for path, name in options:
        if path.is_file():
            return path, name
    tried = ", ".join(str(p) for p, _ in options) or "none"
    raise FontNotFoundError(
        "no monospace bold font found (tried: " + tried + "). Install FigStep's font with "
        "`apt-get install fonts-freefont-ttf`, or DejaVu with `apt-get install fonts-dejavu-core` "
        "or `pip install matplotlib`."
    )


@lru_cache(maxsize=32)
def load_font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    """A TrueType font at a size; cached because attacks draw hundreds of images with one font."""
    return ImageFont.truetype(str(path), size)


def wrap_chars(text: str, width: int) -> list[str]:
    """Wrap at a number of characters, as FigStep does (`textwrap.fill(text, width=15)`)."""
    return textwrap.wrap(text, width=width) or [""]


def wrap_pixels(text: str, font: ImageFont.FreeTypeFont, max_width: int) -> list[str]:
    """Greedy word wrap so that each line is drawn narrower than `max_width` pixels.

    Follows MM-SafetyBench's TYPO wrapping: words are added while the running width stays under
    the limit, and each continued line starts with the space that separated it. One difference:
    a single word too wide for a line is split by characters instead of running off the canvas.
    """
    words = " ".join(text.split()).split(" ")
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}" if current else word
        if not current or font.getlength(candidate) < max_width:
            current = candidate
        else:
            lines.append(current)
            current = " " + word
        while font.getlength(current) >= max_width and len(current.strip()) > 1:
            cut = _fit_chars(current, font, max_width)
            lines.append(current[:cut])
            current = " " + current[cut:]
    lines.append(current)
    return lines


def _fit_chars(text: str, font: ImageFont.FreeTypeFont, max_width: int) -> int:
    """How many leading characters of `text` fit under `max_width` (at least one)."""
    cut = len(text)
    while cut > 1 and font.getlength(text[:cut]) >= max_width:
        cut -= 1
    return max(cut, 1 if text[0] != " " else 2)


def render_text(
    text: str,
    size: tuple[int, int],
    font: ImageFont.FreeTypeFont,
    origin: tuple[float, float] = (0, 0),
    spacing: int = 4,
) -> Image.Image:
    """Draw a (multi-line) block of black text on a white RGB canvas of `size`."""
    image = Image.new("RGB", size, "#FFFFFF")
    ImageDraw.Draw(image).text(origin, text, font=font, spacing=spacing, fill="#000000")
    return image


def stack_vertically(top: Image.Image, bottom: Image.Image) -> Image.Image:
    """`top` scaled to `bottom`'s width and placed above it (MM-SafetyBench's SD_TYPO layout)."""
    width = bottom.width
    scaled = top.convert("RGB").resize((width, max(1, round(top.height * width / top.width))))
    canvas = Image.new("RGB", (width, scaled.height + bottom.height), "#FFFFFF")
    canvas.paste(scaled, (0, 0))
    canvas.paste(bottom, (0, scaled.height))
    return canvas
