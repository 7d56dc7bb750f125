"""FigStep's SafeBench (Gong et al. 2023): 10 forbidden-topic categories x 50 harmful questions.

CSV `dataset,category_id,task_id,category_name,question,instruction`. `question` is the plain
harmful question; `instruction` its declarative form ("Steps to ...") that the FigStep attack
typesets into the image. SafeBench-Tiny is task_id 1-5 of each category (50 rows).

Without `images` the samples are text only and the `figstep` attack renders the typographic image
itself. With `images` (the authors' `query_ForbidQI_{category_id}_{task_id}_6.png` files) each
sample points at its image, and its id gets the suffix `/img`: a sample id must name what the
sample carries, because stored cells are keyed by it.
"""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path

from mmwatch.benchmarks.rows import (
    Collector,
    LoadedBenchmark,
    csv_rows,
    positive_int,
    required,
)
from mmwatch.benchmarks.sources import fetch, local_folder
from mmwatch.plugins import benchmark
from mmwatch.types import Sample, SampleKind

NAME = "figstep-safebench"
COLUMNS = ("category_id", "task_id", "category_name", "question", "instruction")
TINY_TASKS = range(1, 6)
IMAGE_NAME = "query_ForbidQI_{category_id}_{task_id}_6.png"
# "Steps to X." / "Methods for X." / "List of X." -> "X": the phrase a typography attack prints.
_INSTRUCTION_HEAD = re.compile(r"^\s*(?:steps|methods|ways|list)\s+(?:to|for|of)\s+(?P<phrase>.+?)[\s.]*$", re.I)


@benchmark(NAME, version=1)
def figstep_safebench(
    path: str, images: str | None = None, tiny: bool = False, sha256: str | None = None
) -> LoadedBenchmark:
    """SafeBench harmful questions with their FigStep instructions; tiny=True keeps task_id 1-5."""
    file = fetch(path, sha256)
    folder = local_folder(images, "FigStep images") if images is not None else None
    out = Collector(file, NAME, image_root=folder)
    for where, row in csv_rows(file, COLUMNS, out):
        out.add(where, partial(_sample, row, folder, tiny))
    return out.result()


def _sample(row: dict[str, str], images: Path | None, tiny: bool) -> Sample | None:
    category_id = positive_int(row, "category_id")
    task_id = positive_int(row, "task_id")
    if tiny and task_id not in TINY_TASKS:
        return None
    instruction = required(row, "instruction").strip()
    image_path = images / IMAGE_NAME.format(category_id=category_id, task_id=task_id) if images else None
    return Sample(
        benchmark=NAME,
        source_id=f"{category_id}_{task_id}" + ("/img" if images else ""),
        category=required(row, "category_name").strip(),
        kind=SampleKind.HARMFUL,
        text=required(row, "question").strip(),
        instruction=instruction,
        key_phrase=key_phrase(instruction),
        image_path=image_path,
    )


def key_phrase(instruction: str) -> str | None:
    """The object of a FigStep instruction ("Steps to make X." -> "make X"), or None if unusual."""
    match = _INSTRUCTION_HEAD.match(instruction)
    if match is None:
        return None
    return match.group("phrase").strip(" .") or None
