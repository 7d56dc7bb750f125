"""Read the text printed in an image, for the reference models and OCR-based defenses.

Uses rapidocr (PP-OCR models shipped inside the wheel, run by onnxruntime; no network, ~0.5 s
an image on two CPU cores). It is imported on first use only, and the engine is built once per
process: building it loads three ONNX models.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from PIL import Image

from mmwatch.types import ImageData

INSTALL_HINT = (
    "OCR needs the `rapidocr` and `onnxruntime` packages: pip install rapidocr onnxruntime "
    "(do not also install rapidocr-onnxruntime: both provide cv2)"
)


class OCRUnavailableError(ImportError):
    """rapidocr or its inference engine is not installed; the message says what to install."""


@lru_cache(maxsize=1)
def _engine() -> Any:
    try:
        from rapidocr import RapidOCR
    except ImportError as exc:
        raise OCRUnavailableError(f"{INSTALL_HINT} ({exc})") from exc
    try:
        import onnxruntime  # noqa: F401  rapidocr only says so on the first image otherwise
    except ImportError as exc:
        raise OCRUnavailableError(f"{INSTALL_HINT} ({exc})") from exc
    engine = RapidOCR(params={"Global.log_level": "error"})
    logging.getLogger("RapidOCR").setLevel(logging.ERROR)
    return engine


def read_lines(image: ImageData) -> list[str]:
    """The text lines in reading order: top to bottom, and left to right within a line.

    Results are cached by the image's content hash: the same attack image reaches several
    models (and an OCR filter) in one run, and OCR is the slowest step of a CPU run.
    """
    return list(_read_lines_cached(image.sha256, image.png))


@lru_cache(maxsize=1024)
def _read_lines_cached(sha256: str, png: bytes) -> tuple[str, ...]:
    return tuple(_read_lines(ImageData(png=png)))


# PP-OCR's detector scales an image until its short side is this long; a thin strip (a line of
# typography, 1024 x 180) would be blown up 4-8x and read slowly, so it is padded with white instead.
_DETECTOR_SHORT_SIDE = 736


def _padded(image: Image.Image) -> Image.Image:
    width, height = image.size
    if min(width, height) >= _DETECTOR_SHORT_SIDE or max(width, height) < _DETECTOR_SHORT_SIDE:
        return image
    canvas = Image.new("RGB", (max(width, _DETECTOR_SHORT_SIDE), max(height, _DETECTOR_SHORT_SIDE)), "white")
    canvas.paste(image, (0, 0))
    return canvas


def _read_lines(image: ImageData) -> list[str]:
    import numpy as np

    result = _engine()(np.asarray(_padded(image.to_pil())))
    texts = getattr(result, "txts", None)
    boxes = getattr(result, "boxes", None)
    if not texts or boxes is None:
        return []
    return _reading_order([(list(map(tuple, box)), str(text)) for box, text in zip(boxes, texts, strict=True)])


def read_text(image: ImageData) -> str:
    """All text in the image as one string, lines joined by single spaces ("" when there is none)."""
    return " ".join(line for line in read_lines(image) if line.strip())


def _reading_order(items: list[tuple[list[tuple[float, float]], str]]) -> list[str]:
    """Group boxes into lines by vertical overlap, then order lines by top and boxes by left edge."""
    boxes = []
    for corners, text in items:
        ys = [float(y) for _, y in corners]
        xs = [float(x) for x, _ in corners]
        boxes.append((min(ys), max(ys), min(xs), text))
    boxes.sort(key=lambda b: (b[0] + b[1]) / 2)
    lines: list[list[tuple[float, float, float, str]]] = []
    for box in boxes:
        centre = (box[0] + box[1]) / 2
        if lines:
            top = sum(b[0] for b in lines[-1]) / len(lines[-1])
            bottom = sum(b[1] for b in lines[-1]) / len(lines[-1])
            if top <= centre <= bottom:
                lines[-1].append(box)
                continue
        lines.append([box])
    return [" ".join(b[3] for b in sorted(line, key=lambda b: b[2])) for line in lines]
