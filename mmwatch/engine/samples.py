"""Load every configured benchmark into one list of samples, with the problems found on the way."""

from __future__ import annotations

import logging
from itertools import islice

from mmwatch import plugins
from mmwatch.benchmarks.inputs import ImageScreen
from mmwatch.config import BenchmarkRef, RunConfig
from mmwatch.types import InputLimits, Sample

log = logging.getLogger(__name__)


class DuplicateSampleError(ValueError):
    """Two benchmarks produced the same sample id; cells would collide."""


def load_benchmark(ref: BenchmarkRef, limits: InputLimits) -> tuple[list[Sample], list[str]]:
    """One benchmark's samples (up to its `limit`) and its problems: bad rows, refused images, and
    a benchmark that gives no samples at all (an empty file would otherwise pass unnoticed)."""
    loaded = plugins.benchmarks.build(ref.name, ref.params).obj
    screen = ImageScreen(loaded, limits, ref.name)
    samples = list(islice(screen, ref.limit))
    problems = list(getattr(loaded, "problems", [])) + screen.problems
    if not samples:
        source = ref.params.get("path") or ref.params.get("root") or ref.name
        problems.append(f"{source}: no samples" + (f" ({len(problems)} bad row(s))" if problems else
                                                   " (an empty file?)"))
    return samples, problems


def load_samples(config: RunConfig) -> tuple[list[Sample], list[str]]:
    """Samples in config order; `problems` lists the bad rows that loaders skipped and the rows
    whose images are outside the benchmark's folder or over the `inputs` limits."""
    samples: list[Sample] = []
    problems: list[str] = []
    seen: dict[str, str] = {}
    for ref in config.benchmarks:
        loaded, found = load_benchmark(ref, config.inputs)
        for sample in loaded:
            if sample.id in seen:
                raise DuplicateSampleError(f"sample id {sample.id!r} comes from both {seen[sample.id]} and {ref.name}")
            seen[sample.id] = ref.name
            samples.append(sample)
        for problem in found:
            log.warning("benchmark %s: %s", ref.name, problem)
        problems += found
    return samples, problems
