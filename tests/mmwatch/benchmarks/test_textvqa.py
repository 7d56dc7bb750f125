"""textvqa: the published val JSON, ten human answers as a VQA answer key, images by image_id."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from utility_files import draw, write_json

from mmwatch import plugins
from mmwatch.benchmarks.rows import LoadedBenchmark
from mmwatch.types import AnswerFormat

ANSWERS = ["stop", "stop", "stop sign", "stop", "STOP", "stop", "halt", "stop", "stop ", "stop"]


def _record(qid: int, image_id: str, question: str = "What does the sign say?",
            answers: Any = tuple(ANSWERS)) -> dict[str, Any]:
    return {"question": question, "image_id": image_id, "image_classes": ["Street sign"], "answers": list(answers)
            if isinstance(answers, tuple) else answers, "question_tokens": question.split(), "question_id": qid,
            "set_name": "val", "image_width": 20, "image_height": 20}


def _load(tmp_path: Path, records: list[Any]) -> LoadedBenchmark:
    path = write_json(tmp_path / "TextVQA_0.5.1_val.json", {"dataset_type": "val", "dataset_name": "textvqa",
                                                            "dataset_version": "0.5.1", "data": records})
    images = tmp_path / "train_images"
    for image_id in ("0054c91397f2fe05", "003a8ae2ef43b901"):
        draw(images / f"{image_id}.jpg")
    loaded = plugins.benchmarks.build("textvqa", {"path": str(path), "images": str(images)}).obj
    assert isinstance(loaded, LoadedBenchmark)
    return loaded


def test_questions_load_with_all_ten_answers_and_the_most_common_as_reference(tmp_path: Path) -> None:
    loaded = _load(tmp_path, [_record(34602, "0054c91397f2fe05"),
                              _record(34603, "003a8ae2ef43b901", "Which brand?", ["nokia"] * 4 + ["nokia phone"] * 6)])
    first, second = list(loaded)
    assert loaded.problems == [] and (first.source_id, second.source_id) == ("34602", "34603")
    assert first.answer_key is not None and first.answer_key.format is AnswerFormat.VQA
    assert first.answer_key.answers == tuple(a.strip() for a in ANSWERS) and len(first.answer_key.answers) == 10
    assert first.reference == "stop" and second.reference == "nokia phone"
    assert first.image_path == tmp_path / "train_images" / "0054c91397f2fe05.jpg"
    assert first.load_image() is not None
    assert first.text == "What does the sign say?\nAnswer the question using a single word or phrase."


@pytest.mark.parametrize("bad, message", [
    (_record(1, "0054c91397f2fe05", answers=[]), "answers: expected a non-empty list"),
    ({"question": "Q?", "image_id": "0054c91397f2fe05", "answers": ANSWERS}, "question_id:"),
    (_record(2, "../../etc/passwd"), "image_id: must be a path inside the images folder"),
    (_record(3, "0054c91397f2fe05", question=""), "question:"),
], ids=["no-answers", "no-question-id", "image-outside", "empty-question"])
def test_a_bad_record_is_one_named_problem_and_the_rest_loads(tmp_path: Path, bad: Any, message: str) -> None:
    loaded = _load(tmp_path, [_record(34602, "0054c91397f2fe05"), bad])
    assert len(loaded) == 1
    (problem,) = loaded.problems
    assert problem.startswith(f"{tmp_path / 'TextVQA_0.5.1_val.json'}:record 2: ") and message in problem


def test_a_file_without_data_fails_naming_it(tmp_path: Path) -> None:
    path = write_json(tmp_path / "other.json", [_record(1, "x")])
    with pytest.raises(ValueError, match="other.json: expected a JSON object with a list under 'data'"):
        plugins.benchmarks.build("textvqa", {"path": str(path), "images": str(tmp_path)})
