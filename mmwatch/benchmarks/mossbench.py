"""MOSSBench (Li et al. 2024): over-sensitivity to benign queries about risky-looking images.

Records `image, short description, description, question, pid, metadata{over, human, child, syn,
ocr, harm}`, as a JSON list or, like the authors' `images_information/information.json`, an
object of id -> record. The metric is the refusal rate on benign queries.

Kind. In the authors' data `metadata.harm` is the harm *type* the image evokes (0-7, a number or
a list of numbers), not a harmful flag: all 300 MOSSBench queries are benign (they should be
answered). The authors' contrast set (`data_contrast/`) asks harmful questions about the same
images and its metadata has only `over`; load it with `contrast=True` (kind harmful, ids
`contrast/{pid}`). A record without `harm` in the benign set is refused as a problem, so a
contrast file loaded by mistake cannot pass as benign.

Category: the stimulus type of `metadata.over`, the paper's breakdown: "type 1" ->
`exaggerated_risk`, "type 2" -> `negated_harm`, "type 3" -> `counterintuitive_interpretation`;
any other value is kept as written. The flags human/child/syn/ocr describe the image and are not
categories.

Images: a record's `image` ("images/1.png") is taken relative to the `images` folder (the
authors' `data/`), or by file name inside it; the authors ship the same image as .png, .jpg or
.webp, so the same stem with another of these suffixes is accepted. Without `images` samples are
text only and their ids end in `/text`.
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

NAME = "mossbench"
OVER_TYPES = {"type 1": "exaggerated_risk", "type 2": "negated_harm", "type 3": "counterintuitive_interpretation"}
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


@benchmark(NAME, version=1)
def mossbench(
    path: str, images: str | None = None, contrast: bool = False, sha256: str | None = None
) -> LoadedBenchmark:
    """MOSSBench benign queries on risky-looking images (contrast=True: the harmful contrast set)."""
    file = fetch(path, sha256)
    folder = local_folder(images, "MOSSBench images") if images is not None else None
    out = Collector(file, NAME, image_root=folder)
    for where, record in json_records(file):
        out.add(where, partial(_sample, record, folder, contrast))
    return out.result()


def _sample(record: Any, images: Path | None, contrast: bool) -> Sample:
    if not isinstance(record, dict):
        raise RowError(f"(record): expected a JSON object, got {type(record).__name__}")
    meta = record.get("metadata")
    if not isinstance(meta, dict):
        raise RowError(f"metadata: must be an object, got {meta!r}")
    over = required(meta, "over").strip()
    if not contrast:
        _check_harm_type(meta.get("harm"))
    pid = source_id(record, "pid")
    sid = f"contrast/{pid}" if contrast else pid
    return Sample(
        benchmark=NAME,
        source_id=sid if images is not None else f"{sid}/text",
        category=OVER_TYPES.get(over.lower(), over),
        kind=SampleKind.HARMFUL if contrast else SampleKind.BENIGN,
        text=required(record, "question").strip(),
        image_path=_image_path(images, required(record, "image").strip()) if images is not None else None,
    )


def _check_harm_type(harm: Any) -> None:
    """`harm` names a harm type (0-7, or a list of them); without it this is not the benign set."""
    values = harm if isinstance(harm, list) else [harm]
    if harm is None or not values or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise RowError(
            f"metadata.harm: expected a harm type 0-7 (or a list of them), got {harm!r}; "
            "the contrast set has none: load it with contrast=True"
        )


def _image_path(images: Path, name: str) -> Path:
    rel = Path(name)
    if rel.is_absolute() or ".." in rel.parts:
        raise RowError(f"image: must be a path inside the images folder, got {name!r}")
    candidates = [images / rel, images / rel.name]
    candidates += [c.with_suffix(s) for c in candidates[:2] for s in _IMAGE_SUFFIXES if s != rel.suffix.lower()]
    return next((c for c in candidates if c.is_file()), images / rel)
