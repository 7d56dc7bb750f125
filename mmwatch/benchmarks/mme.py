"""MME (Fu et al. 2023): two yes / no questions per image, one true and one false, in 14
perception and cognition categories, as VLMEvalKit's `MME.tsv`: `index, category, image_path,
question, answer, image`. The second question of an image usually holds the first one's index
in `image` instead of repeating the base64 (vlmtsv resolves it).

Scored per question (acc) and per image (acc+: both questions right), so the two questions of an
image share the group `{category}/{image_path}`, as MME's own scoring groups them. The questions
already end with "Please answer yes or no."; one that does not is given it.
"""

from __future__ import annotations

from functools import partial

from mmwatch.benchmarks.answers import Instruction, ask, yes_no
from mmwatch.benchmarks.rows import Collector, LoadedBenchmark
from mmwatch.benchmarks.sources import fetch
from mmwatch.benchmarks.vlmtsv import TsvImages, need
from mmwatch.plugins import benchmark
from mmwatch.scoring.benchmark import UtilityScore
from mmwatch.types import Sample, SampleKind

NAME = "mme"
COLUMNS = ("index", "category", "image_path", "question", "answer", "image")


@benchmark(NAME, version=1, utility_score=UtilityScore.MME)
def mme(path: str, sha256: str | None = None) -> LoadedBenchmark:
    """MME yes / no questions, grouped two by two per image for acc+."""
    file = fetch(path, sha256)
    out = Collector(file, NAME)
    table = TsvImages(file, COLUMNS, out)
    for where, row in table.rows:
        out.add(where, partial(_sample, row, table))
    return out.result()


def _sample(row: dict[str, str], table: TsvImages) -> Sample:
    category = need(row, "category")
    reference, key = yes_no(need(row, "answer"), "answer", group=f"{category}/{need(row, 'image_path')}")
    return Sample(
        benchmark=NAME, source_id=need(row, "index"), category=category, kind=SampleKind.UTILITY,
        text=ask(need(row, "question"), Instruction.YES_NO), image=table.image(row), reference=reference,
        answer_key=key,
    )
