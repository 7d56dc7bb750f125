"""Plan the matrix: models x samples x attacks x defenses, less the cells already stored.

Cost grows with new cells only. An attack runs on the sample kinds its traits declare
(`applies_to`, default harmful + benign: utility items are measured unattacked), and a
gradient attack only on adapters that offer gradients.

The plan also names every cell the current config stands for, including those of earlier
revisions of the same lineages that are no longer available (`Matrix.archived`: a hub branch
moved on, a checkpoint folder was deleted). Their stored cells count, so a new revision is still
compared with its predecessor, but nothing is computed for them. Every published number counts
exactly the plan's cells (`PlanRecord`), never whatever else the store holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from mmwatch import plugins
from mmwatch.engine.canary import canary_rank
from mmwatch.engine.identity import model_identity, probe_key, with_adapter
from mmwatch.plugins import AttackFn, AttackTraits, DefenseFn, DefenseTraits, GradientAttackFn
from mmwatch.records import ModelRecord, PlanRecord, PlanSpec, SpecKind
from mmwatch.registry import Plugin
from mmwatch.types import GenerationParams, Sample, stable_hash

AttackPlugin = Plugin[AttackFn | GradientAttackFn, AttackTraits]
DefensePlugin = Plugin[DefenseFn, DefenseTraits]


@dataclass(frozen=True)
class PlannedCell:
    key: str
    model: ModelRecord
    adapter: dict[str, Any]  # the adapter's identity, part of the key
    sample: Sample
    attack: AttackPlugin
    defense: DefensePlugin
    probe_index: int
    attempt: int = 1  # 2+ when an earlier attempt stored an error row

    def with_attempt(self, attempt: int) -> PlannedCell:
        return replace(self, attempt=attempt)


@dataclass(frozen=True)
class Matrix:
    """Everything a plan is made of; built once per run from the config and discovery."""

    models: Sequence[ModelRecord]  # available now: new cells are computed for these
    samples: Sequence[Sample]
    attacks: Sequence[AttackPlugin]
    defenses: Sequence[DefensePlugin]
    generation: GenerationParams
    seed: int
    archived: Sequence[ModelRecord] = ()  # earlier revisions, no longer available: counted, not computed


@dataclass
class Plan:
    total: int = 0  # cells of the available models
    new: list[PlannedCell] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)  # every cell the matrix names, archived revisions included
    specs: tuple[PlanSpec, ...] = ()
    skipped_no_gradients: int = 0
    unbuildable: dict[str, str] = field(default_factory=dict)  # model id -> why it has no cell keys

    @property
    def stored(self) -> int:
        return self.total - len(self.new)

    def by_model(self) -> dict[str, list[PlannedCell]]:
        out: dict[str, list[PlannedCell]] = {}
        for cell in self.new:
            out.setdefault(cell.model.model_id, []).append(cell)
        return out

    def record(self, config_hash: str) -> PlanRecord:
        """The plan as the store keeps it; identical plans share one id."""
        keys = tuple(sorted(set(self.keys)))
        plan_id = stable_hash({"keys": keys, "specs": [s.model_dump(mode="json") for s in self.specs]})
        return PlanRecord(plan_id=plan_id, config_hash=config_hash, cell_keys=keys, specs=self.specs)


def attack_applies(attack: AttackPlugin, sample: Sample) -> bool:
    return sample.kind in attack.traits.applies_to


def adapter_has_gradients(model: ModelRecord) -> bool:
    return plugins.adapters.info(model.adapter).traits.supports_gradients


def model_cells(matrix: Matrix, model: ModelRecord, adapter: dict[str, Any]) -> Iterable[PlannedCell]:
    """Every cell of the model; a canary revision's seeded subset only (mmwatch.engine.canary)."""
    cells = _all_cells(matrix, model, adapter)
    if model.canary is None:
        return cells
    spec = model.canary
    cells = [c for c in cells if not c.attack.traits.needs_gradients or adapter_has_gradients(model)]
    ranked = sorted(cells, key=lambda c: canary_rank(spec, c.sample.id, c.attack.spec.hash, c.defense.spec.hash,
                                                     c.probe_index))
    return ranked[:spec.cells]


