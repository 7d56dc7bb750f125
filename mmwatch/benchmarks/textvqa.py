"""TextVQA (Singh et al. 2019): questions that need the text in the image read, as the published
`TextVQA_0.5.1_val.json`: {"data": [{question_id, question, image_id, answers (ten human
answers), ...}]}, with the images in a folder as `{image_id}.jpg` (the val questions use the
`train_images` folder).

Scored by VQA accuracy over the ten answers (AnswerFormat.VQA: every answer kept, repeats
included; the reference is the most common). The prompt is the question with the standard
short-answer instruction. Images are read when sent, so a missing one fails its sample only.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from mmwatch.benchmarks.answers import Instruction, ask, image_in, json_object, vqa_key
from mmwatch.benchmarks.rows import Collector, LoadedBenchmark, RowError, required, source_id
from mmwatch.benchmarks.sources import fetch, local_folder
from mmwatch.plugins import benchmark
from mmwatch.scoring.benchmark import UtilityScore
from mmwatch.types import Sample, SampleKind

NAME = "textvqa"


@benchmark(NAME, version=1, utility_score=UtilityScore.MEAN_SCORE)
def textvqa(path: str, images: str, sha256: str | None = None) -> LoadedBenchmark:
    """TextVQA questions with their ten human answers; `images` holds `{image_id}.jpg`."""
    file = fetch(path, sha256)
    folder = local_folder(images, "TextVQA images")
    out = Collector(file, NAME, image_root=folder)
    for where, record in json_object(file, "data")[1]:
        out.add(where, partial(_sample, record, folder))
    return out.result()


def _sample(record: Any, images: Path) -> Sample:
    if not isinstance(record, dict):
        raise RowError(f"(record): expected a JSON object, got {type(record).__name__}")
    reference, key = vqa_key(record.get("answers"), "answers")
    image_id = source_id(record, "image_id")
    return Sample(
        benchmark=NAME, source_id=source_id(record, "question_id"), category=NAME, kind=SampleKind.UTILITY,
        text=ask(required(record, "question"), Instruction.SHORT), image_path=image_in(images, f"{image_id}.jpg",
                                                                                         "image_id"),
        reference=reference, answer_key=key,
    )
