"""mme: two yes / no questions per image, grouped for acc+, the second naming the first's image."""

from __future__ import annotations

from pathlib import Path

from utility_files import b64, write_tsv

from mmwatch import plugins
from mmwatch.benchmarks.rows import LoadedBenchmark
from mmwatch.types import AnswerFormat

HEADER = ["index", "category", "image_path", "question", "answer", "image"]
ROWS = [
    ["0", "color", "000000.jpg", "Is the square red? Please answer yes or no.", "Yes", b64("red")],
    ["1", "color", "000000.jpg", "Is the square blue? Please answer yes or no.", "No", "0"],
    ["2", "count", "000001.jpg", "Are there two squares?", "No", b64("green")],
    ["3", "count", "000001.jpg", "Is there one square?", "Yes", "2"],
]


def _load(tmp_path: Path, rows: list[list[str]]) -> LoadedBenchmark:
    path = write_tsv(tmp_path / "MME.tsv", HEADER, rows)
    loaded = plugins.benchmarks.build("mme", {"path": str(path)}).obj
    assert isinstance(loaded, LoadedBenchmark)
    return loaded


def test_questions_of_one_image_share_a_group_and_its_pixels(tmp_path: Path) -> None:
    loaded = _load(tmp_path, ROWS)
    samples = {s.source_id: s for s in loaded}
    assert loaded.problems == [] and list(samples) == ["0", "1", "2", "3"]
    assert [samples[i].reference for i in "0123"] == ["yes", "no", "no", "yes"]
    keys = [samples[i].answer_key for i in "0123"]
    assert all(k is not None and k.format is AnswerFormat.YES_NO for k in keys)
    assert [k.group for k in keys if k] == ["color/000000.jpg", "color/000000.jpg", "count/000001.jpg",
                                            "count/000001.jpg"]
    assert samples["1"].image == samples["0"].image and samples["3"].image == samples["2"].image
    assert samples["0"].image != samples["2"].image
    assert samples["0"].category == "color"


def test_the_prompt_asks_for_yes_or_no_once(tmp_path: Path) -> None:
    samples = {s.source_id: s for s in _load(tmp_path, ROWS)}
    assert samples["0"].text == "Is the square red? Please answer yes or no."
    assert samples["2"].text == "Are there two squares?\nPlease answer yes or no."


def test_bad_rows_are_named_problems_and_the_rest_loads(tmp_path: Path) -> None:
    bad = [["4", "color", "000002.jpg", "Is it red?", "maybe", b64()],
           ["5", "color", "000002.jpg", "Is it blue?", "No", "AAAA" * 20 + "!"],
           ["6", "color", "000003.jpg", "Is it green?", "No", "99"]]
    loaded = _load(tmp_path, [*ROWS, *bad])
    assert len(loaded) == 4
    file = tmp_path / "MME.tsv"
    assert loaded.problems == [f"{file}:6: answer: 'maybe' is not yes or no",
                               f"{file}:7: image: not valid base64: Only base64 data is allowed",
                               f"{file}:8: image: refers to index '99', which holds no image"]
