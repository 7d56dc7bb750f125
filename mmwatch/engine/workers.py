"""Running work units: one unit on a worker, or all of a cycle's units in this process.

A unit loads its model once, skips the cells an earlier attempt of it already wrote (a killed
worker's retry computes only what is missing), generates, scores with the judges that need no
model of their own, and writes result shards. A model that cannot load is reported as such.

In this process (`run_units_locally`, the embedded default) each model is loaded once for all
of its units. Different API models run side by side; the units of one API model share one window
of its `concurrency` calls, each starting as the one before has started its last call, so the
window never drains between units. Loaded checkpoints run one at a time beside them.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable, Sequence
from typing import Protocol

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from mmwatch import plugins
from mmwatch.config import RunConfig
from mmwatch.secrets import run_secrets
from mmwatch.engine.evaluate import Context, OnProgress, ResultSink, Writer, aevaluate, whole_shard
from mmwatch.engine.plan import PlannedCell
from mmwatch.engine.probes import ProbeCache
from mmwatch.engine.units import UnitReport, WorkUnit
from mmwatch.judges.runner import JudgePlugin
from mmwatch.plugins import AsyncModelAdapter, Loadable, ModelAdapter, close_plugin
from mmwatch.records import ModelRecord
from mmwatch.types import Probe

log = logging.getLogger(__name__)


class UnitSink(ResultSink, Protocol):
    def done_keys(self) -> set[str]: ...


SinkFactory = Callable[[WorkUnit], UnitSink]


def shard_sink(unit: WorkUnit) -> UnitSink:
    """The default: result shards in the unit's results location."""
    from storage.shards import ShardWriter

    return ShardWriter(unit.results, unit.unit_id, unit.run_id)


def local_judges(config: RunConfig) -> list[JudgePlugin]:
    """The configured judges a worker runs itself: those that call no model."""
    judges = []
    for ref in config.judges:
        if not plugins.judges.info(ref.name).traits.uses_model:
            judges.append(plugins.judges.build(ref.name, ref.params))
    return judges


def _reused_lookup(unit: WorkUnit) -> Callable[[str, str, int], Probe | None]:
    found = {(r.attack_hash, r.probe.sample_id, r.probe.index): r.probe for r in unit.reused}
    return lambda attack, sample, index: found.get((attack, sample, index))


async def open_adapter(model: ModelRecord) -> ModelAdapter:
    """Build the model's adapter and load its weights, off the event loop."""

    def build() -> ModelAdapter:
        adapter = plugins.adapters.build(model.adapter, model.adapter_params).obj
        if isinstance(adapter, Loadable):
            try:
                adapter.load()
            except BaseException:
                close_plugin(adapter)
                raise
        return adapter

    return await asyncio.to_thread(build)


async def release(adapter: ModelAdapter) -> None:
    aclose = getattr(adapter, "aclose", None)
    if aclose is not None:
        await aclose()
    close_plugin(adapter)


def _cannot_load(model: ModelRecord, exc: Exception, config: RunConfig) -> str:
    why = run_secrets(config).scrub(f"cannot load: {type(exc).__name__}: {exc}")
    log.error("%s: %s", model.model_id, why)
    return why


async def arun_unit(unit: WorkUnit, cells: Sequence[PlannedCell], sink: UnitSink, judges: Sequence[JudgePlugin],
                    progress: OnProgress | None = None, cache: ProbeCache | None = None,
                    adapter: ModelAdapter | None = None, window: asyncio.Semaphore | None = None,
                    launched: asyncio.Event | None = None) -> UnitReport:
    """`cache`: attack probes shared with other units in this process (each image made once);
    `adapter`: the model, already loaded for several units (else the unit loads and releases it);
    `window`: the calls in flight, shared by the units of one remote model; `launched`: set once
    every call of the unit has started (or it has none to make), so the next unit can begin."""
    try:
        return await _run_unit(unit, cells, sink, judges, progress, cache, adapter, window, launched)
    finally:
        if launched is not None:
            launched.set()


