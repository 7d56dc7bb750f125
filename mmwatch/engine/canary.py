"""Nightly canaries: an API model id re-tested every night on a fixed subset of its cells.

An API model has no commit sha: the provider can change the model behind an id whenever it likes,
and its first evaluation would stand for ever. So each night every API model (an adapter whose
traits say `remote`) gets a canary revision `canary:<model id>@<night>`, in a lineage of its own:
the same adapter and params, evaluated on a seeded subset of `canary.cells` of its cells (the same
subset every night). Its cells are keyed by the night, so history is kept, and the regression
watch compares each night with the nights before it like any revision with its predecessors.
Canary revisions are not ranked on the board.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from mmwatch import plugins
from mmwatch.config import RunConfig
from mmwatch.records import CANARY_LINEAGE, CanarySpec, ModelRecord, ModelSource
from mmwatch.types import stable_hash


def night_of(run_id: str) -> str:
    """The UTC night a run belongs to, from its id (`20261201T031500-ab12cd` -> `2026-12-01`)."""
    stamp = datetime.strptime(run_id[:15], "%Y%m%dT%H%M%S")
    return f"{stamp:%Y-%m-%d}"


def is_canary_lineage(lineage: str) -> bool:
    return lineage.startswith(CANARY_LINEAGE)


def canary_revisions(config: RunConfig, models: Sequence[ModelRecord], night: str) -> list[ModelRecord]:
    """Tonight's canary revision of every API model among `models`."""
    if not config.canary.enabled:
        return []
    out = []
    for model in models:
        if model.canary is not None or not plugins.adapters.info(model.adapter).traits.remote:
            continue
        order = datetime.strptime(night, "%Y-%m-%d").timestamp()
        out.append(ModelRecord(
            lineage=f"{CANARY_LINEAGE}{model.model_id}", revision=night, label=f"{model.label} ({night})",
            source=ModelSource.CANARY, adapter=model.adapter, adapter_params=dict(model.adapter_params),
            order_key=order, canary=CanarySpec(of=model.model_id, cells=config.canary.cells, seed=config.canary.seed),
        ))
    return out


def canary_rank(spec: CanarySpec, sample_id: str, attack_hash: str, defense_hash: str, index: int) -> str:
    """Orders a model's cells for its canary: the first `spec.cells` are re-tested, every night the same."""
    return stable_hash([spec.seed, spec.of, sample_id, attack_hash, defense_hash, index])
