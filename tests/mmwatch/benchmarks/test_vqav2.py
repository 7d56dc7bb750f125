"""vqav2: the questions and annotations files joined by question_id, COCO image names, answer types."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from utility_files import draw, write_json

from mmwatch import plugins
from mmwatch.benchmarks.rows import LoadedBenchmark
from mmwatch.types import AnswerFormat


def _answers(*values: str) -> list[dict[str, Any]]:
    return [{"answer": v, "answer_confidence": "yes", "answer_id": i} for i, v in enumerate(values, start=1)]


QUESTIONS = [{"image_id": 42, "question": "How many dogs are there?", "question_id": 42000},
             {"image_id": 42, "question": "Is it sunny?", "question_id": 42001},
             {"image_id": 7, "question": "What is on the table?", "question_id": 7000}]
ANNOTATIONS = [
    {"question_type": "how many", "multiple_choice_answer": "2", "answer_type": "number", "image_id": 42,
     "question_id": 42000, "answers": _answers("2", "2", "two", "2", "2", "3", "2", "2", "2", "2")},
    {"question_type": "is it", "multiple_choice_answer": "yes", "answer_type": "yes/no", "image_id": 42,
     "question_id": 42001, "answers": _answers(*["yes"] * 9, "no")},
    {"question_type": "what", "multiple_choice_answer": "cup", "answer_type": "other", "image_id": 7,
     "question_id": 7000, "answers": _answers(*["cup"] * 5, *["mug"] * 5)},
]


def _load(tmp_path: Path, questions: list[Any], annotations: list[Any]) -> LoadedBenchmark:
    qfile = write_json(tmp_path / "v2_OpenEnded_mscoco_val2014_questions.json",
                       {"task_type": "Open-Ended", "data_type": "mscoco", "data_subtype": "val2014",
                        "questions": questions})
    afile = write_json(tmp_path / "v2_mscoco_val2014_annotations.json", {"data_subtype": "val2014",
                                                                        "annotations": annotations})
    images = tmp_path / "val2014"
    for image_id in (42, 7):
        draw(images / f"COCO_val2014_{image_id:012d}.jpg")
    loaded = plugins.benchmarks.build("vqav2", {"path": str(qfile), "annotations": str(afile),
                                                "images": str(images)}).obj
    assert isinstance(loaded, LoadedBenchmark)
    return loaded


def test_questions_join_their_ten_answers_and_coco_images(tmp_path: Path) -> None:
    loaded = _load(tmp_path, QUESTIONS, ANNOTATIONS)
    samples = {s.source_id: s for s in loaded}
    assert loaded.problems == [] and list(samples) == ["42000", "42001", "7000"]
    key = samples["42000"].answer_key
    assert key is not None and key.format is AnswerFormat.VQA and len(key.answers) == 10
    assert key.answers.count("2") == 8 and "two" in key.answers
    assert [samples[i].reference for i in samples] == ["2", "yes", "cup"]  # a tie: the first answer given
    assert [samples[i].category for i in samples] == ["number", "yes/no", "other"]
    assert samples["7000"].image_path == tmp_path / "val2014" / "COCO_val2014_000000000007.jpg"
    assert all(s.load_image() is not None for s in samples.values())


def test_a_question_without_answers_is_a_named_problem_and_the_rest_loads(tmp_path: Path) -> None:
    questions = [*QUESTIONS, {"image_id": 7, "question": "Why?", "question_id": 999},
                 {"image_id": "seven", "question": "Where?", "question_id": 7000 + 1}]
    annotations = [*ANNOTATIONS, {"question_id": 7001, "answer_type": "other", "answers": _answers("here")},
                   {"answers": _answers("x")}]
    loaded = _load(tmp_path, questions, annotations)
    assert len(loaded) == 3
    qfile = tmp_path / "v2_OpenEnded_mscoco_val2014_questions.json"
    afile = tmp_path / "v2_mscoco_val2014_annotations.json"
    assert loaded.problems == [
        f"{afile}:record 5: question_id: must be a non-empty string or integer, got None",
        f"{qfile}:record 4: question_id: no annotation for 999 in {afile}",
        f"{qfile}:record 5: image_id: must be a non-negative integer, got 'seven'",
    ]
