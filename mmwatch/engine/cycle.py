"""The nightly cycle, written once:
discover -> ingest leftovers -> plan -> units -> dispatch -> ingest -> judge -> regressions -> publish.

The new cells are split into work units (engine/units.py) that write result shards; the store,
the only writer of the primary database, ingests them. A `Dispatcher` runs the units: in this
process by default (`mmwatch run`, `demo`, `watch`: no server), or as Prefect deployment runs on
work pools (flows/dispatch.py). Shards a killed run left behind are ingested before planning, so
nothing is computed twice. A `StepRunner` runs each step as a Prefect task in the flow; without
one the steps run directly. Every number the cycle publishes counts exactly this plan's cells.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import ParamSpec, Protocol, TypeVar

from pydantic import BaseModel

from mmwatch import plugins
from mmwatch.alerts.delivery import deliver
from mmwatch.alerts.lifecycle import NightWatch, watch_night
from mmwatch.config import RunConfig
from mmwatch.engine.canary import canary_revisions, night_of
from mmwatch.engine.discovery import discover, watched_lineages
from mmwatch.engine.plan import Matrix, Plan, PlannedCell, estimated_cost_usd, plan
from mmwatch.engine.units import ReusedProbe, UnitReport, WorkUnit, split_units
from mmwatch.engine.workers import run_units_locally
from mmwatch.engine.provenance import code_version, package_versions
from mmwatch.engine.samples import load_samples
from mmwatch.judges.runner import JudgePlugin
from mmwatch.judges.stored import judge_stored
from mmwatch.plugins import close_plugin
from mmwatch.records import (
    AlertRecord,
    BoardMode,
    Discovery,
    ModelStatus,
    PlanRecord,
    PublishOptions,
    RunRecord,
    RunStatus,
)
from mmwatch.secrets import Secrets, run_secrets
from mmwatch.engine.stopping import is_stop, stop_reason
from mmwatch.store import Store

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")


class StepRunner(Protocol):
    """Runs one named step of the cycle: directly, or as a Prefect task."""

    def __call__(self, name: str, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T: ...


def run_directly(name: str, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    return fn(*args, **kwargs)


class Dispatcher(Protocol):
    """Runs work units to completion (or failure) and reports on each; `cells` by unit id are the
    planned cells, for a dispatcher that runs units in this process."""

    def __call__(self, units: Sequence[WorkUnit], cells: dict[str, list[PlannedCell]]) -> list[UnitReport]: ...


def in_process(config: RunConfig) -> Dispatcher:
    return lambda units, cells: run_units_locally(units, cells, config)


class CycleReport(BaseModel):
    run_id: str
    config_hash: str
    plan_id: str
    models: int
    cells_total: int
    cells_stored_before: int
    cells_new: int
    cells_failed: int
    verdicts_new: int
    alerts: list[AlertRecord]  # raised tonight (and not silenced): what was sent
    comparisons: int
    alerts_silenced: int = 0
    alerts_resolved: int = 0
    alerts_undelivered: dict[str, str] = {}  # sink -> why it still holds alerts (sent on the next cycle)
    skipped_checkpoints: list[str]
    sample_problems: list[str]
    failed_models: dict[str, str]  # model id -> why it could not be evaluated
    failed_units: dict[str, str] = {}  # unit id -> why its run did not finish (the next cycle does the rest)
    units: int = 0
    snapshot: str


@dataclass
class Planned:
    plan: Plan
    record: PlanRecord
    sample_problems: list[str]


def new_run_id() -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def discover_models(config: RunConfig, store: Store, run_id: str = "") -> Discovery:
    """The revisions to evaluate, and tonight's canary of each API model (mmwatch.engine.canary)."""
    found = discover(config, run_secrets(config))
    if run_id:
        found.models += canary_revisions(config, found.models, night_of(run_id))
    store.upsert_models(found.models)
    log.info("discovered %d model revision(s); %d checkpoint folder(s) skipped", len(found.models), len(found.skipped))
    for why in found.skipped:
        log.warning("skipped: %s", why)
    return found


def plan_matrix(config: RunConfig, store: Store, found: Discovery) -> Planned:
    samples, problems = load_samples(config)
    store.upsert_samples(samples)
    available = {m.model_id for m in found.models}
    lineages = watched_lineages(config, found)
    archived = [m for m in store.models() if m.lineage in lineages and m.model_id not in available]
    matrix = Matrix(
        models=found.models, samples=samples, archived=archived,
        attacks=[plugins.attacks.build(a.name, a.params) for a in config.attacks],
        defenses=[plugins.defenses.build(d.name, d.params) for d in config.defenses],
        generation=config.generation, seed=config.seed,
    )
    max_attempts = config.work.max_attempts
    result = plan(matrix, lambda keys: store.existing_cell_keys(keys, max_attempts), store.error_attempts)
    record = result.record(config.hash)
    store.record_plan(record)
    for model_id, why in result.unbuildable.items():
        log.error("cannot plan %s: %s", model_id, why)
        store.set_model_status(model_id, ModelStatus.FAILED)
    retried = sum(1 for c in result.new if c.attempt > 1)
    log.info(
        "matrix: %d models (+%d earlier revisions) x %d samples x %d attacks x %d defenses = %d cells; %d stored, "
        "%d new%s (estimated API cost $%.2f)%s", len(matrix.models), len(archived), len(samples), len(matrix.attacks),
        len(matrix.defenses), result.total, result.stored, len(result.new),
        f" ({retried} error cells again)" if retried else "",
        estimated_cost_usd(result.new, config.generation.max_new_tokens),
        f"; {result.skipped_no_gradients} gradient cells skipped (adapter has no gradients)"
        if result.skipped_no_gradients else "",
    )
    return Planned(result, record, problems)


