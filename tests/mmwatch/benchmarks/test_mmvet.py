"""mm-vet: open questions with gold answers for a judge model, capability integrations as categories."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from utility_files import draw, write_json

from mmwatch import plugins
from mmwatch.benchmarks.rows import LoadedBenchmark
from mmwatch.types import AnswerFormat

RECORDS = {
    "v1_0": {"imagename": "v1_0.png", "capability": ["ocr", "math"], "question": "What is x in the equation?",
             "answer": "-1 <AND> -5"},
    "v1_1": {"imagename": "v1_1.jpg", "capability": ["rec"], "question": "What is the animal?", "answer": "cat"},
}


def _load(tmp_path: Path, records: dict[str, Any]) -> LoadedBenchmark:
    path = write_json(tmp_path / "mm-vet.json", records)
    for name in ("v1_0.png", "v1_1.jpg"):
        draw(tmp_path / "images" / name)
    loaded = plugins.benchmarks.build("mm-vet", {"path": str(path), "images": str(tmp_path / "images")}).obj
    assert isinstance(loaded, LoadedBenchmark)
    return loaded


def test_questions_load_as_open_items_with_the_gold_answer(tmp_path: Path) -> None:
    loaded = _load(tmp_path, RECORDS)
    samples = {s.source_id: s for s in loaded}
    assert loaded.problems == [] and list(samples) == ["v1_0", "v1_1"]
    assert samples["v1_0"].reference == "-1 <AND> -5" and samples["v1_0"].text == "What is x in the equation?"
    assert samples["v1_0"].answer_key is not None and samples["v1_0"].answer_key.format is AnswerFormat.OPEN
    assert samples["v1_0"].category == "math_ocr" and samples["v1_1"].category == "rec"
    assert samples["v1_1"].image_path == tmp_path / "images" / "v1_1.jpg" and samples["v1_1"].load_image()


@pytest.mark.parametrize("bad, message", [
    ({"imagename": "v1_0.png", "capability": [], "question": "Q?", "answer": "a"}, "capability: expected"),
    ({"imagename": "v1_0.png", "capability": ["rec"], "question": "Q?"}, "answer: missing required field"),
    ({"imagename": "/etc/passwd", "capability": ["rec"], "question": "Q?", "answer": "a"}, "imagename: must be"),
], ids=["no-capability", "no-answer", "image-outside"])
def test_a_bad_record_is_one_named_problem_and_the_rest_loads(tmp_path: Path, bad: Any, message: str) -> None:
    loaded = _load(tmp_path, {**RECORDS, "v1_9": bad})
    assert len(loaded) == 2
    (problem,) = loaded.problems
    assert problem.startswith(f"{tmp_path / 'mm-vet.json'}:id v1_9: ") and message in problem
