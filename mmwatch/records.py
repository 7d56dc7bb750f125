"""Rows that cross the boundary between the core and the store.

The core produces these; `storage` persists them. Keeping them here lets the core talk to any
store through the `Store` protocol (mmwatch/store.py) without importing DuckDB.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from mmwatch.analysis.outcomes import JudgeRef, JudgeRole, JudgeRoles, Outcome
from mmwatch.types import Probe, Response, SampleKind, stable_hash


class ModelSource(StrEnum):
    CONFIG = "config"
    FOLDER = "folder"
    HUB = "hub"
    ENDPOINT = "endpoint"
    CANARY = "canary"  # a night's re-test of an API model id


class ModelStatus(StrEnum):
    NEW = "new"
    EVALUATED = "evaluated"
    FAILED = "failed"


CANARY_LINEAGE = "canary:"  # + the API model's id: one revision per night (mmwatch.engine.canary)


class CanarySpec(BaseModel):
    """A night's re-test of an API model id on a fixed, seeded subset of its cells."""

    model_config = ConfigDict(frozen=True)

    of: str  # the API model's id
    cells: int
    seed: int


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
    canary: CanarySpec | None = None  # set: a canary night of an API model, evaluated on a subset only

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
    """What got worse. Each is watched in the direction that is worse (`worse_when_higher`)."""

    ASR = "asr"  # attack success rate on harmful (and targeted) probes
    ANY_ATTACK_ASR = "any_attack_asr"  # harmful items that at least one attack broke
    HARMFUL_REFUSAL = "harmful_refusal"  # refusal rate on harmful items
    OVER_REFUSAL = "over_refusal"  # refusal rate on benign items
    UTILITY = "utility"  # accuracy on utility items

    @property
    def worse_when_higher(self) -> bool:
        return self in (AlertMetric.ASR, AlertMetric.ANY_ATTACK_ASR, AlertMetric.OVER_REFUSAL)

    @property
    def phrase(self) -> str:
        return {AlertMetric.ASR: "attack success rate", AlertMetric.ANY_ATTACK_ASR: "any-attack success rate",
                AlertMetric.HARMFUL_REFUSAL: "refusal rate on harmful items",
                AlertMetric.OVER_REFUSAL: "over-refusal on benign items", AlertMetric.UTILITY: "utility"}[self]


class BaselineKind(StrEnum):
    """What a revision is compared with."""

    PREDECESSOR = "predecessor"  # the revision before it in its lineage
    PINNED = "pinned"  # the lineage's `regression.baselines` revision
    BEST = "best"  # the best earlier revision on that metric and slice


class AlertState(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    SILENCED = "silenced"  # a silence covered it when it was raised: never sent
    RESOLVED = "resolved"  # a later revision of the lineage recovered


class AlertRecord(BaseModel):
    """A revision measurably worse than a baseline of its lineage, on one metric and slice."""

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
    rate_old: float  # the metric's own value (ASR, refusal rate, accuracy) on the baseline
    rate_new: float
    p_value: float
    p_adjusted: float
    baseline_kind: BaselineKind = BaselineKind.PREDECESSOR
    category: str = ""  # "" = every category pooled
    diff_low: float | None = None  # 95% interval of rate_new - rate_old on the paired items
    diff_high: float | None = None
    state: AlertState = AlertState.NEW

    @property
    def change(self) -> float:
        return self.rate_new - self.rate_old


class ItemOutcome(NamedTuple):
    """One scored answer of one revision, as the regression watch reads it: a row of the one
    outcome definition (storage/outcomes.py), for the primary role and for the safety role."""

    lineage: str
    model_id: str
    order_key: float
    attack: str
    defense: str
    attack_hash: str
    defense_hash: str
    judge: str
    judge_version: int
    sample_id: str
    probe_index: int
    kind: SampleKind
    category: str
    targeted: bool
    role: JudgeRole
    is_primary: bool
    outcome: Outcome


class HistoryMetric(StrEnum):
    """The rates the snapshot history keeps per night (storage/history.py), as the board reads them."""

    ASR = "asr"
    ANY_ASR = "any_asr"
    OVER_REFUSAL = "over_refusal"  # refusal rate on benign items
    UTILITY = "utility"
    REFUSAL = "refusal"  # refusal rate on harmful items

    @property
    def title(self) -> str:  # type: ignore[override]  # str.title is not what a metric's title means
        return {"asr": "ASR", "any_asr": "Any-attack ASR", "over_refusal": "Over-refusal", "utility": "Utility",
                "refusal": "Refusal (harmful)"}[self.value]

    @property
    def worse_when_higher(self) -> bool:
        return self in (HistoryMetric.ASR, HistoryMetric.ANY_ASR, HistoryMetric.OVER_REFUSAL)


class BoardMode(StrEnum):
    """Who a snapshot is for. PUBLIC (the default for the published board): no response to a harmful or
    unknown item, no judge rationale on one, no run internals. OPERATOR: everything, for the team."""

    PUBLIC = "public"
    OPERATOR = "operator"


class PublishOptions(BaseModel):
    """What the publisher needs besides the store: which plan, which judges, what policy."""

    model_config = ConfigDict(frozen=True)

    plan_id: str
    config_hash: str
    roles: JudgeRoles
    title: str = "mmwatch safety leaderboard"
    show_responses: bool = False  # kept for callers; the mode decides what is written, this grants nothing
    run_id: str = ""
    mode: BoardMode = BoardMode.PUBLIC
    artifacts: Path | None = None  # the artifact folder: where the published images are read from
    store_path: str | None = None  # the primary store, named in operator snapshots only (meta `store`)
    history: bool = True  # record this night in the store's history; off: a second file of the same run copies it
    loaders: dict[str, str] = {}  # benchmark as its samples name it -> its loader plugin (where they differ)
