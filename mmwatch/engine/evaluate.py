"""Run planned cells, model by model, and store each batch as soon as it is answered.

Writing per batch is what makes a crashed run resumable: the next run's plan subtracts what
was stored. A sample whose attack fails (say, an unreadable image) becomes an error row; so does
a batch the adapter could not answer. Nothing here stops the run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import cast

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from mmwatch import plugins
from mmwatch.engine.plan import Plan, PlannedCell
from mmwatch.plugins import AttackFn, GradientAdapter, GradientAttackFn, ModelAdapter
from mmwatch.records import CellRecord, ModelStatus
from mmwatch.store import Store
from mmwatch.types import GenerationParams, Probe, Response

log = logging.getLogger(__name__)

OnProgress = Callable[[int], None]  # called with the number of cells just finished


@dataclass
class EvalStats:
    written: int = 0
    failed: int = 0  # error rows written
    failed_models: dict[str, str] = field(default_factory=dict)  # model id -> why it could not run


def _record(cell: PlannedCell, run_id: str, generation: GenerationParams, seed: int,
            probe: Probe | None, response: Response) -> CellRecord:
    return CellRecord(
        cell_key=cell.key, run_id=run_id, model_id=cell.model.model_id, sample_id=cell.sample.id,
        probe_index=cell.probe_index, attack=cell.attack.spec.key(), attack_label=cell.attack.spec.label,
        defense=cell.defense.spec.key(), defense_label=cell.defense.spec.label, adapter=cell.adapter,
        generation=generation.model_dump(), seed=seed, probe=probe, response=response,
    )


ProbeCache = dict[tuple[str, str, str], list[Probe]]


def _cache_key(cell: PlannedCell) -> tuple[str, str, str]:
    """An attack's probes depend on the sample alone, except a white-box attack's: on the model too."""
    scope = cell.model.model_id if cell.attack.traits.needs_gradients else ""
    return (cell.attack.spec.hash, cell.sample.id, scope)


def _reuse_stored(cell: PlannedCell, store: Store, cache: ProbeCache) -> bool:
    """An image this attack already optimised for this model and sample in an earlier run."""
    probes = []
    for index in range(cell.attack.traits.probes_per_sample):
        probe = store.stored_probe(cell.model.model_id, cell.attack.spec.hash, cell.sample.id, index)
        if probe is None:
            return False
        probes.append(probe.model_copy(update={"kind": cell.sample.kind, "reference": cell.sample.reference,
                                               "category": cell.sample.category}))
    cache[_cache_key(cell)] = probes
    return True


def _run_gradient_attacks(batch: Sequence[PlannedCell], adapter: ModelAdapter, store: Store,
                          cache: ProbeCache) -> None:
    """White-box attacks optimise a whole batch of samples at once against the model itself,
    unless an earlier run already made the sample's image for this model and attack."""
    pending: dict[str, list[PlannedCell]] = {}
    for cell in batch:
        if (cell.attack.traits.needs_gradients and _cache_key(cell) not in cache
                and not _reuse_stored(cell, store, cache)):
            pending.setdefault(cell.attack.spec.hash, []).append(cell)
    if not pending:
        return
    if not isinstance(adapter, GradientAdapter):
        log.warning("adapter %s offers no gradients: %d white-box cells fail", type(adapter).__name__,
                    sum(len(c) for c in pending.values()))
        return  # each cell then fails alone in _probe_for
    for cells in pending.values():
        samples = list({c.sample.id: c.sample for c in cells}.values())
        run = cast(GradientAttackFn, cells[0].attack.obj)
        try:
            results = run(samples, adapter)
        except Exception as exc:
            log.warning("gradient attack %s failed on %d samples: %s", cells[0].attack.spec.label, len(samples), exc)
            continue  # each cell then fails alone in _probe_for
        by_id = {c.sample.id: c for c in cells}
        for sample, probes in zip(samples, results):
            cache[_cache_key(by_id[sample.id])] = list(probes)


