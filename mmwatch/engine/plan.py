"""Plan the matrix: models x samples x attacks x defenses, less the cells already stored.

Cost grows with new cells only. An attack runs on the sample kinds its traits declare
(`applies_to`, default harmful + benign: utility items are measured unattacked), and a
gradient attack only on adapters that offer gradients.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mmwatch import plugins
from mmwatch.plugins import AttackFn, AttackTraits, DefenseFn, DefenseTraits, GradientAttackFn
from mmwatch.records import ModelRecord
from mmwatch.registry import Plugin
from mmwatch.types import GenerationParams, Sample, cell_key

AttackPlugin = Plugin[AttackFn | GradientAttackFn, AttackTraits]
DefensePlugin = Plugin[DefenseFn, DefenseTraits]


@dataclass(frozen=True)
class PlannedCell:
    key: str
    model: ModelRecord
    sample: Sample
    attack: AttackPlugin
    defense: DefensePlugin
    probe_index: int


@dataclass(frozen=True)
class Matrix:
    """Everything a plan is made of; built once per run from the config and discovery."""

    models: Sequence[ModelRecord]
    samples: Sequence[Sample]
    attacks: Sequence[AttackPlugin]
    defenses: Sequence[DefensePlugin]
    generation: GenerationParams
    seed: int


@dataclass
class Plan:
    total: int = 0
    new: list[PlannedCell] = field(default_factory=list)
    skipped_no_gradients: int = 0

    @property
    def stored(self) -> int:
        return self.total - len(self.new)

    def by_model(self) -> dict[str, list[PlannedCell]]:
        out: dict[str, list[PlannedCell]] = {}
        for cell in self.new:
            out.setdefault(cell.model.model_id, []).append(cell)
        return out


def attack_applies(attack: AttackPlugin, sample: Sample) -> bool:
    return sample.kind in attack.traits.applies_to


def adapter_has_gradients(model: ModelRecord) -> bool:
    return plugins.adapters.info(model.adapter).traits.supports_gradients


def all_cells(matrix: Matrix) -> Iterable[PlannedCell]:
    for model in matrix.models:
        for attack in matrix.attacks:
            for defense in matrix.defenses:
                for sample in matrix.samples:
                    if not attack_applies(attack, sample):
                        continue
                    for index in range(attack.traits.probes_per_sample):
                        key = cell_key(model.model_id, sample.id, sample.content_hash, attack.spec.key(), defense.spec.key(),
                                       matrix.generation, matrix.seed, index)
                        yield PlannedCell(key, model, sample, attack, defense, index)


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
            tokens_in = EST_TEXT_TOKENS + (EST_IMAGE_TOKENS if cell.attack.spec.name != "none" or
                                           cell.sample.image is not None or cell.sample.image_path else 0)
            total += (tokens_in * price_in + max_new_tokens * price_out) / 1e6
    return total


def plan(matrix: Matrix, existing: Callable[[Iterable[str]], set[str]]) -> Plan:
    """All cells of the matrix, and the ones not stored yet (`existing` asks the store)."""
    result = Plan()
    candidates = []
    for cell in all_cells(matrix):
        if cell.attack.traits.needs_gradients and not adapter_has_gradients(cell.model):
            result.skipped_no_gradients += 1
            continue
        candidates.append(cell)
    result.total = len(candidates)
    stored = existing(c.key for c in candidates)
    result.new = [c for c in candidates if c.key not in stored]
    return result
