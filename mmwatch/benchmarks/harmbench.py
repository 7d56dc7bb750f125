"""HarmBench's multimodal behaviors (Mazeika et al. 2024): a harmful request about an image.

CSV `Behavior,BehaviorID,FunctionalCategory,SemanticCategory,ImageFileName,Source,
ImageDescription,RedactedImageDescription,Tags`; the image is `ImageFileName` in the `images`
folder. The behavior refers to the image ("... in this image"), so the benchmark's own form has
the image; loaded without `images` the samples are text only and their ids end in `/text`, since
stored cells are keyed by sample id and must not mix the two forms. With the image, the sample
carries `RedactedImageDescription` as `Sample.image_description` (blank or an absent column:
none), which HarmBench gives its multimodal classifier as the context (judge `harmbench-cls`).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from mmwatch.benchmarks.rows import (
    Collector,
    LoadedBenchmark,
    RowError,
    csv_rows,
    optional,
    required,
    source_id,
)
from mmwatch.benchmarks.sources import fetch, local_folder
from mmwatch.plugins import benchmark
from mmwatch.types import Sample, SampleKind

NAME = "harmbench-multimodal"
COLUMNS = ("Behavior", "BehaviorID", "SemanticCategory", "ImageFileName")


@benchmark(NAME, version=1, published_judge="harmbench-cls")
def harmbench_multimodal(path: str, images: str | None = None, sha256: str | None = None) -> LoadedBenchmark:
    """HarmBench multimodal behaviors (harmful), each with its image from the `images` folder."""
    file = fetch(path, sha256)
    folder = local_folder(images, "HarmBench images") if images is not None else None
    out = Collector(file, NAME, image_root=folder)
    for where, row in csv_rows(file, COLUMNS, out):
        out.add(where, partial(_sample, row, folder))
    return out.result()


def _sample(row: dict[str, str], images: Path | None) -> Sample:
    behavior_id = source_id(row, "BehaviorID")
    image_path, description = None, None
    if images is not None:
        name = required(row, "ImageFileName").strip()
        if Path(name).name != name:
            raise RowError(f"ImageFileName: must be a plain file name, got {name!r}")
        image_path = images / name
        description = optional(row, "RedactedImageDescription")
    return Sample(
        benchmark=NAME,
        source_id=behavior_id if images is not None else f"{behavior_id}/text",
        category=required(row, "SemanticCategory").strip(),
        kind=SampleKind.HARMFUL,
        text=required(row, "Behavior").strip(),
        image_path=image_path,
        image_description=description.strip() if description else None,
    )
