"""VQAv2 (Goyal et al. 2017): open questions on COCO images, as the published pair of files:
questions (`v2_OpenEnded_mscoco_val2014_questions.json`: {"data_subtype", "questions":
[{question_id, image_id, question}]}) and annotations (`v2_mscoco_val2014_annotations.json`:
{"annotations": [{question_id, answers: [{answer, answer_confidence, answer_id}] (ten),
multiple_choice_answer, answer_type, ...}]}). Images: `COCO_{data_subtype}_{image_id:012d}.jpg`
in the `images` folder (`val2014/`).

Scored by VQA accuracy over the ten answers (AnswerFormat.VQA; the reference is the most
common). Category: the annotation's `answer_type` (yes/no, number, other), VQAv2's own
breakdown. A question without an annotation is a problem; the rows are the questions.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from mmwatch.benchmarks.answers import Instruction, ask, image_in, json_object, vqa_key
from mmwatch.benchmarks.rows import Collector, LoadedBenchmark, RowError, optional, required, source_id
from mmwatch.benchmarks.sources import fetch, local_folder
from mmwatch.plugins import benchmark
from mmwatch.scoring.benchmark import UtilityScore
from mmwatch.types import Sample, SampleKind

NAME = "vqav2"
DEFAULT_SUBTYPE = "val2014"


@benchmark(NAME, version=1, utility_score=UtilityScore.MEAN_SCORE)
def vqav2(
    path: str, annotations: str, images: str, sha256: str | None = None, annotations_sha256: str | None = None
) -> LoadedBenchmark:
    """VQAv2 questions (`path`) with their ten answers (`annotations`); `images` holds the COCO files."""
    file = fetch(path, sha256)
    answers_file = fetch(annotations, annotations_sha256)
    folder = local_folder(images, "VQAv2 images")
    data, questions = json_object(file, "questions")
    subtype = str(data.get("data_subtype") or DEFAULT_SUBTYPE)
    out = Collector(file, NAME, image_root=folder)
    by_question: dict[str, Any] = {}
    for where, record in json_object(answers_file, "annotations")[1]:
        try:
            by_question[source_id(record if isinstance(record, dict) else {}, "question_id")] = record
        except RowError as exc:
            out.problem(where, str(exc), answers_file)
    for where, record in questions:
        out.add(where, partial(_sample, record, by_question, folder, subtype, answers_file))
    return out.result()


def _sample(record: Any, by_question: dict[str, Any], images: Path, subtype: str, answers_file: Path) -> Sample:
    if not isinstance(record, dict):
        raise RowError(f"(record): expected a JSON object, got {type(record).__name__}")
    qid = source_id(record, "question_id")
    annotation = by_question.get(qid)
    if annotation is None:
        raise RowError(f"question_id: no annotation for {qid} in {answers_file}")
    given = annotation.get("answers")
    if not isinstance(given, list) or not all(isinstance(a, dict) for a in given):
        raise RowError(f"answers: expected a list of {{answer, ...}} objects in {answers_file}, got {given!r}")
    reference, key = vqa_key([a.get("answer") for a in given], "answers")
    image_id = record.get("image_id")
    if isinstance(image_id, bool) or not isinstance(image_id, int) or image_id < 0:
        raise RowError(f"image_id: must be a non-negative integer, got {image_id!r}")
    return Sample(
        benchmark=NAME, source_id=qid, category=optional(annotation, "answer_type") or "other",
        kind=SampleKind.UTILITY, text=ask(required(record, "question"), Instruction.SHORT),
        image_path=image_in(images, f"COCO_{subtype}_{image_id:012d}.jpg", "image_id"),
        reference=reference, answer_key=key,
    )
