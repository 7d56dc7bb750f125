"""Load every configured benchmark into one list of samples, with the problems found on the way."""

from __future__ import annotations

import logging
from itertools import islice

from mmwatch import plugins
from mmwatch.benchmarks.inputs import ImageScreen
from mmwatch.config import RunConfig
from mmwatch.types import Sample

log = logging.getLogger(__name__)


class DuplicateSampleError(ValueError):
    """Two benchmarks produced the same sample id; cells would collide."""


def load_samples(config: RunConfig) -> tuple[list[Sample], list[str]]:
    """Samples in config order; `problems` lists the bad rows that loaders skipped and the rows
    whose images are outside the benchmark's folder or over the `inputs` limits."""
    samples: list[Sample] = []
    problems: list[str] = []
    seen: dict[str, str] = {}
    for ref in config.benchmarks:
        loaded = plugins.benchmarks.build(ref.name, ref.params).obj
        screen = ImageScreen(loaded, config.inputs, ref.name)
        for sample in islice(screen, ref.limit):
            if sample.id in seen:
                raise DuplicateSampleError(f"sample id {sample.id!r} comes from both {seen[sample.id]} and {ref.name}")
            seen[sample.id] = ref.name
            samples.append(sample)
        found = list(getattr(loaded, "problems", [])) + screen.problems
        for problem in found:
            log.warning("benchmark %s: %s", ref.name, problem)
        problems += found
    return samples, problems
