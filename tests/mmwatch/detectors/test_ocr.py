"""OCR helper: real rapidocr on rendered text, reading order, and the missing-package message."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest
from PIL import Image

from mmwatch.detectors import ocr
from mmwatch.attacks.render import find_mono_bold_font, load_font, render_text
from mmwatch.types import ImageData


def _text_image(text: str, size: tuple[int, int] = (760, 300)) -> ImageData:
    font = load_font(find_mono_bold_font()[0], 60)
    return ImageData.from_pil(render_text(text, size, font, origin=(20, 20), spacing=20))


def test_reads_printed_lines_top_to_bottom() -> None:
    assert ocr.read_text(_text_image("HELLO WORLD\nSECOND LINE")) == "HELLO WORLD SECOND LINE"


def test_blank_image_reads_as_empty() -> None:
    assert ocr.read_text(ImageData.from_pil(Image.new("RGB", (120, 80), "white"))) == ""


def test_reading_order_groups_boxes_into_lines() -> None:
    def box(x: float, y: float) -> list[tuple[float, float]]:
        return [(x, y), (x + 50, y), (x + 50, y + 20), (x, y + 20)]

    items = [(box(200, 52), "line2-right"), (box(10, 0), "line1-left"), (box(10, 50), "line2-left"),
             (box(300, 2), "line1-right")]
    assert ocr._reading_order(items) == ["line1-left line1-right", "line2-left line2-right"]


@pytest.fixture
def no_rapidocr(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    ocr._engine.cache_clear()
    monkeypatch.setitem(sys.modules, "rapidocr", None)  # import now raises ImportError
    yield
    ocr._engine.cache_clear()


def test_missing_rapidocr_names_what_to_install(no_rapidocr: None) -> None:
    with pytest.raises(ImportError, match="pip install rapidocr onnxruntime"):
        ocr.read_text(_text_image("X"))
