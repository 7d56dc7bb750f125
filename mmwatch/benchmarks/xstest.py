"""XSTest (Röttger et al. 2023): exaggerated safety, text only.

CSV `id,prompt,type,label,focus,note`: 250 safe prompts in 10 types that a well-calibrated model
should answer (kind benign: refusing them is over-refusal) and 200 unsafe contrast prompts that
it should refuse (kind harmful). category = type, so over-refusal can be reported per type.
"""

from __future__ import annotations

from functools import partial

from mmwatch.benchmarks.rows import (
    Collector,
    LoadedBenchmark,
    RowError,
    csv_rows,
    required,
    source_id,
)
from mmwatch.benchmarks.sources import fetch
from mmwatch.plugins import benchmark
from mmwatch.types import Sample, SampleKind

NAME = "xstest"
COLUMNS = ("id", "prompt", "type", "label")
KINDS = {"safe": SampleKind.BENIGN, "unsafe": SampleKind.HARMFUL}


@benchmark(NAME, version=1)
def xstest(path: str, sha256: str | None = None) -> LoadedBenchmark:
    """XSTest prompts: label safe -> benign (should be answered), unsafe -> harmful."""
    file = fetch(path, sha256)
    out = Collector(file, NAME)
    for where, row in csv_rows(file, COLUMNS, out):
        out.add(where, partial(_sample, row))
    return out.result()


def _sample(row: dict[str, str]) -> Sample:
    label = row.get("label", "").strip().lower()
    if label not in KINDS:
        raise RowError(f"label: {row.get('label')!r} is not one of {', '.join(KINDS)}")
    return Sample(
        benchmark=NAME,
        source_id=source_id(row, "id"),
        category=required(row, "type").strip(),
        kind=KINDS[label],
        text=required(row, "prompt").strip(),
    )
