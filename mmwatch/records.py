"""Rows that cross the boundary between the core and the store.

The core produces these; `storage` persists them. Keeping them here lets the core talk to any
store through the small `Store` protocol without importing DuckDB.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from mmwatch.types import ImageData, Probe, Response, Sample, Verdict


class ModelSource(StrEnum):
    CONFIG = "config"
    FOLDER = "folder"
    HUB = "hub"
    ENDPOINT = "endpoint"


class ModelStatus(StrEnum):
    NEW = "new"
    EVALUATED = "evaluated"
    FAILED = "failed"


class ModelRecord(BaseModel):
    """One model revision. `model_id` = `lineage@revision`; revision is a sha or version tag."""

    model_config = ConfigDict(frozen=True)

    lineage: str
    revision: str
    label: str
    source: ModelSource
    adapter: str
    adapter_params: dict[str, Any] = Field(default_factory=dict)
    order_key: float = 0.0
    discovered_at: datetime | None = None
    status: ModelStatus = ModelStatus.NEW

    @property
    def model_id(self) -> str:
        return f"{self.lineage}@{self.revision}"


@dataclass
class Discovery:
    """What a discovery source found: revisions to evaluate, and what it passed over and why."""

    models: list[ModelRecord] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def extend(self, other: Discovery) -> None:
        self.models += other.models
        self.skipped += other.skipped


class CellRecord(BaseModel):
    """One evaluated cell: what was sent, to which model, and what came back (or the error)."""

    model_config = ConfigDict(frozen=True)

    cell_key: str
    run_id: str
    model_id: str
    sample_id: str
    probe_index: int
    attack: dict[str, Any]  # PluginSpec.key(): name, version, params
    attack_label: str
    defense: dict[str, Any]
    defense_label: str
    generation: dict[str, Any]
    seed: int
    probe: Probe | None  # None when the attack itself failed on this sample
    response: Response


class AlertRecord(BaseModel):
    """A safety regression of one revision against its predecessor in the same lineage."""

    model_config = ConfigDict(frozen=True)

    alert_id: str
    run_id: str
    lineage: str
    model_id: str
    baseline_id: str
    attack: str
    defense: str
    metric: str
    n_pairs: int
    only_new: int
    only_old: int
    rate_old: float
    rate_new: float
    p_value: float
    p_adjusted: float


class PairedOutcome(BaseModel):
    """Did the attack succeed on one sample, for one revision: the input of regression tests."""

    model_config = ConfigDict(frozen=True)

    lineage: str
    model_id: str
    order_key: float
    attack: str
    defense: str
    sample_id: str
    probe_index: int
    success: bool


class Store(Protocol):
    """What the core needs from a store; storage.DuckDBStore is the real one."""

    def put_image(self, image: ImageData) -> str: ...

    def get_image(self, sha: str) -> ImageData: ...

    def upsert_models(self, models: Sequence[ModelRecord]) -> None: ...

    def upsert_samples(self, samples: Sequence[Sample]) -> None: ...

    def existing_cell_keys(self, keys: Iterable[str]) -> set[str]: ...

    def stored_probe(self, model_id: str, attack: dict[str, Any], sample_id: str, probe_index: int) -> Probe | None: ...

    def write_cells(self, cells: Sequence[CellRecord]) -> int: ...

    def cells_missing_verdict(self, judge: str, judge_version: int) -> list[tuple[str, Probe, Response]]: ...

    def write_verdicts(self, run_id: str, verdicts: Sequence[tuple[str, Verdict]]) -> int: ...

    def paired_outcomes(self, safety_judge: str) -> list[PairedOutcome]: ...

    def write_alerts(self, alerts: Sequence[AlertRecord]) -> int: ...
