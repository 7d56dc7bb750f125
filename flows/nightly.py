"""The nightly cycle as a Prefect flow: a thin caller of `mmwatch.engine.cycle.run_cycle`.

Each step of the cycle (discover, plan, units, evaluate, ingest, judge, regressions, publish) runs
as a Prefect task, so a Prefect server shows where a night spent its time; what the steps do is
written once, in the core. The flow opens the store: its steps are the only writer of the primary
database. With `work.dispatch: prefect` the units run as deployment runs on work pools.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.dispatch import dispatcher
from mmwatch.config import RunConfig, load_config
from mmwatch.engine.cycle import CycleReport, run_cycle
from mmwatch.engine.preflight import preflight
from mmwatch.secrets import ScrubbingRecords, run_secrets
from notifications.prefect_event import NAME as PREFECT_EVENT
from storage.store import DuckDBStore

P = ParamSpec("P")
T = TypeVar("T")


def prefect_step(name: str, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run one cycle step as a Prefect task (no caching: the store decides what is new)."""
    return task(name=name, cache_policy=NO_CACHE, persist_result=False)(fn)(*args, **kwargs)


@flow(name="mmwatch-nightly", log_prints=True)
def nightly(config_path: str, config: RunConfig | None = None) -> CycleReport:
    """One full cycle; `config` is the already loaded `config_path` when the caller has it."""
    if "{{" in config_path:
        raise ValueError(f"config_path {config_path!r} is an unresolved placeholder: register the deployments "
                         "with `mmwatch deploy --config <config>`")
    if config is None:  # a worker's run: check everything before any work, as the command line does
        config = load_config(Path(config_path))
        preflight(config, config_path)
    loaded = config
    ScrubbingRecords.install(run_secrets(loaded))
    with DuckDBStore(loaded.store.path, loaded.store.artifacts, wait_s=loaded.store.wait_s) as store:
        report = run_cycle(loaded, store, step=prefect_step, dispatch=dispatcher(loaded))
    if report.alerts and not any(ref.name == PREFECT_EVENT for ref in loaded.alerts.sinks):
        _emit_events(report)
    return report  # its `alerts` are the night's new alerts: the flow run's result carries them


def _emit_events(report: CycleReport) -> None:
    """One `mmwatch.regression.<metric>` Prefect event per new alert, for Automations to act on
    (a config that lists the `prefect-event` sink sends them through the sink's outbox instead)."""
    from datetime import UTC, datetime

    from mmwatch.alerts.sinks import AlertMessage, SinkError
    from notifications.prefect_event import PrefectEventSink

    messages = [AlertMessage.of(a, None, datetime.now(UTC)) for a in report.alerts]
    try:
        PrefectEventSink().send(messages)
    except SinkError as exc:  # no Prefect API (a local run): the alerts are stored and sent by the sinks anyway
        logging.getLogger(__name__).warning("no Prefect events for %d alert(s): %s", len(messages), exc)
