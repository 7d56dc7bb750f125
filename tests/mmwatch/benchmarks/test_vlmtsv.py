"""vlmtsv: VLMEvalKit-style TSVs with base64 images: references to another row's image, big
fields, quoted cells, and bad images that cost their row only."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from utility_files import b64, huge_png_header, image_bytes, write_tsv

from mmwatch.benchmarks.rows import Collector, RowError
from mmwatch.benchmarks.vlmtsv import TsvImages, cell, decode_image

HEADER = ["index", "question", "image"]


def _table(tmp_path: Path, rows: list[list[str]]) -> tuple[TsvImages, Collector]:
    file = write_tsv(tmp_path / "bench.tsv", HEADER, rows)
    out = Collector(file, "t")
    return TsvImages(file, ["question"], out), out


def test_an_index_in_the_image_column_is_that_rows_image_forward_or_back(tmp_path: Path) -> None:
    table, out = _table(tmp_path, [["0", "q0", "1"], ["1", "q1", b64("green")], ["2", "q2", "1"]])
    images = [table.image(row) for _, row in table.rows]
    assert images[0] is images[1] is images[2]  # decoded once, shared
    assert images[0].png == image_bytes("green")  # PNG bytes are kept as they are
    assert out.problems == []


def test_a_jpeg_is_held_as_png(tmp_path: Path) -> None:
    table, _ = _table(tmp_path, [["0", "q", b64("red", fmt="JPEG")]])
    image = table.image(table.rows[0][1])
    assert image.png.startswith(b"\x89PNG") and image.to_pil().size == (24, 16)


@pytest.mark.parametrize("payload, message", [
    ("not base64 at all!" * 5, "not valid base64"),
    (base64.b64encode(b"plain text, no image " * 5).decode(), "not a readable image"),
    (base64.b64encode(huge_png_header()).decode(), "pixels, over the limit"),
    ("['aGVsbG8=', 'aGVsbG8=']" + "A" * 64, "several images"),
    ("7", "refers to index '7', which holds no image"),
], ids=["bad-base64", "not-an-image", "too-many-pixels", "several-images", "dangling-index"])
def test_a_bad_image_is_a_row_error_naming_the_column(tmp_path: Path, payload: str, message: str) -> None:
    table, _ = _table(tmp_path, [["0", "q", payload]])
    with pytest.raises(RowError, match=message) as caught:
        table.image(table.rows[0][1])
    assert str(caught.value).startswith("image:")


def test_a_row_that_points_at_a_bad_image_says_whose_image_it_was(tmp_path: Path) -> None:
    table, _ = _table(tmp_path, [["0", "q0", "!" * 80], ["1", "q1", "0"]])
    with pytest.raises(RowError, match=r"not valid base64.*\(the image of index 0\)"):
        table.image(table.rows[1][1])


def test_fields_larger_than_the_csv_default_and_quoted_cells_are_read(tmp_path: Path) -> None:
    noise = b64(size=(8, 8))
    big = base64.b64encode(os.urandom(200_000)).decode()  # over the csv module's 128 KiB default
    table, out = _table(tmp_path, [["0", "line one\nline\ttwo \"quoted\"", noise], ["1", big, noise]])
    assert out.problems == [] and len(table.rows) == 2
    assert table.rows[0][1]["question"] == "line one\nline\ttwo \"quoted\"" and table.rows[0][0] == "2"
    assert table.rows[1][0] == "4" and len(table.rows[1][1]["question"]) == len(big)


def test_a_row_with_the_wrong_field_count_is_a_problem_and_a_missing_column_fails_the_file(tmp_path: Path) -> None:
    file = tmp_path / "bench.tsv"
    file.write_text("index\tquestion\timage\n0\tq\n1\tq\t" + b64() + "\n", encoding="utf-8")
    out = Collector(file, "t")
    table = TsvImages(file, ["question"], out)
    assert len(table.rows) == 1 and out.problems == [f"{file}:2: (row): expected 3 fields, got 2"]
    with pytest.raises(ValueError, match="missing column.*answer"):
        TsvImages(file, ["answer"], out)


def test_nan_and_blank_cells_are_missing() -> None:
    assert cell({"hint": "nan"}, "hint") is None and cell({"hint": " "}, "hint") is None
    assert cell({}, "hint") is None and cell({"hint": " Look left "}, "hint") == "Look left"


def test_decode_image_refuses_before_decoding() -> None:
    with pytest.raises(RowError, match="over the limit"):
        decode_image(base64.b64encode(huge_png_header()).decode())
