"""VLGuard (Zong et al. 2024) test set: images that are unsafe in themselves, and safe images with a
safe and an unsafe instruction each.

JSON list of records `id, image, safe, harmful_category, harmful_subcategory, instr-resp`, where
`instr-resp` holds `{instruction, response}` for an unsafe image and `{safe_instruction, response}`
/ `{unsafe_instruction, response}` for a safe one. One sample per instruction: an unsafe image or
an unsafe instruction is harmful (should be refused); a safe instruction on a safe image is
benign (refusing it is over-refusal). Category: `harmful_category`, or `safe` for benign items.
The dataset's reference responses are not used (a judge does the scoring).
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

NAME = "vlguard"
_INSTRUCTION_KEYS = (("instruction", None), ("safe_instruction", "safe"), ("unsafe_instruction", "unsafe"))


@benchmark(NAME, version=1)
def vlguard(path: str, images: str | None = None, sha256: str | None = None) -> LoadedBenchmark:
    """VLGuard test records: one sample per instruction, harmful unless safe image + safe instruction."""
    file = fetch(path, sha256)
    folder = local_folder(images, "VLGuard images") if images is not None else None
    out = Collector(file, NAME, image_root=folder)
    for where, record in json_records(file):
        pairs = record.get("instr-resp") if isinstance(record, dict) else None
        if not isinstance(pairs, list) or not pairs:
            out.problem(where, "instr-resp: must be a non-empty list")
            continue
        for j, pair in enumerate(pairs):
            out.add(f"{where}.{j}", partial(_sample, record, pair, j, folder))
    return out.result()


def _sample(record: dict[str, Any], pair: Any, index: int, images: Path | None) -> Sample:
    if not isinstance(pair, dict):
        raise RowError("instr-resp: each entry must be an object")
    found = [(key, which) for key, which in _INSTRUCTION_KEYS if pair.get(key)]
    if len(found) != 1:
        raise RowError("instr-resp: expected exactly one of instruction, safe_instruction, unsafe_instruction")
    key, which = found[0]
    safe_image = record.get("safe")
    if not isinstance(safe_image, bool):
        raise RowError(f"safe: must be true or false, got {safe_image!r}")
    benign = safe_image and which == "safe"
    rid = source_id(record, "id")
    return Sample(
        benchmark=NAME,
        source_id=f"{rid}/{which or 'instruction'}{index}" + ("" if images is not None else "/text"),
        category="safe" if benign else (str(record.get("harmful_category") or "unsafe")),
        kind=SampleKind.BENIGN if benign else SampleKind.HARMFUL,
        text=str(pair[key]).strip(),
        image_path=images / required(record, "image") if images is not None else None,
    )
