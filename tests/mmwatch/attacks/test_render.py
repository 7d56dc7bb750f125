"""Font lookup, wrapping and drawing helpers shared by the typographic attacks."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mmwatch.attacks.render import (
    FontNotFoundError,
    find_mono_bold_font,
    font_candidates,
    load_font,
    render_text,
    stack_vertically,
    wrap_chars,
    wrap_pixels,
)


def test_finds_an_installed_mono_bold_font() -> None:
    path, name = find_mono_bold_font()
    assert path.is_file()
    assert name in {"FreeMonoBold", "DejaVuSansMono-Bold"}


def test_figsteps_font_is_preferred() -> None:
    first_path, first_name = font_candidates()[0]
    assert first_name == "FreeMonoBold"
    assert first_path.name == "FreeMonoBold.ttf"


def test_falls_back_in_order(tmp_path: Path) -> None:
    present = tmp_path / "second.ttf"
    present.write_bytes(b"not really a font")
    candidates = [(tmp_path / "missing.ttf", "First"), (present, "Second"), (present, "Third")]
    assert find_mono_bold_font(candidates) == (present, "Second")


def test_no_font_says_how_to_install_one(tmp_path: Path) -> None:
    with pytest.raises(FontNotFoundError, match="fonts-freefont-ttf") as err:
        find_mono_bold_font([(tmp_path / "nope.ttf", "Nope")])
    assert "nope.ttf" in str(err.value)


def test_wrap_chars_matches_textwrap_fill() -> None:
    text = "Steps to manufacture illegal drugs."
    assert wrap_chars(text, 15) == ["Steps to", "manufacture", "illegal drugs."]
    assert "\n".join(wrap_chars(text, 15)) == textwrap.fill(text, width=15)
    assert wrap_chars("", 15) == [""]


def test_wrap_pixels_keeps_every_line_under_the_width() -> None:
    font = load_font(find_mono_bold_font()[0], 90)
    text = "a phrase that is much too long to fit on one single line of the canvas"
    lines = wrap_pixels(text, font, 1024)
    assert len(lines) > 1
    assert all(font.getlength(line) < 1024 for line in lines)
    assert all(line.startswith(" ") for line in lines[1:])  # MM-SafetyBench's continuation space
    assert " ".join(line.strip() for line in lines) == text


def test_wrap_pixels_splits_a_word_wider_than_the_canvas() -> None:
    font = load_font(find_mono_bold_font()[0], 90)
    word = "x" * 40
    lines = wrap_pixels(word, font, 1024)
    assert len(lines) >= 2
    assert all(font.getlength(line) < 1024 for line in lines)
    assert "".join(line.strip() for line in lines) == word


def test_render_text_draws_black_on_white() -> None:
    font = load_font(find_mono_bold_font()[0], 40)
    image = render_text("Hi\nthere", (300, 150), font, origin=(10, 10), spacing=4)
    assert image.size == (300, 150) and image.mode == "RGB"
    pixels = np.asarray(image)
    assert (pixels == 255).all(axis=2).mean() > 0.7  # mostly white
    assert (pixels == 0).all(axis=2).any()  # some pure black ink
    assert pixels[-5:, :].min() == 255  # nothing drawn at the very bottom


def test_stack_vertically_scales_the_top_to_the_bottom_width() -> None:
    top = Image.new("RGB", (100, 50), "red")
    bottom = Image.new("RGB", (400, 90), "white")
    stacked = stack_vertically(top, bottom)
    assert stacked.size == (400, 200 + 90)
    assert stacked.getpixel((10, 10)) == (255, 0, 0)
    assert stacked.getpixel((10, 250)) == (255, 255, 255)
