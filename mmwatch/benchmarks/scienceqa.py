"""ScienceQA-IMG (Lu et al. 2022): multiple-choice science questions with an image, from the
published `problems.json` (id -> {question, choices, answer (the choice's index), hint, image
("image.png" or null), split, subject, grade, ...}) and the images folder laid out
`{split}/{id}/{image}`.

ScienceQA-IMG is the problems that have an image, of one split (`split`, default test: 2,017
questions). The prompt follows the standard one: `Context: {hint}` when there is a hint, the
question, one `A. choice` line per choice, and the instruction to answer with the letter.
Category: `subject` (natural / social / language science), ScienceQA's own breakdown.
"""

from __future__ import annotations

from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Any

from mmwatch.benchmarks.answers import choice_key, choice_prompt, image_in
from mmwatch.benchmarks.rows import (
    Collector,
    LoadedBenchmark,
    RowError,
    json_records,
    optional,
    required,
)
from mmwatch.benchmarks.sources import fetch, local_folder
from mmwatch.plugins import benchmark
from mmwatch.types import Sample, SampleKind

NAME = "scienceqa"


class ScienceQASplit(StrEnum):
    TRAIN = "train"
    VAL = "val"
    TEST = "test"


@benchmark(NAME, version=1)
def scienceqa(path: str, images: str, split: ScienceQASplit = ScienceQASplit.TEST,
              sha256: str | None = None) -> LoadedBenchmark:
    """ScienceQA problems with an image, of one split; `images` holds `{split}/{id}/image.png`."""
    try:
        wanted = ScienceQASplit(split)
    except ValueError:
        raise ValueError(f"{NAME}: split must be one of {', '.join(ScienceQASplit)}, got {split!r}") from None
    file = fetch(path, sha256)
    folder = local_folder(images, "ScienceQA images")
    out = Collector(file, NAME, image_root=folder)
    records = json_records(file)
    if records and not records[0][0].startswith("id "):
        raise ValueError(f"{file}: expected problems.json's object of id -> problem, got a list")
    for where, record in records:
        out.add(where, partial(_sample, where.removeprefix("id "), record, folder, wanted))
    return out.result()


def _sample(pid: str, record: Any, images: Path, split: ScienceQASplit) -> Sample | None:
    if not isinstance(record, dict):
        raise RowError(f"(record): expected a JSON object, got {type(record).__name__}")
    if record.get("split") != split.value or not record.get("image"):
        return None  # another split, or a problem without an image (not in ScienceQA-IMG)
    choices = record.get("choices")
    if not isinstance(choices, list) or len(choices) < 2 or not all(isinstance(c, str) for c in choices):
        raise RowError(f"choices: expected a list of at least two strings, got {choices!r}")
    answer = record.get("answer")
    if isinstance(answer, bool) or not isinstance(answer, int) or not 0 <= answer < len(choices):
        raise RowError(f"answer: expected the index of one of the {len(choices)} choices, got {answer!r}")
    hint = optional(record, "hint")
    reference, key = choice_key(choices, answer)
    return Sample(
        benchmark=NAME, source_id=pid, category=optional(record, "subject") or "uncategorized",
        kind=SampleKind.UTILITY,
        text=choice_prompt(required(record, "question"), choices, context=f"Context: {hint.strip()}" if hint else None),
        image_path=image_in(images, f"{split.value}/{pid}/{required(record, 'image').strip()}", "image"),
        reference=reference, answer_key=key,
    )
