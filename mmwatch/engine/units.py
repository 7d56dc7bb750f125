"""Work units: one model revision x one shard of its new cells, what one worker runs.

The orchestrator splits the plan's new cells into units and hands each to a worker (in this
process, or a Prefect deployment run on the work pool its hardware needs). A unit travels as
JSON: the config, the model revision and its cell keys. The worker rebuilds the cells from the
config (the same planner), so a unit names exactly the cells the orchestrator planned; a key it
cannot rebuild (a benchmark file changed on the worker) is reported, not guessed.

Cells are ordered by attack, sample and probe before they are cut into shards, so the defenses
of one attack image sit in one unit and the image is made once.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from mmwatch import plugins
from mmwatch.config import RunConfig
from mmwatch.engine.plan import Matrix, PlannedCell, plan
from mmwatch.engine.samples import load_samples
from mmwatch.plugins import Hardware
from mmwatch.records import ModelRecord
from mmwatch.types import Probe, stable_hash


class UnitCell(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    attempt: int = 1


class ReusedProbe(BaseModel):
    """A white-box attack image an earlier run already optimised for this model and sample."""

    model_config = ConfigDict(frozen=True)

    attack_hash: str
    probe: Probe


class WorkUnit(BaseModel):
    model_config = ConfigDict(frozen=True)

    unit_id: str
    run_id: str
    config: RunConfig
    model: ModelRecord
    cells: tuple[UnitCell, ...]
    results: str  # the results location its shards go to (a folder or an fsspec URL)
    hardware: Hardware
    limit: tuple[str, int] | None = None  # Prefect concurrency limit and slots the unit occupies
    reused: tuple[ReusedProbe, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.model.model_id} [{len(self.cells)} cells]"


class UnitReport(BaseModel):
    """What a unit did; `failed_model` says why it computed nothing (the model did not load)."""

    unit_id: str
    model_id: str
    cells_written: int = 0
    cells_failed: int = 0  # error rows among them
    already_done: int = 0  # written by an earlier attempt of this unit
    missing: list[str] = []  # keys the worker could not rebuild from the config
    failed_model: str | None = None
    failed_unit: str | None = None  # the unit's run did not finish (a crashed or killed worker, a timeout)


def _order(cell: PlannedCell) -> tuple[str, str, int, str]:
    return (cell.attack.spec.hash, cell.sample.id, cell.probe_index, cell.defense.spec.hash)


def split_units(new: Sequence[PlannedCell], config: RunConfig, run_id: str,
                reused: dict[str, list[ReusedProbe]] | None = None) -> list[WorkUnit]:
    """The new cells, model by model, in shards of `config.work.shard_size`."""
    by_model: dict[str, list[PlannedCell]] = {}
    for cell in new:
        by_model.setdefault(cell.model.model_id, []).append(cell)
    units = []
    size = config.work.shard_size
    for model_id, cells in by_model.items():
        model = cells[0].model
        traits = plugins.adapters.info(model.adapter).traits
        ordered = sorted(cells, key=_order)
        for start in range(0, len(ordered), size):
            shard = tuple(UnitCell(key=c.key, attempt=c.attempt) for c in ordered[start:start + size])
            samples = {c.sample.id for c in ordered[start:start + size]}
            unit_id = stable_hash({"model": model_id, "cells": [c.key for c in shard]})
            units.append(WorkUnit(
                unit_id=unit_id, run_id=run_id, config=config, model=model, cells=shard, results=config.store.results_location,
                hardware=traits.hardware, limit=traits.limit(model.adapter_params),
                reused=tuple(r for r in (reused or {}).get(model_id, []) if r.probe.sample_id in samples),
            ))
    return units


def rebuild_cells(unit: WorkUnit) -> tuple[list[PlannedCell], list[str]]:
    """The unit's cells, planned again from its config on the worker; and the keys not found."""
    config = unit.config
    samples, _ = load_samples(config)
    matrix = Matrix(
        models=[unit.model], samples=samples,
        attacks=[plugins.attacks.build(a.name, a.params) for a in config.attacks],
        defenses=[plugins.defenses.build(d.name, d.params) for d in config.defenses],
        generation=config.generation, seed=config.seed,
    )
    planned = {c.key: c for c in plan(matrix, lambda keys: set()).new}
    cells, missing = [], []
    for wanted in unit.cells:
        cell = planned.get(wanted.key)
        if cell is None:
            missing.append(wanted.key)
        else:
            cells.append(cell.with_attempt(wanted.attempt))
    return cells, missing
