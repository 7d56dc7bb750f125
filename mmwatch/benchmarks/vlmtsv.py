"""VLMEvalKit-style TSV files: one row per question, its image as base64 in an `image` column.

MMBench, MME and POPE are distributed this way (VLMEvalKit, OpenCompass). Three habits of the
format matter here:

- a row whose image repeats another row's holds that row's `index` instead of the base64
  (a value of 64 characters or fewer, VLMEvalKit's own rule), forward or backward in the file;
- a base64 image is far longer than the csv module's default field limit (128 KiB);
- pandas writes a missing value as an empty cell (some files spell it `nan`).

Images are bounded before anything is decoded: the decoded bytes, then the header's pixel count,
against CEILING (the largest any config allows; the run's own limits are applied later by
`inputs.ImageScreen`, as for every benchmark). Each distinct image is decoded once and shared by
the rows that show it. A row whose image is not base64, not an image, too large, or a reference
to no image is that row's problem; the other rows load.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from PIL import Image

from mmwatch.benchmarks.rows import Collector, RowError, delimited_rows
from mmwatch.images import PNG_SIGNATURE
from mmwatch.types import CEILING, ImageData, InputRefusedError

REFERENCE_MAX = 64  # an `image` value this short is another row's index, not base64
FIELD_LIMIT = (1 << 31) - 1  # a base64 image is one field; CEILING bounds the image itself
_MISSING = {"", "nan"}


def cell(row: Mapping[str, str], column: str) -> str | None:
    """A cell's text, stripped; None when the column is absent or the value is missing."""
    value = (row.get(column) or "").strip()
    return None if value.lower() in _MISSING else value


def need(row: Mapping[str, str], column: str) -> str:
    value = cell(row, column)
    if value is None:
        raise RowError(f"{column}: missing required value")
    return value


class TsvImages:
    """The rows of one TSV file and their images, decoded on first use and shared by reference."""

    def __init__(self, file: Path, required_columns: Sequence[str], out: Collector) -> None:
        columns = ["index", "image", *(c for c in required_columns if c not in ("index", "image"))]
        self.rows = list(tsv_rows(file, columns, out))
        self._payloads = {index: row["image"].strip() for _, row in self.rows
                          if (index := cell(row, "index")) is not None and len(row["image"].strip()) > REFERENCE_MAX}
        self._decoded: dict[str, ImageData | RowError] = {}

    def image(self, row: Mapping[str, str]) -> ImageData:
        """The row's image: its own base64, or the image of the row whose index it names."""
        value = need(row, "image")
        key = need(row, "index") if len(value) > REFERENCE_MAX else value
        if key not in self._decoded:
            payload = self._payloads.get(key)
            if payload is None:
                raise RowError(f"image: refers to index {value!r}, which holds no image")
            try:
                self._decoded[key] = decode_image(payload)
            except RowError as exc:
                self._decoded[key] = exc
        found = self._decoded[key]
        if isinstance(found, RowError):
            raise RowError(str(found) if key == need(row, "index") else f"{found} (the image of index {key})")
        return found


def decode_image(payload: str, column: str = "image") -> ImageData:
    """Base64 to an ImageData, bounded by CEILING before decoding; PNG bytes are kept as they are."""
    if payload.startswith("["):
        raise RowError(f"{column}: a row with several images is not supported")
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise RowError(f"{column}: not valid base64: {exc}") from None
    name = f"{column}: the image"
    try:
        CEILING.check_bytes(len(data), name)
        CEILING.check_header(data, name)
        with Image.open(io.BytesIO(data)) as img:
            if data.startswith(PNG_SIGNATURE):
                img.verify()
                return ImageData(png=data)
            img.load()
            return ImageData.from_pil(img.convert("RGB"))
    except InputRefusedError as exc:
        raise RowError(str(exc)) from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise RowError(f"{column}: not a readable image: {exc}") from None


def tsv_rows(file: Path, required_columns: Sequence[str], out: Collector) -> Iterator[tuple[str, dict[str, str]]]:
    """(first line of the row, row) for each data row, read as a stream.

    A missing column fails the whole file (it is the wrong file); a row with the wrong number of
    fields or bytes that are not UTF-8 is reported to `out` and skipped.
    """
    csv.field_size_limit(max(csv.field_size_limit(), FIELD_LIMIT))
    with file.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as fh:
        yield from delimited_rows(csv.reader(fh, delimiter="\t"), file, required_columns, out, "TSV")
