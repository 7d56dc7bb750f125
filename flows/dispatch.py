"""Fan-out on Prefect: each work unit becomes a run of the unit deployment for its hardware.

`work.deployments` maps a work pool (`gpu`, `cpu`) to its unit deployment. Units are dispatched
one by one and waited for together; Prefect's work pools and concurrency limits decide what runs
when. A unit whose run crashed or failed, or whose heartbeat went quiet for `work.unit_stale_s`
(a worker killed outright leaves its run "Running" on the server), is dispatched again, up to
`work.unit_retries`; the new run computes only the cells the old one had not written (should the
old one still be alive after all, ingest keeps each cell once). A unit still beating but running
`work.unit_timeout_s` after its run started is left alone and reported as unfinished: the next
cycle ingests what it wrote and plans the rest.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from collections.abc import Sequence
from typing import TYPE_CHECKING
from uuid import UUID

from mmwatch.config import Dispatch, RunConfig
from mmwatch.engine.cycle import Dispatcher, in_process
from mmwatch.engine.plan import PlannedCell
from mmwatch.engine.units import UnitReport, WorkUnit
from storage.shards import heartbeat_age, read_report

if TYPE_CHECKING:
    from prefect.client.schemas.objects import FlowRun

POLL_S = 2.0

log = logging.getLogger(__name__)


def dispatcher(config: RunConfig) -> Dispatcher:
    """Units in this process (the embedded default), or as runs of the unit deployments."""
    return PrefectDispatcher(config) if config.work.dispatch is Dispatch.PREFECT else in_process(config)


class PrefectDispatcher:
    def __init__(self, config: RunConfig) -> None:
        self.work = config.work

    def __call__(self, units: Sequence[WorkUnit], cells: dict[str, list[PlannedCell]]) -> list[UnitReport]:
        for unit in units:
            if unit.hardware.value not in self.work.deployments:
                raise ValueError(f"work.deployments names no deployment for pool {unit.hardware.value!r} "
                                 f"(unit of {unit.model.model_id})")
        # Runs are created one by one (a SQLite-backed server refuses bursts), then waited for together.
        runs = {unit.unit_id: self._start(unit) for unit in units}
        attempts = dict.fromkeys(runs, 0)
        reports: dict[str, UnitReport] = {}
        dispatched = datetime.now(UTC)
        by_id = {u.unit_id: u for u in units}
        while runs:
            time.sleep(POLL_S)
            for unit_id, run_id in list(runs.items()):
                unit = by_id[unit_id]
                run = self._read(run_id)
                state = run.state
                # a unit's time counts from when its run started (a queued unit waits for a worker)
                began = run.start_time or dispatched
                ran_s = (datetime.now(UTC) - began).total_seconds()
                if state is not None and state.is_completed():
                    reports[unit_id] = self._report(unit, f"run {run_id} completed without a report")
                elif (state is not None and state.is_final()) or self._lost(unit, run, ran_s):
                    why = (f"run {run_id} ended {state.name}: {state.message or ''}".strip()
                           if state is not None and state.is_final() else
                           f"run {run_id} stopped beating (no heartbeat for {self.work.unit_stale_s:.0f} s): "
                           "its worker is lost")
                    log.warning("unit %s (%s), attempt %d: %s", unit_id, unit.label, attempts[unit_id] + 1, why)
                    if not state or not state.is_final():
                        self._mark_crashed(run_id, why)
                    if attempts[unit_id] < self.work.unit_retries:
                        attempts[unit_id] += 1
                        runs[unit_id] = self._start(unit)
                        continue
                    reports[unit_id] = UnitReport(unit_id=unit_id, model_id=unit.model.model_id, failed_unit=why)
                elif ran_s > self.work.unit_timeout_s:  # never run a unit twice at once: leave it, report it
                    why = (f"run {run_id} still {state.name if state else 'unknown'} "
                           f"{self.work.unit_timeout_s:.0f} s after it started")
                    reports[unit_id] = UnitReport(unit_id=unit_id, model_id=unit.model.model_id, failed_unit=why)
                else:
                    continue
                del runs[unit_id]
        for report in reports.values():
            if report.failed_unit:
                log.error("unit %s did not finish: %s", report.unit_id, report.failed_unit)
        return [reports[u.unit_id] for u in units]

    def _lost(self, unit: WorkUnit, run: FlowRun, ran_s: float) -> bool:
        """A running unit whose heartbeat went quiet (or never came) for `work.unit_stale_s`."""
        if run.state is None or not run.state.is_running() or ran_s <= self.work.unit_stale_s:
            return False
        age = heartbeat_age(unit.results, unit.unit_id)
        return age is None or age > self.work.unit_stale_s

    def _mark_crashed(self, run_id: UUID, why: str) -> None:
        """Tell the server what we concluded, so the UI does not show a dead run as running."""
        from prefect.client.orchestration import get_client
        from prefect.states import Crashed

        try:
            with get_client(sync_client=True) as client:
                client.set_flow_run_state(run_id, Crashed(message=why), force=True)
        except Exception as exc:  # noqa: BLE001 - only a courtesy to the UI
            log.warning("could not mark run %s crashed: %s", run_id, exc)

    def _start(self, unit: WorkUnit) -> UUID:
        from prefect.deployments import run_deployment

        run: FlowRun = run_deployment(  # type: ignore[assignment]  # sync call: a FlowRun, not a coroutine
            name=self.work.deployments[unit.hardware.value], parameters={"unit": unit.model_dump(mode="json")},
            timeout=0, tags=["mmwatch-unit", unit.hardware.value])
        log.info("unit %s (%s) -> flow run %s", unit.unit_id, unit.label, run.id)
        return run.id

    def _read(self, run_id: UUID) -> FlowRun:
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            return client.read_flow_run(run_id)

    def _report(self, unit: WorkUnit, missing: str) -> UnitReport:
        stored = read_report(unit.results, unit.unit_id)
        if stored is None:
            return UnitReport(unit_id=unit.unit_id, model_id=unit.model.model_id, failed_unit=missing)
        return UnitReport.model_validate(stored)
