"""MMBench (Liu et al. 2023): multiple-choice questions on images, as VLMEvalKit's TSV files
(`MMBench_DEV_EN.tsv` ...): `index, question, hint, A, B, C, D, answer, category, l2-category,
split, image` (base64). Some questions have only options A-B or A-C.

CircularEval: a question counts as right only if it is answered right under every rotation of
its options. So each question gives one sample per rotation (`{index}/r{k}`: the options shifted
left by k, the reference letter moved with them), all in the group `{index}`; `circular=False`
keeps rotation 0 alone (the same sample as `r0`, so its stored answers serve both). The
published files already hold the rotations as rows whose index is the question's plus a multiple
of 1,000,000 (VLMEvalKit's `g_index`); those rows are skipped, since the rotations are made here.

The prompt: the hint (if any), the question, one `A. option` line per option, and the standard
instruction to answer with the letter. Category: `category` (the fine-grained ability).
"""

from __future__ import annotations

from functools import partial

from mmwatch.benchmarks.answers import add_many, choice_key, choice_prompt, option_letter, rotations
from mmwatch.benchmarks.rows import Collector, LoadedBenchmark, RowError
from mmwatch.benchmarks.sources import fetch
from mmwatch.benchmarks.vlmtsv import TsvImages, cell, need
from mmwatch.plugins import benchmark
from mmwatch.scoring.benchmark import UtilityScore
from mmwatch.types import Sample, SampleKind

NAME = "mmbench"
COLUMNS = ("index", "question", "A", "B", "answer", "category", "image")
COPY_OFFSET = 1_000_000  # VLMEvalKit's rotated copies: index = question index + k * COPY_OFFSET


@benchmark(NAME, version=1, utility_score=UtilityScore.CIRCULAR)
def mmbench(path: str, circular: bool = True, name: str | None = None, sha256: str | None = None) -> LoadedBenchmark:
    """MMBench questions, one sample per rotation of the options under CircularEval (the default).

    `name` tells apart files whose indices overlap (the EN and CN editions): default `mmbench`."""
    file = fetch(path, sha256)
    out = Collector(file, name or NAME)
    table = TsvImages(file, COLUMNS, out)
    for where, row in table.rows:
        if _is_copy(row):
            continue
        add_many(out, where, partial(_samples, row, table, out.name, circular))
    return out.result()


def _is_copy(row: dict[str, str]) -> bool:
    index = cell(row, "index")
    return index is not None and index.isdigit() and int(index) >= COPY_OFFSET


def _samples(row: dict[str, str], table: TsvImages, bench: str, circular: bool) -> list[Sample]:
    index = need(row, "index")
    options = _options(row)
    answer = option_letter(need(row, "answer"), len(options), "answer")
    question, hint, category = need(row, "question"), cell(row, "hint"), need(row, "category")
    image = table.image(row)
    samples = []
    for k, shown, correct in rotations(options, answer, circular):
        reference, key = choice_key(shown, correct, group=index)
        samples.append(Sample(
            benchmark=bench, source_id=f"{index}/r{k}", category=category, kind=SampleKind.UTILITY,
            text=choice_prompt(question, shown, context=hint), image=image, reference=reference, answer_key=key,
        ))
    return samples


def _options(row: dict[str, str]) -> list[str]:
    """The option texts A, B, ... up to the last one given; a gap (A, B, D) is a bad row."""
    values = [cell(row, letter) for letter in "ABCDEFGHI"]
    while values and values[-1] is None:
        values.pop()
    if len(values) < 2:
        raise RowError("A, B: a question needs at least two options")
    gap = next((i for i, v in enumerate(values) if v is None), None)
    if gap is not None:
        raise RowError(f"{'ABCDEFGHI'[gap]}: option missing between others")
    return [v for v in values if v is not None]
