"""The nightly cycle from the command line: `run` once, `demo` on tiny models, `watch` on a cron.

Every way in goes through `_run_cycle`, so a held store, a bad config and a signal end the same way
whichever command started the cycle.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from mmwatch.alerts.sinks import AlertMessage
from mmwatch.cli import DEFAULT_CONFIG, ConfigOption, _load, app, console, err
from mmwatch.config import ConfigError, RunConfig

if TYPE_CHECKING:
    from mmwatch.engine.cycle import CycleReport

ALERT_EXIT = 3  # --fail-on-alert: the cycle completed and raised a new alert
STORE_BUSY_EXIT = 4  # another cycle holds the store; a stop by SIGINT exits 130, by SIGTERM 143


def _prefect_env() -> None:
    """Keep Prefect local and quiet: no telemetry, its state inside the working folder."""
    os.environ.setdefault("PREFECT_HOME", str(Path(".prefect").resolve()))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "mmwatch,adapters,storage")  # the core's logs in Prefect's
    os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")  # a cycle run without a flow


def _through_prefect(choice: bool | None) -> bool:
    """Through the Prefect flow when asked, or when a Prefect server is configured (PREFECT_API_URL);
    else the same cycle runs in this process without starting a server (the embedded default)."""
    return choice if choice is not None else bool(os.environ.get("PREFECT_API_URL"))


def _preflight(config: RunConfig, path: Path) -> None:
    """Benchmarks loaded, attacks and defenses built: a config problem exits 2 before any work."""
    from mmwatch.engine.preflight import preflight

    try:
        preflight(config, path)
    except ConfigError as exc:
        err.print(f"[bold red]config error[/]: {escape(str(exc))}", highlight=False)
        raise typer.Exit(code=2) from None


def _run_cycle(config_path: Path, config: RunConfig | None = None, prefect: bool | None = None) -> CycleReport:
    """One cycle; a store another cycle holds (past `store.wait_s`) exits with code 4 and a run row,
    one that cannot be opened exits 2; SIGINT or SIGTERM stop it cleanly (exit 130 / 143)."""
    _prefect_env()
    from mmwatch.engine.stopping import is_stop, stop_on_signals, stop_reason
    from storage.store import StoreBusy, StoreError

    loaded = config if config is not None else _load(config_path)
    _preflight(loaded, config_path)
    try:
        with stop_on_signals():
            if _through_prefect(prefect):
                from flows.nightly import nightly
                from storage.store import DuckDBStore

                # A held or broken store is reported here, in one line, not as the flow's traceback.
                DuckDBStore(loaded.store.path, loaded.store.artifacts, wait_s=loaded.store.wait_s).close()
                report = nightly(str(config_path), config=loaded)
            else:
                from flows.dispatch import dispatcher
                from mmwatch.engine.cycle import run_cycle
                from storage.store import DuckDBStore

                with DuckDBStore(loaded.store.path, loaded.store.artifacts, wait_s=loaded.store.wait_s) as store:
                    report = run_cycle(loaded, store, dispatch=dispatcher(loaded))
    except StoreBusy as exc:
        _record_skipped(loaded, str(exc))
        err.print(f"[bold red]not run[/]: {escape(str(exc))}", highlight=False)
        raise typer.Exit(code=STORE_BUSY_EXIT) from None
    except StoreError as exc:
        err.print(f"[bold red]not run[/]: {escape(str(exc))}", highlight=False)
        raise typer.Exit(code=2) from None
    except BaseException as exc:  # Ctrl-C, SIGTERM (ours, or Prefect's TerminationSignal): a clean stop
        if not is_stop(exc):
            raise
        why = stop_reason(exc)
        err.print(f"[bold red]stopped[/]: {escape(why)}; the cells stored so far are kept and the run is marked "
                  "interrupted", highlight=False)
        raise typer.Exit(code=130 if "SIGINT" in why else 143) from None
    _print_report(report)
    return report


def _record_skipped(config: RunConfig, why: str) -> None:
    """The run row of a cycle that could not get the store, written when the store is next opened."""
    from mmwatch.engine.cycle import new_run_id
    from mmwatch.engine.provenance import code_version, package_versions
    from mmwatch.records import RunRecord
    from storage.store import journal_skipped_run

    run = RunRecord(run_id=new_run_id(), config_name=config.name, config_hash=config.hash,
                    config_json=config.model_dump_json(), code_version=code_version(),
                    package_versions=package_versions())
    journal_skipped_run(config.store.path, run, f"skipped: {why}")


def _print_report(report: CycleReport) -> None:
    """What the cycle added and what went wrong; problems go to stderr, the summary to stdout."""
    if report.cells_new == 0 and not report.failed_models and not report.failed_units:
        console.print(f"Nothing new: all {report.cells_total} cells of the matrix were already stored; "
                      "no new cell computed.")
    else:
        console.print(f"Run {report.run_id}: {report.cells_new} new cells "
                      f"({report.cells_failed} error rows), {report.cells_stored_before} already stored, "
                      f"{report.verdicts_new} new verdicts.")
    for unit_id, why in report.failed_units.items():
        err.print(f"[red]unit unfinished[/]: {escape(unit_id)}: {escape(why)} (the next run computes the rest)",
                  highlight=False)
    for model_id, why in report.failed_models.items():
        err.print(f"[red]model failed[/]: {escape(model_id)}: {escape(why)}", highlight=False)
    for problem in report.sample_problems:
        err.print(f"[yellow]bad benchmark row[/]: {escape(problem)}", highlight=False)
    for skipped in report.skipped_checkpoints:
        err.print(f"[yellow]skipped checkpoint[/]: {escape(skipped)}", highlight=False)
    for a in report.alerts:
        what = AlertMessage.of(a, None, _now()).headline
        console.print(f"[bold red]ALERT[/] {escape(what)} (alert {a.alert_id[:8]}, p_adj={a.p_adjusted:.3g})",
                      highlight=False)
    if not report.alerts:
        console.print(f"No new safety regression ({report.comparisons} paired comparisons).")
    if report.alerts_resolved or report.alerts_silenced:
        console.print(f"{report.alerts_resolved} alert(s) resolved, {report.alerts_silenced} raised under a silence.")
    for sink, why in report.alerts_undelivered.items():
        err.print(f"[yellow]alerts not delivered[/] to {escape(sink)} (kept for the next cycle): {escape(why)}",
                  highlight=False)
    console.print(f"Numbers are for config {report.config_hash}, plan {report.plan_id}.", highlight=False)


def _print_table(snapshot: Path) -> None:
    """The leaderboard of a published snapshot, as a terminal table."""
    from leaderboard.terminal import leaderboard_table

    console.print(leaderboard_table(snapshot))


PrefectOption = Annotated[bool | None, typer.Option(
    "--prefect/--no-prefect", help="run as a Prefect flow (default: only when PREFECT_API_URL is set)")]


FailOnAlert = Annotated[bool, typer.Option(
    "--fail-on-alert", help=f"exit {ALERT_EXIT} when the cycle raised a new alert (it still completes and publishes)")]


@app.command()
def run(config: ConfigOption = DEFAULT_CONFIG, prefect: PrefectOption = None, fail_on_alert: FailOnAlert = False
        ) -> None:
    """Run one nightly cycle now, locally (no server needed)."""
    cfg = _load(config)  # a bad config exits with code 2 and its message before any work
    report = _run_cycle(config, cfg, prefect)
    _print_table(Path(report.snapshot))
    if fail_on_alert and report.alerts:
        err.print(f"[bold red]{len(report.alerts)} new alert(s)[/]: exit {ALERT_EXIT} (--fail-on-alert)",
                  highlight=False)
        raise typer.Exit(code=ALERT_EXIT)


@app.command()
def demo(config: ConfigOption = DEFAULT_CONFIG) -> None:
    """Build the demo's tiny models if missing, run one cycle, print the leaderboard."""
    cfg = _load(config)
    from adapters.tiny import make_tiny_model

    for spec in cfg.demo_models:
        if not (spec.path / "config.json").exists():
            make_tiny_model(spec.path, arch=spec.arch, seed=spec.seed)
            console.print(f"built tiny random {spec.arch} model at {spec.path}")
    report = _run_cycle(config, cfg)
    _print_table(Path(report.snapshot))
    console.print("\nOpen the public web leaderboard with [bold]make leaderboard[/] "
                  f"(streamlit, reads {report.snapshot}).", highlight=False)
    if cfg.leaderboard.operator_snapshot is not None:
        console.print(f"The team's board, with answers, Label and Runs pages: [bold]make operator-board[/] "
                      f"(reads {cfg.leaderboard.operator_snapshot}).", highlight=False)
    console.print("The static public site: [bold]make site[/] (mmwatch export-site site).", highlight=False)


