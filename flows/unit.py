"""One work unit as a Prefect flow: what the `mmwatch-unit/gpu` and `mmwatch-unit/cpu` deployments run.

The worker rebuilds the unit's cells from the config it carries, holds the unit's concurrency
limit while it runs (`mmwatch-gpu`: one slot per GPU; `mmwatch-api-<host>`: one slot per call in
flight to that provider; a limit that does not exist does not limit), beats a heartbeat, writes
result shards and a report to the results location, and never opens the primary store.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from prefect import flow

from mmwatch.engine.units import WorkUnit, rebuild_cells
from mmwatch.engine.workers import local_judges, run_unit
from mmwatch.plugins import close_plugin
from mmwatch.secrets import ScrubbingRecords, run_secrets
from storage.shards import ShardWriter


def _limit(unit: WorkUnit) -> AbstractContextManager[Any]:
    if unit.limit is None:
        return nullcontext()
    from prefect.concurrency.sync import concurrency

    name, slots = unit.limit
    return concurrency(name, occupy=slots, strict=False)


@contextmanager
def _heartbeat(sink: ShardWriter, every_s: float) -> Iterator[None]:
    """Beat every `every_s` while the unit runs; a killed worker stops, and the orchestrator sees it."""
    done = threading.Event()

    def beat() -> None:
        while not done.is_set():
            try:
                sink.beat()
            except OSError as exc:  # a results location briefly unreachable is not fatal here
                logging.getLogger(__name__).warning("heartbeat not written: %s", exc)
            done.wait(every_s)

    thread = threading.Thread(target=beat, name="mmwatch-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(timeout=5)


@flow(name="mmwatch-unit", log_prints=True)
def unit(unit: dict[str, Any]) -> dict[str, Any]:
    """Run one work unit; returns (and writes beside its shards) what it did."""
    work = WorkUnit.model_validate(unit)
    ScrubbingRecords.install(run_secrets(work.config))  # before the first line this worker logs for the unit
    sink = ShardWriter(work.results, work.unit_id, work.run_id)
    judges: list[Any] = []
    try:
        with _heartbeat(sink, work.config.work.heartbeat_s):
            cells, missing = rebuild_cells(work)
            judges = local_judges(work.config)
            with _limit(work):
                report = run_unit(work, cells, sink, judges)
    finally:
        for judge in judges:
            close_plugin(judge.obj)
    report.missing = missing
    sink.write_report(report)
    return report.model_dump(mode="json")