async def _run_unit(unit: WorkUnit, cells: Sequence[PlannedCell], sink: UnitSink, judges: Sequence[JudgePlugin],
                    progress: OnProgress | None, cache: ProbeCache | None, adapter: ModelAdapter | None,
                    window: asyncio.Semaphore | None, launched: asyncio.Event | None) -> UnitReport:
    report = UnitReport(unit_id=unit.unit_id, model_id=unit.model.model_id)
    done = await asyncio.to_thread(sink.done_keys)
    todo = [c for c in cells if c.key not in done]
    report.already_done = len(cells) - len(todo)
    if progress and report.already_done:
        progress(report.already_done)
    if not todo:
        return report
    model = unit.model
    model_adapter = adapter
    if model_adapter is None:
        try:
            model_adapter = await open_adapter(model)
        except Exception as exc:  # a model that cannot load fails alone, and says why
            report.failed_model = _cannot_load(model, exc, unit.config)
            return report
    ctx = Context(unit.run_id, unit.config.generation, unit.config.seed, {} if cache is None else cache,
                  _reused_lookup(unit), window, launched)
    try:
        with Writer(sink, judges, progress, unit.config.generation.batch_size,
                    unit.config.work.write_interval_s, run_secrets(unit.config)) as writer:
            await aevaluate(todo, model_adapter, writer, ctx, whole_shard(model.adapter))
    finally:
        if adapter is None:
            await release(model_adapter)
    report.cells_written, report.cells_failed = writer.stats.written, writer.stats.failed
    log.info("%s: %d cells written (%d error rows), %d already done", unit.label, report.cells_written,
             report.cells_failed, report.already_done)
    return report


def run_unit(unit: WorkUnit, cells: Sequence[PlannedCell], sink: UnitSink, judges: Sequence[JudgePlugin],
             progress: OnProgress | None = None, cache: ProbeCache | None = None) -> UnitReport:
    from mmwatch.aio import run_sync

    return run_sync(arun_unit(unit, cells, sink, judges, progress, cache))


def _streams(unit: WorkUnit) -> bool:
    """Whether the unit's model answers over the network (read from its traits, without building it)."""
    return plugins.adapters.info(unit.model.adapter).traits.remote


async def _run_all(units: Sequence[WorkUnit], cells: dict[str, list[PlannedCell]], sinks: SinkFactory,
                   judges: Sequence[JudgePlugin], progress: Progress) -> list[UnitReport]:
    cache: ProbeCache = {}  # one per run: each attack image is made once for all models
    by_model: dict[str, list[WorkUnit]] = {}
    for unit in units:
        by_model.setdefault(unit.model.model_id, []).append(unit)

    async def model_units(model_units: list[WorkUnit]) -> list[UnitReport]:
        """One model loaded once for all of its units: side by side for a remote model (its adapter
        keeps at most `concurrency` calls in flight across them), one after another otherwise."""
        model = model_units[0].model
        bar = progress.add_task(escape(f"{model.model_id[:48]:48}"), total=sum(len(u.cells) for u in model_units))

        def advance(n: int) -> None:
            progress.advance(bar, n)

        try:
            adapter = await open_adapter(model)
        except Exception as exc:  # a model that cannot load fails alone, and says why
            why = _cannot_load(model, exc, model_units[0].config)
            return [UnitReport(unit_id=u.unit_id, model_id=model.model_id, failed_model=why) for u in model_units]
        try:
            if _streams(model_units[0]) and isinstance(adapter, AsyncModelAdapter):
                # One window across the units, each starting once the one before has started all its
                # calls: the window never drains between units, and about two write at a time.
                window = asyncio.Semaphore(max(1, adapter.concurrency))
                started = [asyncio.Event() for _ in model_units]

                async def after(i: int, u: WorkUnit) -> UnitReport:
                    if i:
                        await started[i - 1].wait()
                    return await arun_unit(u, cells[u.unit_id], sinks(u), judges, advance, cache, adapter, window,
                                           started[i])

                return list(await asyncio.gather(*(after(i, u) for i, u in enumerate(model_units))))
            return [await arun_unit(u, cells[u.unit_id], sinks(u), judges, advance, cache, adapter)
                    for u in model_units]
        finally:
            await release(adapter)

    async def one_at_a_time(groups: list[list[WorkUnit]]) -> list[UnitReport]:
        return [r for group in groups for r in await model_units(group)]

    api = [g for g in by_model.values() if _streams(g[0])]
    loaded = [g for g in by_model.values() if not _streams(g[0])]
    results = await asyncio.gather(one_at_a_time(loaded), *(model_units(g) for g in api))
    return [r for group in results for r in group]


def run_units_locally(units: Sequence[WorkUnit], cells: dict[str, list[PlannedCell]], config: RunConfig,
                      sinks: SinkFactory = shard_sink) -> list[UnitReport]:
    """Every unit in this process, with a progress bar per model; `cells` by unit id."""
    from mmwatch.aio import run_sync

    judges = local_judges(config)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    # The plan's objects live through the whole evaluation: keep the garbage collector from
    # scanning them again and again while thousands of calls come and go.
    gc.freeze()
    try:
        with Progress(*columns, console=Console(stderr=True), transient=False, refresh_per_second=2) as progress:
            return run_sync(_run_all(units, cells, sinks, judges, progress))
    finally:
        gc.unfreeze()
        for judge in judges:
            close_plugin(judge.obj)
