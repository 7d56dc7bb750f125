"""MM-Vet (Yu et al. 2023): open-ended questions that integrate several capabilities (recognition,
OCR, knowledge, language generation, spatial awareness, math), as the published `mm-vet.json`
(id -> {imagename, question, answer, capability: [...]}) and its `images` folder.

Answers are free text graded by a judge model against the gold answer (AnswerFormat.OPEN), so
the prompt is the question alone, as MM-Vet sends it. Category: the capabilities the question
integrates, sorted and joined with `_` (`ocr_math`), MM-Vet's own integration breakdown.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from mmwatch.benchmarks.answers import image_in
from mmwatch.benchmarks.rows import Collector, LoadedBenchmark, RowError, json_records, required
from mmwatch.benchmarks.sources import fetch, local_folder
from mmwatch.plugins import benchmark
from mmwatch.scoring.benchmark import UtilityScore
from mmwatch.types import AnswerFormat, AnswerKey, Sample, SampleKind

NAME = "mm-vet"


@benchmark(NAME, version=1, utility_score=UtilityScore.MEAN_SCORE)
def mmvet(path: str, images: str, sha256: str | None = None) -> LoadedBenchmark:
    """MM-Vet questions with their gold answers, graded by a model; `images` holds `imagename`."""
    file = fetch(path, sha256)
    folder = local_folder(images, "MM-Vet images")
    records = json_records(file)
    if records and not records[0][0].startswith("id "):
        raise ValueError(f"{file}: expected mm-vet.json's object of id -> question, got a list")
    out = Collector(file, NAME, image_root=folder)
    for where, record in records:
        out.add(where, partial(_sample, where.removeprefix("id "), record, folder))
    return out.result()


def _sample(qid: str, record: Any, images: Path) -> Sample:
    if not isinstance(record, dict):
        raise RowError(f"(record): expected a JSON object, got {type(record).__name__}")
    capability = record.get("capability")
    if not isinstance(capability, list) or not capability or not all(isinstance(c, str) and c for c in capability):
        raise RowError(f"capability: expected a non-empty list of capability names, got {capability!r}")
    return Sample(
        benchmark=NAME, source_id=qid, category="_".join(sorted(set(capability))), kind=SampleKind.UTILITY,
        text=required(record, "question").strip(), image_path=image_in(images, required(record, "imagename"),
                                                                        "imagename"),
        reference=required(record, "answer").strip(), answer_key=AnswerKey(format=AnswerFormat.OPEN),
    )
