"""The nightly cycle as a Prefect flow: discover -> plan -> evaluate -> judge -> regressions -> publish.

Tasks are thin wrappers over the core. The store is opened once by the flow: its storage steps
are the only writer of the primary database; readers get the published snapshot.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from mmwatch.engine.discovery import discover
from mmwatch.records import Discovery
from mmwatch import plugins
from mmwatch.config import RunConfig, load_config
from mmwatch.engine.evaluate import ProbeCache, evaluate_model
from mmwatch.judges.stored import judge_stored
from mmwatch.engine.plan import Matrix, Plan, estimated_cost_usd, plan
from mmwatch.engine.provenance import code_version, package_versions
from mmwatch.records import ModelStatus
from mmwatch.analysis.regression import find_regressions
from mmwatch.engine.samples import load_samples
from storage.snapshot import PublishOptions, publish
from storage.store import DuckDBStore

console = Console(stderr=True)


class CycleReport(BaseModel):
    run_id: str
    models: int
    cells_total: int
    cells_stored_before: int
    cells_new: int
    cells_failed: int
    verdicts_new: int
    alerts: list[dict[str, Any]]
    comparisons: int
    skipped_checkpoints: list[str]
    sample_problems: list[str]
    snapshot: str


_task = task(cache_policy=NO_CACHE, persist_result=False)


@_task
def discover_models(config: RunConfig, store: DuckDBStore) -> Discovery:
    found = discover(config)
    store.upsert_models(found.models)
    log = get_run_logger()
    log.info("discovered %d model revision(s); %d checkpoint folder(s) skipped", len(found.models), len(found.skipped))
    for why in found.skipped:
        log.warning("skipped: %s", why)
    return found


@_task
def plan_matrix(config: RunConfig, store: DuckDBStore, found: Discovery) -> tuple[Plan, list[str]]:
    samples, problems = load_samples(config)
    store.upsert_samples(samples)
    matrix = Matrix(
        models=found.models, samples=samples,
        attacks=[plugins.attacks.build(a.name, a.params) for a in config.attacks],
        defenses=[plugins.defenses.build(d.name, d.params) for d in config.defenses],
        generation=config.generation, seed=config.seed,
    )
    result = plan(matrix, store.existing_cell_keys)
    get_run_logger().info(
        "matrix: %d models x %d samples x %d attacks x %d defenses = %d cells; %d stored, %d new "
        "(estimated API cost $%.2f)%s",
        len(matrix.models), len(samples), len(matrix.attacks), len(matrix.defenses), result.total,
        result.stored, len(result.new), estimated_cost_usd(result.new, config.generation.max_new_tokens),
        f"; {result.skipped_no_gradients} gradient cells skipped (adapter has no gradients)"
        if result.skipped_no_gradients else "",
    )
    return result, problems


@_task
def evaluate_models(config: RunConfig, store: DuckDBStore, result: Plan, run_id: str) -> tuple[int, int]:
    log = get_run_logger()
    written = failed = 0
    probe_cache: ProbeCache = {}  # attack images are made once per run, not once per model
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        for model_id, cells in result.by_model().items():
            bar = progress.add_task(f"{model_id[:48]:48}", total=len(cells))
            model = cells[0].model
            try:
                adapter = plugins.adapters.build(model.adapter, model.adapter_params).obj
            except Exception as exc:  # a model that cannot load fails alone
                log.error("cannot load %s: %s", model_id, exc)
                store.set_model_status(model_id, ModelStatus.FAILED)
                continue
            try:
                stats = evaluate_model(cells, adapter, store, run_id, config.generation, config.seed,
                                       progress=lambda n, bar=bar: progress.advance(bar, n), probe_cache=probe_cache)
            finally:
                adapter.close()
            store.set_model_status(model_id, ModelStatus.EVALUATED)
            written += stats.written
            failed += stats.failed
            log.info("%s: %d new cells, %d error rows", model_id, stats.written, stats.failed)
    return written, failed


@_task
def judge_cells(config: RunConfig, store: DuckDBStore, run_id: str) -> int:
    judges = [plugins.judges.build(j.name, j.params) for j in config.judges]
    written = judge_stored(store, judges, run_id)
    get_run_logger().info("new verdicts: %s", ", ".join(f"{k} {v}" for k, v in written.items()))
    return sum(written.values())


@_task
def check_regressions(config: RunConfig, store: DuckDBStore, run_id: str) -> tuple[int, list[dict[str, Any]]]:
    comparisons, alerts = find_regressions(store.paired_outcomes(config.safety_judge), config.regression, run_id)
    store.write_alerts(alerts)
    log = get_run_logger()
    log.info("%d paired comparisons, %d regression alert(s)", len(comparisons), len(alerts))
    for a in alerts:
        log.warning("REGRESSION %s vs %s, %s/%s: ASR %.0f%% -> %.0f%% (p=%.3g adj. %.3g, n=%d)",
                    a.model_id, a.baseline_id, a.attack, a.defense, 100 * a.rate_old, 100 * a.rate_new,
                    a.p_value, a.p_adjusted, a.n_pairs)
    return len(comparisons), [a.model_dump() for a in alerts]


@_task
def publish_snapshot(config: RunConfig, store: DuckDBStore, run_id: str) -> str:
    options = PublishOptions(safety_judge=config.safety_judge, utility_judge=config.utility_judge,
                             title=config.leaderboard.title, show_responses=config.leaderboard.show_responses,
                             run_id=run_id)
    path = publish(store, config.store.snapshot, options)
    get_run_logger().info("published leaderboard snapshot %s", path)
    return str(path)


def new_run_id() -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


@flow(name="mmwatch-nightly", log_prints=True)
def nightly(config_path: str) -> CycleReport:
    """One full cycle on the config's models; safe to re-run: stored cells are never redone."""
    config = load_config(Path(config_path))
    run_id = new_run_id()
    with DuckDBStore(config.store.path, config.store.artifacts) as store:
        store.start_run(run_id, config.name, config.hash, config.model_dump_json(), code_version(), package_versions())
        try:
            found = discover_models(config, store)
            result, problems = plan_matrix(config, store, found)
            written, failed = evaluate_models(config, store, result, run_id)
            verdicts = judge_cells(config, store, run_id)
            n_comparisons, alerts = check_regressions(config, store, run_id)
            store.finish_run(run_id, "completed", result.total, written, failed,
                             f"{len(alerts)} alert(s)" + (f"; {len(problems)} bad benchmark row(s)" if problems else ""))
            snapshot = publish_snapshot(config, store, run_id)
        except BaseException as exc:
            store.finish_run(run_id, "failed", 0, 0, 0, f"{type(exc).__name__}: {exc}")
            raise
    return CycleReport(
        run_id=run_id, models=len(found.models), cells_total=result.total, cells_stored_before=result.stored,
        cells_new=written, cells_failed=failed, verdicts_new=verdicts, alerts=alerts, comparisons=n_comparisons,
        skipped_checkpoints=found.skipped, sample_problems=problems, snapshot=snapshot,
    )
