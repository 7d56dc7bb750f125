"""Attack output for planned cells: made once per (attack, sample), white-box images per model.

A unit's cells share one cache, so an attack image is made once for all of its probe indices
and defenses. A white-box attack optimises a whole batch of samples at once against the model,
unless an earlier run already made the image for this model and sample (`reuse`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import cast

from mmwatch.engine.plan import PlannedCell
from mmwatch.plugins import AttackFn, GradientAdapter, GradientAttackFn, ModelAdapter
from mmwatch.types import Probe

log = logging.getLogger(__name__)

ProbeCache = dict[tuple[str, str, str], list[Probe]]
# An earlier run's probe for (attack hash, sample id, probe index), or None.
StoredProbe = Callable[[str, str, int], Probe | None]


def cache_key(cell: PlannedCell) -> tuple[str, str, str]:
    """An attack's probes depend on the sample alone, except a white-box attack's: on the model too."""
    scope = cell.model.model_id if cell.attack.traits.needs_gradients else ""
    return (cell.attack.spec.hash, cell.sample.id, scope)


def _reuse_stored(cell: PlannedCell, stored: StoredProbe, cache: ProbeCache) -> bool:
    probes = []
    for index in range(cell.attack.traits.probes_per_sample):
        probe = stored(cell.attack.spec.hash, cell.sample.id, index)
        if probe is None:
            return False
        probes.append(probe.model_copy(update={"kind": cell.sample.kind, "reference": cell.sample.reference,
                                               "answer_key": cell.sample.answer_key,
                                               "category": cell.sample.category}))
    cache[cache_key(cell)] = probes
    return True


def run_gradient_attacks(batch: Sequence[PlannedCell], adapter: ModelAdapter, stored: StoredProbe,
                         cache: ProbeCache) -> None:
    """Optimise the batch's white-box images that neither the cache nor an earlier run holds."""
    pending: dict[str, list[PlannedCell]] = {}
    for cell in batch:
        if (cell.attack.traits.needs_gradients and cache_key(cell) not in cache
                and not _reuse_stored(cell, stored, cache)):
            pending.setdefault(cell.attack.spec.hash, []).append(cell)
    if not pending:
        return
    if not isinstance(adapter, GradientAdapter):
        log.warning("adapter %s offers no gradients: %d white-box cells fail", type(adapter).__name__,
                    sum(len(c) for c in pending.values()))
        return  # each cell then fails alone in probe_for
    for cells in pending.values():
        samples = list({c.sample.id: c.sample for c in cells}.values())
        run = cast(GradientAttackFn, cells[0].attack.obj)
        try:
            results = run(samples, adapter)
        except Exception as exc:
            log.warning("gradient attack %s failed on %d samples: %s", cells[0].attack.spec.label, len(samples), exc)
            continue  # each cell then fails alone in probe_for
        by_id = {c.sample.id: c for c in cells}
        for sample, probes in zip(samples, results):
            cache[cache_key(by_id[sample.id])] = list(probes)


def probe_for(cell: PlannedCell, cache: ProbeCache) -> Probe:
    """The cell's probe; raises if the attack fails on the sample (the caller stores an error row)."""
    key = cache_key(cell)
    if key not in cache:
        if cell.attack.traits.needs_gradients:
            raise RuntimeError(f"gradient attack {cell.attack.spec.label} produced no probe for {cell.sample.id}")
        cache[key] = list(cast(AttackFn, cell.attack.obj)(cell.sample))
    probes = cache[key]
    if cell.probe_index >= len(probes):
        raise ValueError(f"attack {cell.attack.spec.label} gave {len(probes)} probe(s) for {cell.sample.id}, "
                         f"expected index {cell.probe_index}")
    return probes[cell.probe_index]
