"""What the core needs from a store: the engine, judges, regressions and the cycle are typed
against this protocol, and storage.DuckDBStore satisfies it (the type checker proves it where
the flow and the CLI hand a DuckDBStore to the cycle).

A store keeps cells by key and never computes anything twice; it answers questions about the
current plan only (`plan_id`), so older cells stay stored without being counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol

from mmwatch.analysis.outcomes import JudgeRef, JudgeRoles
from mmwatch.records import (
    AlertMetric,
    AlertRecord,
    AlertState,
    CellRecord,
    ModelRecord,
    ModelStatus,
    ItemOutcome,
    PlanRecord,
    PublishOptions,
    RunRecord,
    RunStatus,
    StoredAnswer,
)
from mmwatch.types import ImageData, Probe, Sample, SampleKind, Verdict


class Store(Protocol):
    # images, content-addressed
    def put_image(self, image: ImageData) -> str: ...

    def get_image(self, sha: str) -> ImageData: ...

    # runs
    def start_run(self, run: RunRecord) -> None: ...

    def finish_run(self, run_id: str, status: RunStatus, planned: int, new: int, failed: int, message: str,
                   plan_id: str | None = None) -> None: ...

    def close_interrupted_runs(self, by_run: str) -> list[str]: ...

    def recount_finished_runs(self) -> None:
        """Recount every finished run's cells (a later run may have ingested shards it wrote)."""
        ...

    def recount_run(self, run_id: str) -> tuple[int, int]:
        """Set the run's cell counts to the cells it stored (and how many are error rows); returns them."""
        ...

    # models and samples
    def upsert_models(self, models: Sequence[ModelRecord]) -> None: ...

    def models(self) -> list[ModelRecord]: ...

    def set_model_status(self, model_id: str, status: ModelStatus) -> None: ...

    def upsert_samples(self, samples: Sequence[Sample]) -> None: ...

    # cells of a plan
    def existing_cell_keys(self, keys: Iterable[str], max_attempts: int | None = None) -> set[str]: ...

    def error_attempts(self, keys: Iterable[str]) -> dict[str, int]: ...

    def record_plan(self, plan: PlanRecord) -> None: ...

    def stored_probe(self, model_id: str, attack_hash: str, sample_id: str, probe_index: int) -> Probe | None: ...

    def write_cells(self, cells: Sequence[CellRecord]) -> int: ...

    # what work units wrote to the results location (a folder or an fsspec URL)
    def ingest_shards(self, results: str, torn_after_s: float | None = None) -> tuple[int, int]: ...

    # verdicts
    def cells_missing_verdict(self, plan_id: str, judge: JudgeRef, kinds: Sequence[SampleKind] | None,
                              target_only: bool, with_images: bool) -> list[StoredAnswer]: ...

    def write_verdicts(self, run_id: str, verdicts: Sequence[tuple[str, Verdict]]) -> int: ...

    # what the numbers are made of
    def item_outcomes(self, plan_id: str, roles: JudgeRoles) -> list[ItemOutcome]: ...

    # alerts: raised once (returns those not raised before), their state, silences, deliveries
    def write_alerts(self, alerts: Sequence[AlertRecord]) -> list[AlertRecord]: ...

    def alerts(self, states: Sequence[AlertState] = ()) -> list[tuple[AlertRecord, datetime, str | None]]: ...

    def set_alert_state(self, alert_id: str, state: AlertState, note: str | None = None) -> bool: ...

    def add_silence(self, lineage: str, until: datetime, metric: AlertMetric | None = None,
                    reason: str | None = None) -> str: ...

    def queue_deliveries(self, alert_ids: Sequence[str], sinks: Sequence[tuple[str, str]]) -> None: ...

    def pending_deliveries(self, sink: str) -> list[AlertRecord]: ...

    def record_delivery(self, sink: str, alert_ids: Sequence[str], error: str | None, tries: int) -> None: ...

    def watch_marks(self, plan_id: str) -> dict[str, int]: ...

    def set_watch_marks(self, plan_id: str, marks: dict[str, int]) -> None: ...

    def publish(self, snapshot: Path, options: PublishOptions) -> Path: ...