def ingest_results(config: RunConfig, store: Store) -> tuple[int, int]:
    """Cells and local verdicts of every shard in the results location not ingested yet."""
    cells, verdicts = store.ingest_shards(config.store.results_location, torn_after_s=config.work.unit_stale_s)
    if cells or verdicts:
        log.info("ingested %d cells and %d verdicts from result shards in %s", cells, verdicts,
                 config.store.results_location)
    return cells, verdicts


def make_units(config: RunConfig, store: Store, planned: Planned, run_id: str) -> list[WorkUnit]:
    """The new cells as work units; a white-box image an earlier run made travels with its unit."""
    reused: dict[str, list[ReusedProbe]] = {}
    for cell in planned.plan.new:
        if cell.attack.traits.needs_gradients:
            probe = store.stored_probe(cell.model.model_id, cell.attack.spec.hash, cell.sample.id, cell.probe_index)
            if probe is not None:
                reused.setdefault(cell.model.model_id, []).append(
                    ReusedProbe(attack_hash=cell.attack.spec.hash, probe=probe))
    units = split_units(planned.plan.new, config, run_id, reused)
    log.info("%d work unit(s) of up to %d cells", len(units), config.work.shard_size)
    return units


def dispatch_units(config: RunConfig, store: Store, planned: Planned, units: list[WorkUnit],
                   dispatch: Dispatcher) -> list[UnitReport]:
    by_key = {c.key: c for c in planned.plan.new}
    cells = {u.unit_id: [by_key[c.key].with_attempt(c.attempt) for c in u.cells] for u in units}
    reports = dispatch(units, cells) if units else []
    for report in reports:
        if report.failed_model:
            store.set_model_status(report.model_id, ModelStatus.FAILED)
        if report.missing:
            log.error("unit %s: %d cell(s) could not be rebuilt on the worker", report.unit_id, len(report.missing))
    evaluated = {u.model.model_id for u in units} - {r.model_id for r in reports if r.failed_model}
    for model_id in evaluated:
        store.set_model_status(model_id, ModelStatus.EVALUATED)
    return reports


def judge_cells(config: RunConfig, store: Store, planned: Planned, run_id: str) -> int:
    judges: list[JudgePlugin] = []
    try:
        for ref in config.judges:
            judges.append(plugins.judges.build(ref.name, ref.params))
        written = judge_stored(store, planned.record.plan_id, judges, run_id, secrets=run_secrets(config))
    finally:  # a judge holding a model (an LLM judge on a GPU) is released even if another failed to build
        for judge in judges:
            close_plugin(judge.obj)
    log.info("new verdicts: %s", ", ".join(f"{k} {v}" for k, v in written.items()))
    return sum(written.values())


def check_regressions(config: RunConfig, store: Store, planned: Planned, run_id: str) -> NightWatch:
    """Raise what got worse (once), resolve what recovered, and send the new alerts to the sinks."""
    night = watch_night(config, store, planned.record.plan_id, run_id)
    for a in night.raised:
        log.warning("REGRESSION %s vs %s %s (%s/%s%s): %s %.0f%% -> %.0f%% (p adj. %.3g, n=%d, judge %s)",
                    a.model_id, a.baseline_kind.value, a.baseline_id, a.attack, a.defense,
                    f"/{a.category}" if a.category else "", a.metric.phrase, 100 * a.rate_old, 100 * a.rate_new,
                    a.p_adjusted, a.n_pairs, a.judge)
    night.delivered = deliver(config, store, night.raised)
    return night


def publish_snapshot(config: RunConfig, store: Store, planned: Planned, run_id: str) -> Path:
    """The snapshot at store.snapshot, in the configured mode; and the operator snapshot, when one is
    configured. The night's history is recorded by the first only: the second copies it."""
    board = config.leaderboard
    options = PublishOptions(plan_id=planned.record.plan_id, config_hash=config.hash, roles=config.judge_roles(),
                             loaders=config.loaders(),
                             title=board.title, show_responses=board.show_responses, run_id=run_id,
                             mode=board.mode, artifacts=config.store.artifacts,
                             store_path=str(config.store.path.resolve()))
    path = store.publish(config.store.snapshot, options)
    log.info("published leaderboard snapshot %s (%s, plan %s, config %s)", path, board.mode.value,
             options.plan_id, options.config_hash)
    if board.operator_snapshot is not None:
        operator = options.model_copy(update={"mode": BoardMode.OPERATOR, "history": False})
        log.info("published operator snapshot %s", store.publish(board.operator_snapshot, operator))
    return path