def schedule_cycles(scheduler: Any, config_path: Path, cron: str) -> Any:
    """Add the nightly job to an APScheduler scheduler (UTC cron); one run at a time, missed runs merged."""
    from apscheduler.triggers.cron import CronTrigger

    return scheduler.add_job(_run_cycle, CronTrigger.from_crontab(cron, timezone="UTC"), args=[config_path],
                             id="nightly", max_instances=1, coalesce=True, misfire_grace_time=3600)


@app.command()
def watch(config: ConfigOption = DEFAULT_CONFIG,
          now: Annotated[bool, typer.Option(help="also run once at start")] = False) -> None:
    """Run the cycle on the config's cron schedule, in this process (APScheduler, UTC; no server)."""
    cfg = _load(config)
    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler = BlockingScheduler(timezone="UTC")
    job = schedule_cycles(scheduler, config, cfg.schedule.cron)
    if now:
        try:
            _run_cycle(config, cfg)
        except (Exception, typer.Exit) as exc:  # a failed first run must not cost the schedule
            logging.getLogger("mmwatch.watch").error("the first run failed: %s: %s", type(exc).__name__, exc)
            err.print(f"[red]first run failed[/] ({type(exc).__name__}: {escape(str(exc))}); keeping the schedule",
                      highlight=False)
    console.print(f"watching: cron '{cfg.schedule.cron}' UTC; next run {job.trigger.get_next_fire_time(None, _now())}")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        console.print("stopped")


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)
