"""Generate planned cells and hand the answers, scored by the local judges, to a sink in batches.

Two ways through a model:
- streaming, for an adapter that answers as probes come (`AsyncModelAdapter`: an API): a sliding
  window of `concurrency` calls in flight, no per-batch barrier, so one slow answer holds up
  nothing but itself;
- batched, for a loaded checkpoint: `batch_size` probes per generate call (the GPU batch), or a
  defense group's probes at once for an adapter that schedules its own batches (`whole_shard`: vLLM).

Either way finished cells go to one background writer (engine/writer.py). A sample whose attack
fails becomes an error row; so does a probe the model could not answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from mmwatch import plugins
from mmwatch.aio import run_sync
from mmwatch.engine.plan import PlannedCell
from mmwatch.engine.probes import ProbeCache, StoredProbe, probe_for, run_gradient_attacks
from mmwatch.engine.writer import EvalStats, OnProgress, ResultSink, StoreSink, Writer
from mmwatch.judges.runner import JudgePlugin
from mmwatch.plugins import AsyncModelAdapter, ModelAdapter
from mmwatch.records import CellRecord
from mmwatch.store import Store
from mmwatch.types import GenerationParams, Probe, Response

log = logging.getLogger(__name__)

__all__ = ["Context", "EvalStats", "OnProgress", "ResultSink", "StoreSink", "Writer", "aevaluate", "evaluate_batched",
           "evaluate_model", "evaluate_streaming", "record", "whole_shard"]


@dataclass
class Context:
    """What every cell of one evaluation shares."""

    run_id: str
    generation: GenerationParams
    seed: int
    cache: ProbeCache
    stored: StoredProbe
    window: asyncio.Semaphore | None = None  # calls in flight, shared by the units of one remote model
    launched: asyncio.Event | None = None  # set once every call of this evaluation has been started


def record(cell: PlannedCell, ctx: Context, probe: Probe | None, response: Response) -> CellRecord:
    return CellRecord(
        cell_key=cell.key, run_id=ctx.run_id, model_id=cell.model.model_id, sample_id=cell.sample.id,
        probe_index=cell.probe_index, attack=cell.attack.spec.key(), attack_label=cell.attack.spec.label,
        defense=cell.defense.spec.key(), defense_label=cell.defense.spec.label, adapter=cell.adapter,
        generation=ctx.generation.model_dump(), seed=ctx.seed, probe=probe, response=response, attempt=cell.attempt,
    )


def _failed_attack(cell: PlannedCell, ctx: Context, exc: Exception) -> CellRecord:
    log.warning("attack %s failed on %s: %s", cell.attack.spec.label, cell.sample.id, exc)
    return record(cell, ctx, None, Response(error=f"attack failed: {exc}"))


def _groups(cells: Sequence[PlannedCell]) -> list[list[PlannedCell]]:
    groups: dict[str, list[PlannedCell]] = {}
    for cell in cells:
        groups.setdefault(cell.defense.spec.hash, []).append(cell)
    return list(groups.values())


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


def evaluate_batched(cells: Sequence[PlannedCell], adapter: ModelAdapter, writer: Writer, ctx: Context,
                     whole_shard: bool = False) -> None:
    """Defense by defense, `batch_size` probes per generate call (all of them for `whole_shard`)."""
    step = ctx.generation.batch_size
    for group in _groups(cells):
        defended: ModelAdapter = group[0].defense.obj(adapter)
        for start in range(0, len(group), len(group) if whole_shard else step):
            batch = group[start:start + (len(group) if whole_shard else step)]
            run_gradient_attacks(batch, adapter, ctx.stored, ctx.cache)
            records: list[CellRecord] = []
            ready: list[tuple[PlannedCell, Probe]] = []
            for cell in batch:
                try:
                    ready.append((cell, probe_for(cell, ctx.cache)))
                except Exception as exc:  # one bad sample costs one cell
                    records.append(_failed_attack(cell, ctx, exc))
            responses = _generate(defended, [p for _, p in ready], ctx.generation)
            writer.add(records + [record(c, ctx, p, r) for (c, p), r in zip(ready, responses)])


async def evaluate_streaming(cells: Sequence[PlannedCell], adapter: AsyncModelAdapter, writer: Writer,
                             ctx: Context) -> None:
    """A sliding window of `adapter.concurrency` calls (`ctx.window` when units share one); each
    finished cell goes to the writer. Up to `concurrency` probes are made ahead of a free slot, so
    making one (an attack image, a file read) never leaves a slot idle."""
    calls = ctx.window or asyncio.Semaphore(max(1, adapter.concurrency))
    ahead = asyncio.Semaphore(2 * max(1, adapter.concurrency))  # in flight + as many made ready
    defended = {g[0].defense.spec.hash: plugins.async_answerer(g[0].defense.obj(adapter)) for g in _groups(cells)}

    async def one(cell: PlannedCell) -> None:
        try:
            try:
                probe = probe_for(cell, ctx.cache)
            except Exception as exc:
                writer.add([_failed_attack(cell, ctx, exc)])
                return
            async with calls:
                try:
                    [response] = await defended[cell.defense.spec.hash]([probe], ctx.generation)
                except Exception as exc:  # a defense or adapter bug costs this cell
                    response = Response(error=f"generation failed: {type(exc).__name__}: {exc}")
            writer.add([record(cell, ctx, probe, response)])
        finally:
            ahead.release()

    tasks: set[asyncio.Task[None]] = set()
    for cell in cells:
        await ahead.acquire()
        task = asyncio.create_task(one(cell))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if ctx.launched is not None:
        ctx.launched.set()
    await asyncio.gather(*tasks)


def whole_shard(adapter_name: str) -> bool:
    try:
        return plugins.adapters.info(adapter_name).traits.whole_shard
    except KeyError:  # an adapter object built outside the registry (a test's scripted model)
        return False


async def aevaluate(cells: Sequence[PlannedCell], adapter: ModelAdapter, writer: Writer, ctx: Context,
                    whole_shard: bool = False) -> None:
    """Stream through an API adapter on this loop; run a loaded model in a thread beside it."""
    if isinstance(adapter, AsyncModelAdapter):
        await evaluate_streaming(cells, adapter, writer, ctx)
    else:
        await asyncio.to_thread(evaluate_batched, cells, adapter, writer, ctx, whole_shard)


def evaluate_model(
    cells: Sequence[PlannedCell],
    adapter: ModelAdapter,
    store: Store,
    run_id: str,
    generation: GenerationParams,
    seed: int,
    progress: OnProgress | None = None,
    probe_cache: ProbeCache | None = None,
    judges: Sequence[JudgePlugin] = (),
) -> EvalStats:
    """Evaluate one model's cells straight into a store (the cycle runs work units instead)."""
    model_id = cells[0].model.model_id if cells else ""
    ctx = Context(run_id, generation, seed, {} if probe_cache is None else probe_cache,
                  lambda attack, sample, index: store.stored_probe(model_id, attack, sample, index))
    with Writer(StoreSink(store, run_id), judges, progress, generation.batch_size) as writer:
        run_sync(aevaluate(cells, adapter, writer, ctx, whole_shard(cells[0].model.adapter) if cells else False))
    return writer.stats