@dataclass
class _Progress:
    """What a cycle has done so far: what its run row says if the cycle stops part-way."""

    planned: int = 0
    plan_id: str | None = None
    dispatched: bool = False


def run_cycle(config: RunConfig, store: Store, *, run_id: str | None = None,
              step: StepRunner = run_directly, dispatch: Dispatcher | None = None) -> CycleReport:
    """One full cycle; safe to re-run: stored cells are never computed again. The run row says
    `completed` only once the snapshot is published, and counts the cells the run stored."""
    run_id = run_id or new_run_id()
    dispatch = dispatch or in_process(config)
    secrets = run_secrets(config)
    store.start_run(RunRecord(run_id=run_id, config_name=config.name, config_hash=config.hash,
                              config_json=config.model_dump_json(), code_version=code_version(),
                              package_versions=package_versions()))
    stale = store.close_interrupted_runs(run_id)
    for earlier in stale:
        log.warning("run %s was interrupted (its process ended before it finished)", earlier)
    done = _Progress()
    try:
        found = step("discover", discover_models, config, store, run_id)
        leftover, leftover_verdicts = step("ingest-leftovers", ingest_results, config, store)
        planned = step("plan", plan_matrix, config, store, found)
        done.planned, done.plan_id = planned.plan.total, planned.record.plan_id
        units = step("units", make_units, config, store, planned, run_id)
        done.dispatched = True
        reports = step("evaluate", dispatch_units, config, store, planned, units, dispatch)
        ingested, ingested_verdicts = step("ingest", ingest_results, config, store)
        store.recount_finished_runs()  # a unit of an earlier night that finished late counts as that night's
        failed_models = {r.model_id: secrets.scrub(r.failed_model) for r in reports if r.failed_model}
        failed_units = {r.unit_id: secrets.scrub(r.failed_unit) for r in reports if r.failed_unit}
        verdicts = leftover_verdicts + ingested_verdicts + step("judge", judge_cells, config, store, planned, run_id)
        night = step("regressions", check_regressions, config, store, planned, run_id)
        alerts = night.raised
        notes = [f"{len(alerts)} new alert(s)"]
        notes += [f"alerts waiting for {', '.join(night.delivered.pending)}"] if night.delivered.pending else []
        notes += [f"{len(planned.sample_problems)} bad benchmark row(s)"] if planned.sample_problems else []
        notes += [f"{len(failed_models)} model(s) failed"] if failed_models else []
        notes += [f"{len(failed_units)} unit(s) unfinished"] if failed_units else []
        notes += [f"{leftover} cells from an earlier run's shards"] if leftover else []
        new, failed_cells = store.recount_run(run_id)
        # Counted before publishing, so the snapshot's row for this run is whole; `completed` after.
        store.finish_run(run_id, RunStatus.RUNNING, planned.plan.total, new, failed_cells, "; ".join(notes),
                         planned.record.plan_id)
        snapshot = step("publish", publish_snapshot, config, store, planned, run_id)
        store.finish_run(run_id, RunStatus.COMPLETED, planned.plan.total, new, failed_cells, "; ".join(notes),
                         planned.record.plan_id)
    except BaseException as exc:
        _record_stop(config, store, run_id, done, exc, secrets)
        raise
    return CycleReport(
        run_id=run_id, config_hash=config.hash, plan_id=planned.record.plan_id, models=len(found.models),
        cells_total=planned.plan.total, cells_stored_before=planned.plan.stored, cells_new=leftover + ingested,
        cells_failed=failed_cells, verdicts_new=verdicts, alerts=alerts, comparisons=night.comparisons,
        alerts_silenced=len(night.silenced), alerts_resolved=len(night.resolved),
        alerts_undelivered=night.delivered.pending,
        skipped_checkpoints=found.skipped, sample_problems=planned.sample_problems,
        failed_models={**planned.plan.unbuildable, **failed_models}, failed_units=failed_units, units=len(units),
        snapshot=str(snapshot),
    )


def _record_stop(config: RunConfig, store: Store, run_id: str, done: _Progress, exc: BaseException,
                 secrets: Secrets) -> None:
    """The run row of a cycle that stopped part-way: interrupted (a signal) or failed, with the cells it
    did store. After a stop, the shards written so far are ingested first, so none of them is lost."""
    stopped = is_stop(exc)
    if stopped and done.dispatched:
        try:
            ingest_results(config, store)
        except Exception as ingest_exc:  # noqa: BLE001 - the next run ingests them; the row is written anyway
            log.warning("shards not ingested after the stop (the next run will): %s", ingest_exc)
    new, failed = store.recount_run(run_id)
    why = stop_reason(exc)
    status = RunStatus.INTERRUPTED if stopped else RunStatus.FAILED
    store.finish_run(run_id, status, done.planned, new, failed, secrets.scrub(why), done.plan_id)
    log.error("run %s %s after storing %d cell(s): %s", run_id, status.value, new, secrets.scrub(why))