def _probe_for(cell: PlannedCell, cache: ProbeCache) -> Probe:
    """Attack output for a sample, computed once for all of its probe indices, defenses and models."""
    key = _cache_key(cell)
    if key not in cache:
        if cell.attack.traits.needs_gradients:
            raise RuntimeError(f"gradient attack {cell.attack.spec.label} produced no probe for {cell.sample.id}")
        cache[key] = list(cast(AttackFn, cell.attack.obj)(cell.sample))
    probes = cache[key]
    if cell.probe_index >= len(probes):
        raise ValueError(f"attack {cell.attack.spec.label} gave {len(probes)} probe(s) for {cell.sample.id}, "
                         f"expected index {cell.probe_index}")
    return probes[cell.probe_index]


def _groups(cells: Sequence[PlannedCell]) -> dict[str, list[PlannedCell]]:
    groups: dict[str, list[PlannedCell]] = {}
    for cell in cells:
        groups.setdefault(cell.defense.spec.hash, []).append(cell)
    return groups


def evaluate_model(
    cells: Sequence[PlannedCell],
    adapter: ModelAdapter,
    store: Store,
    run_id: str,
    generation: GenerationParams,
    seed: int,
    progress: OnProgress | None = None,
    probe_cache: ProbeCache | None = None,
) -> EvalStats:
    """Generate and store every planned cell of one model, defense by defense, batch by batch.

    Pass one `probe_cache` for all models of a run so that each attack image is made once.
    """
    stats = EvalStats()
    probe_cache = {} if probe_cache is None else probe_cache
    for group in _groups(cells).values():
        defended: ModelAdapter = group[0].defense.obj(adapter)
        for start in range(0, len(group), generation.batch_size):
            batch = group[start:start + generation.batch_size]
            records: list[CellRecord] = []
            ready: list[tuple[PlannedCell, Probe]] = []
            _run_gradient_attacks(batch, adapter, store, probe_cache)
            for cell in batch:
                try:
                    ready.append((cell, _probe_for(cell, probe_cache)))
                except Exception as exc:  # one bad sample costs one cell
                    log.warning("attack %s failed on %s: %s", cell.attack.spec.label, cell.sample.id, exc)
                    records.append(_record(cell, run_id, generation, seed, None,
                                           Response(error=f"attack failed: {exc}")))
            responses = _generate(defended, [p for _, p in ready], generation)
            records += [_record(c, run_id, generation, seed, p, r) for (c, p), r in zip(ready, responses)]
            stats.written += store.write_cells(records)
            stats.failed += sum(1 for r in records if r.response.error)
            if progress:
                progress(len(batch))
    return stats


def _generate(adapter: ModelAdapter, probes: list[Probe], generation: GenerationParams) -> list[Response]:
    if not probes:
        return []
    try:
        responses = adapter.generate(probes, generation)
    except Exception as exc:
        log.warning("model failed on a batch of %d probes: %s", len(probes), exc)
        return [Response(error=f"generation failed: {exc}") for _ in probes]
    if len(responses) != len(probes):
        msg = f"adapter returned {len(responses)} responses for {len(probes)} probes"
        return [Response(error=msg) for _ in probes]
    return responses


def evaluate_all(plan: Plan, store: Store, run_id: str, generation: GenerationParams, seed: int) -> EvalStats:
    """Every model's new cells, one model loaded at a time, with a progress bar per model.

    A model that cannot be built is marked failed and reported; the others still run. Attack
    images are made once per run for all models (one probe cache).
    """
    total = EvalStats()
    cache: ProbeCache = {}
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=False) as progress:
        for model_id, cells in plan.by_model().items():
            bar = progress.add_task(f"{model_id[:48]:48}", total=len(cells))
            model = cells[0].model
            try:
                adapter = plugins.adapters.build(model.adapter, model.adapter_params).obj
            except Exception as exc:  # a model that cannot load fails alone
                log.error("cannot load %s: %s", model_id, exc)
                store.set_model_status(model_id, ModelStatus.FAILED)
                total.failed_models[model_id] = f"cannot load: {type(exc).__name__}: {exc}"
                continue
            def advance(n: int, bar: TaskID = bar) -> None:
                progress.advance(bar, n)

            try:
                stats = evaluate_model(cells, adapter, store, run_id, generation, seed, progress=advance,
                                       probe_cache=cache)
            finally:
                adapter.close()
            store.set_model_status(model_id, ModelStatus.EVALUATED)
            total.written += stats.written
            total.failed += stats.failed
            log.info("%s: %d new cells, %d error rows", model_id, stats.written, stats.failed)
    return total
