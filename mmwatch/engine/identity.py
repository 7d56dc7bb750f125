"""The identity of a cell: a hash of exactly what produced its answer.

A cell is (model revision, sample and its content, attack spec, defense spec, generation
settings, seed, probe index) run through one adapter configuration. The key is built in two
steps: the probe key hashes everything but the adapter, then the adapter's identity (name,
version, and the parameters that change answers: not concurrency, retries, prices or secrets) is
hashed in. The second step alone is what a migration applies to cells keyed before the adapter
was part of the key (storage/migrations/004_plan_identity.py).
"""

from __future__ import annotations

from typing import Any

from mmwatch import plugins
from mmwatch.records import ModelRecord
from mmwatch.types import GenerationParams, stable_hash


def probe_key(model_id: str, sample_id: str, sample_hash: str, attack: dict[str, Any], defense: dict[str, Any],
              generation: GenerationParams, seed: int, probe_index: int = 0) -> str:
    """Everything but the adapter. Batch size does not change what is generated, so it is left out."""
    gen = generation.model_dump(exclude={"batch_size"})
    return stable_hash({"model": model_id, "sample": sample_id, "sample_content": sample_hash, "attack": attack,
                        "defense": defense, "generation": gen, "seed": seed, "probe": probe_index}, length=32)


def with_adapter(key: str, adapter: dict[str, Any]) -> str:
    """A probe key run through one adapter configuration: the cell key."""
    return stable_hash({"probe_key": key, "adapter": adapter}, length=32)


def adapter_identity(adapter: str, params: dict[str, Any]) -> dict[str, Any]:
    """Name, version and the answer-changing parameters (defaults filled in) of an adapter.

    Raises PluginParamsError / UnknownPluginError for parameters or names the registry does not
    know: such a model cannot be built, and must not get cell keys either.
    """
    info = plugins.adapters.info(adapter)
    spec = plugins.adapters.spec(adapter, params)
    kept = {k: v for k, v in spec.params.items() if k not in info.traits.operational_params}
    return {"name": spec.name, "version": spec.version, "params": kept}


def model_identity(model: ModelRecord) -> dict[str, Any]:
    return adapter_identity(model.adapter, dict(model.adapter_params))