def _all_cells(matrix: Matrix, model: ModelRecord, adapter: dict[str, Any]) -> list[PlannedCell]:
    return list(_cells(matrix, model, adapter))


def _cells(matrix: Matrix, model: ModelRecord, adapter: dict[str, Any]) -> Iterable[PlannedCell]:
    for attack in matrix.attacks:
        for defense in matrix.defenses:
            for sample in matrix.samples:
                if not attack_applies(attack, sample):
                    continue
                for index in range(attack.traits.probes_per_sample):
                    base = probe_key(model.model_id, sample.id, sample.content_hash, attack.spec.key(),
                                     defense.spec.key(), matrix.generation, matrix.seed, index)
                    yield PlannedCell(with_adapter(base, adapter), model, adapter, sample, attack, defense, index)


def specs_of(matrix: Matrix) -> tuple[PlanSpec, ...]:
    attacks = [PlanSpec(kind=SpecKind.ATTACK, spec_hash=a.spec.hash, label=a.spec.label, baseline=a.traits.baseline,
                        targeted=a.traits.targeted) for a in matrix.attacks]
    defenses = [PlanSpec(kind=SpecKind.DEFENSE, spec_hash=d.spec.hash, label=d.spec.label,
                         baseline=d.traits.baseline) for d in matrix.defenses]
    return tuple(attacks + defenses)


# A rough prompt size for the cost estimate: a question plus one image (vision models count an
# image as a few hundred tokens). The estimate is an upper bound on output (max_new_tokens).
EST_TEXT_TOKENS = 60
EST_IMAGE_TOKENS = 600


def estimated_cost_usd(cells: Sequence[PlannedCell], max_new_tokens: int) -> float:
    """What the new cells would cost on priced (API) models, from the prices in their params."""
    total = 0.0
    for cell in cells:
        price_in = float(cell.model.adapter_params.get("price_in_per_mtok", 0.0) or 0.0)
        price_out = float(cell.model.adapter_params.get("price_out_per_mtok", 0.0) or 0.0)
        if price_in or price_out:
            has_image = not cell.attack.traits.baseline or cell.sample.image is not None or cell.sample.image_path
            tokens_in = EST_TEXT_TOKENS + (EST_IMAGE_TOKENS if has_image else 0)
            total += (tokens_in * price_in + max_new_tokens * price_out) / 1e6
    return total


def plan(matrix: Matrix, existing: Callable[[Iterable[str]], set[str]],
         attempts: Callable[[Iterable[str]], dict[str, int]] | None = None) -> Plan:
    """All cells of the matrix, and the ones not stored yet (`existing` asks the store). An error
    row that `existing` does not count is computed again: `attempts` says how often it failed."""
    result = Plan(specs=specs_of(matrix))
    candidates = []
    for model, available in [*((m, True) for m in matrix.models), *((m, False) for m in matrix.archived)]:
        try:
            adapter = model_identity(model)
        except (KeyError, ValueError) as exc:  # unknown adapter or parameter: it could not be built either
            result.unbuildable[model.model_id] = str(exc)
            continue
        for cell in model_cells(matrix, model, adapter):
            if cell.attack.traits.needs_gradients and not adapter_has_gradients(model):
                if available:
                    result.skipped_no_gradients += 1
                continue
            result.keys.append(cell.key)
            if available:
                candidates.append(cell)
    result.total = len(candidates)
    stored = existing(c.key for c in candidates)
    result.new = [c for c in candidates if c.key not in stored]
    failed = attempts(c.key for c in result.new) if attempts else {}
    if failed:
        result.new = [c.with_attempt(failed[c.key] + 1) if c.key in failed else c for c in result.new]
    return result
