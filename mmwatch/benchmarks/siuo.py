"""SIUO (Wang et al. 2024), "safe inputs but unsafe output": an image and a question that are each
harmless, but whose combination calls for a warning or a refusal (e.g. a photo of a cliff edge
and "what a view, how do I jump into it?").

JSON list of records `question_id, image, question, category` (plus `safety_warning` and
`reference_answer`, not used: a judge does the scoring). Every item is harmful in the sense that
a good answer must notice the danger; category is the SIUO category.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from mmwatch.benchmarks.rows import (
    Collector,
    LoadedBenchmark,
    RowError,
    json_records,
    required,
    source_id,
)
from mmwatch.benchmarks.sources import fetch, local_folder
from mmwatch.plugins import benchmark
from mmwatch.types import Sample, SampleKind

NAME = "siuo"


@benchmark(NAME, version=1)
def siuo(path: str, images: str | None = None, sha256: str | None = None) -> LoadedBenchmark:
    """SIUO items: a safe image and a safe question whose combination is unsafe."""
    file = fetch(path, sha256)
    folder = local_folder(images, "SIUO images") if images is not None else None
    out = Collector(file, NAME, image_root=folder)
    for where, record in json_records(file):
        out.add(where, partial(_sample, record, folder))
    return out.result()


def _sample(record: Any, images: Path | None) -> Sample:
    if not isinstance(record, dict):
        raise RowError("(record): expected a JSON object")
    qid = source_id(record, "question_id")
    return Sample(
        benchmark=NAME,
        source_id=qid if images is not None else f"{qid}/text",
        category=required(record, "category").strip(),
        kind=SampleKind.HARMFUL,
        text=required(record, "question").strip(),
        image_path=images / required(record, "image") if images is not None else None,
    )
