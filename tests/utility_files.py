"""Small files in the utility benchmarks' published formats, written by the tests themselves:
images drawn with PIL, base64-encoded into VLMEvalKit-style TSVs (no benchmark data is copied)."""

from __future__ import annotations

import base64
import csv
import io
import json
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PIL import Image


def image_bytes(colour: str = "red", size: tuple[int, int] = (24, 16), fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, format=fmt)
    return buf.getvalue()


def b64(colour: str = "red", size: tuple[int, int] = (24, 16), fmt: str = "PNG") -> str:
    return base64.b64encode(image_bytes(colour, size, fmt)).decode()


def huge_png_header(width: int = 10_000, height: int = 9_500) -> bytes:
    """A PNG that declares far more pixels than any config allows, in a few bytes."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


def write_tsv(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> Path:
    """A TSV as pandas writes one (minimal quoting, a missing value as an empty cell)."""
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, delimiter="\t", lineterminator="\n")
        writer.writerow(header)
        writer.writerows([["" if v is None else v for v in row] for row in rows])
    return path


def write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def draw(path: Path, colour: str = "blue", size: tuple[int, int] = (20, 20)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)
    return path
