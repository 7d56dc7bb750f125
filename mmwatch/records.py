"""Rows that cross the boundary between the core and the store.

The core produces these; `storage` persists them. Keeping them here lets the core talk to any
store through the `Store` protocol (mmwatch/store.py) without importing DuckDB.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mmwatch.analysis.outcomes import JudgeRef, JudgeRoles
from mmwatch.types import Probe, Response, stable_hash


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


class RunStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # the process ended without finishing (killed); found by a later cycle
    SKIPPED = "skipped"  # another cycle held the store for longer than this one would wait


class RunRecord(BaseModel):
    """What a run row records about the code and config that produced its cells."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    config_name: str
    config_hash: str
    config_json: str
    code_version: str
    package_versions: dict[str, str]


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
    adapter: dict[str, Any]  # engine.identity.adapter_identity(): what of the adapter changes answers
    generation: dict[str, Any]
    seed: int
    probe: Probe | None  # None when the attack itself failed on this sample
    response: Response
    attempt: int = 1  # an error cell is computed again on later cycles, up to work.max_attempts

    @property
    def attack_hash(self) -> str:
        return stable_hash(self.attack)

    @property
    def defense_hash(self) -> str:
        return stable_hash(self.defense)


class SpecKind(StrEnum):
    ATTACK = "attack"
    DEFENSE = "defense"


class PlanSpec(BaseModel):
    """An attack or defense of the current matrix: its hash, its label, whether it is the baseline,
    and (attacks) whether its probes may carry a target string."""

    model_config = ConfigDict(frozen=True)

    kind: SpecKind
    spec_hash: str
    label: str
    baseline: bool
    targeted: bool = False


class PlanRecord(BaseModel):
    """The cells the current config names: every published number counts exactly these."""

    model_config = ConfigDict(frozen=True)

    plan_id: str
    config_hash: str
    cell_keys: tuple[str, ...]
    specs: tuple[PlanSpec, ...]


class StoredAnswer(BaseModel):
    """A stored cell read back for a judge: the probe as it was sent and the answer."""

    model_config = ConfigDict(frozen=True)

    cell_key: str
    probe: Probe
    response: Response


class AlertMetric(StrEnum):
    ASR = "asr"


class AlertRecord(BaseModel):
    """A safety regression of one revision against its predecessor in the same lineage."""

    model_config = ConfigDict(frozen=True)

    alert_id: str
    run_id: str
    lineage: str
    model_id: str
    baseline_id: str
    attack: str  # labels, for people
    defense: str
    attack_hash: str  # identities, for joins
    defense_hash: str
    judge: str
    judge_version: int
    metric: AlertMetric
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
    attack_hash: str
    defense_hash: str
    judge: JudgeRef
    sample_id: str
    probe_index: int
    success: bool


class PublishOptions(BaseModel):
    """What the publisher needs besides the store: which plan, which judges, what policy."""

    model_config = ConfigDict(frozen=True)

    plan_id: str
    config_hash: str
    roles: JudgeRoles
    title: str = "mmwatch safety leaderboard"
    show_responses: bool = False  # raw responses to harmful items stay private unless set
    run_id: str = ""
