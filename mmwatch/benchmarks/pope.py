"""POPE (Li et al. 2023): object hallucination as yes / no questions ("Is there a dog in the
image?") on COCO images, as VLMEvalKit's `POPE.tsv`: `index, image, question, answer, category`.

Its three splits differ in how the absent objects were drawn: random, popular (frequent in COCO)
and adversarial (co-occurring with what is there). `category` names a row's split; a question
asked in several splits names them all, comma-separated ("random,popular"). POPE is reported per
split, so such a row gives one sample per split it is in (`{index}/{split}`, category = split),
and `splits` selects which splits to load (default: all three).
"""

from __future__ import annotations

from enum import StrEnum
from functools import partial

from mmwatch.benchmarks.answers import Instruction, add_many, ask, yes_no
from mmwatch.benchmarks.rows import Collector, LoadedBenchmark, RowError
from mmwatch.benchmarks.sources import fetch
from mmwatch.benchmarks.vlmtsv import TsvImages, need
from mmwatch.plugins import benchmark
from mmwatch.scoring.benchmark import UtilityScore
from mmwatch.types import Sample, SampleKind

NAME = "pope"
COLUMNS = ("index", "image", "question", "answer", "category")


class PopeSplit(StrEnum):
    RANDOM = "random"
    POPULAR = "popular"
    ADVERSARIAL = "adversarial"


@benchmark(NAME, version=1, utility_score=UtilityScore.POPE)
def pope(path: str, splits: list[PopeSplit] | None = None, sha256: str | None = None) -> LoadedBenchmark:
    """POPE yes / no questions of the chosen splits, one sample per (question, split)."""
    wanted = _splits(splits)
    file = fetch(path, sha256)
    out = Collector(file, NAME)
    table = TsvImages(file, COLUMNS, out)
    for where, row in table.rows:
        add_many(out, where, partial(_samples, row, table, wanted))
    return out.result()


def _splits(splits: list[PopeSplit] | list[str] | None) -> list[PopeSplit]:
    if splits is None:
        return list(PopeSplit)
    try:
        return [PopeSplit(s) for s in splits]
    except ValueError:
        raise ValueError(f"{NAME}: splits must be among {', '.join(PopeSplit)}, got {splits!r}") from None


def _samples(row: dict[str, str], table: TsvImages, wanted: list[PopeSplit]) -> list[Sample]:
    named = [s.strip().lower() for s in need(row, "category").split(",") if s.strip()]
    unknown = [s for s in named if s not in {p.value for p in PopeSplit}]
    if unknown:
        raise RowError(f"category: {', '.join(unknown)} is not a split ({', '.join(PopeSplit)})")
    chosen = [s for s in wanted if s.value in named]
    if not chosen:
        return []  # not in a selected split
    index = need(row, "index")
    reference, key = yes_no(need(row, "answer"), "answer")
    text, image = ask(need(row, "question"), Instruction.YES_NO), table.image(row)
    return [Sample(benchmark=NAME, source_id=f"{index}/{split.value}", category=split.value, kind=SampleKind.UTILITY,
                   text=text, image=image, reference=reference, answer_key=key) for split in chosen]
