"""The front door: `mmwatch run | demo | watch | preview | make-tiny-model | models | table`."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from rich.markup import escape

from mmwatch.config import ConfigError, RunConfig, load_config
from mmwatch.secrets import ScrubbingRecords, run_secrets

if TYPE_CHECKING:
    from mmwatch.engine.cycle import CycleReport

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
console = Console(width=None if sys.stdout.isatty() else 160)  # logs and CI keep whole table rows
err = Console(stderr=True, soft_wrap=True)  # a message's paths stay whole on one line, to copy

ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="run config (YAML)")]
DEFAULT_CONFIG = Path("configs/demo.yaml")


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


def _load(path: Path) -> RunConfig:
    """The config, or exit 2 with its one short message; from here on no log line shows a secret."""
    try:
        config = load_config(path)
    except ConfigError as exc:
        err.print(f"[bold red]config error[/]: {escape(str(exc))}", highlight=False)
        raise typer.Exit(code=2) from None
    ScrubbingRecords.install(run_secrets(config))
    return config


STORE_BUSY_EXIT = 4


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
        console.print(f"[bold red]ALERT[/] {escape(a.model_id)} vs {escape(a.baseline_id)} ({escape(a.attack)}, "
                      f"{escape(a.defense)}; judge {escape(a.judge)}): ASR {a.rate_old:.0%} -> {a.rate_new:.0%}, "
                      f"p_adj={a.p_adjusted:.3g}")
    if not report.alerts:
        console.print(f"No safety regression ({report.comparisons} paired comparisons).")
    console.print(f"Numbers are for config {report.config_hash}, plan {report.plan_id}.", highlight=False)


PrefectOption = Annotated[bool | None, typer.Option(
    "--prefect/--no-prefect", help="run as a Prefect flow (default: only when PREFECT_API_URL is set)")]


@app.command()
def run(config: ConfigOption = DEFAULT_CONFIG, prefect: PrefectOption = None) -> None:
    """Run one nightly cycle now, locally (no server needed)."""
    cfg = _load(config)  # a bad config exits with code 2 and its message before any work
    report = _run_cycle(config, cfg, prefect)
    _print_table(Path(report.snapshot))


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
    console.print("\nOpen the web leaderboard with [bold]make leaderboard[/] "
                  f"(streamlit, reads {report.snapshot}).")


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


@app.command()
def preview(attack: str, text: Annotated[str, typer.Option(help="the request to attack")],
            out: Annotated[Path, typer.Option(help="folder for the images")] = Path("preview"),
            param: Annotated[list[str] | None, typer.Option(help="attack parameter KEY=VALUE (repeatable)")] = None,
            ) -> None:
    """Write the image(s) an attack would send and print its text prompt."""
    from mmwatch.attacks.preview import parse_params
    from mmwatch.attacks.preview import preview_with_prompts as make_preview
    from mmwatch.registry import UnknownPluginError

    try:
        paths, prompts = make_preview(attack, text, out, parse_params(param or []))
    except (UnknownPluginError, ValueError, OSError) as exc:  # unknown name, bad parameter, missing picture
        err.print(str(exc), highlight=False, markup=False)
        raise typer.Exit(code=2) from None
    for prompt in prompts:
        console.print(f"[bold]text prompt[/]: {escape(prompt)}", highlight=False)
    for path in paths:
        console.print(f"image: {path}", markup=False)


@app.command("make-tiny-model")
def make_tiny(out: Path, arch: Annotated[str, typer.Option(help="llava or idefics3")] = "llava",
              seed: int = 0) -> None:
    """Write a tiny random image-text-to-text checkpoint that the `hf` adapter loads."""
    from adapters.tiny import make_tiny_model

    path = make_tiny_model(out, arch=arch, seed=seed)
    console.print(f"wrote tiny random {arch} model to {path}")


models_app = typer.Typer(no_args_is_help=True, help="The model revisions mmwatch knows.")
app.add_typer(models_app, name="models")


@models_app.command("list")
def models_list(config: ConfigOption = DEFAULT_CONFIG) -> None:
    """Every revision in the store: lineage, revision, source, when found, status."""
    from rich.table import Table

    from storage.store import read_models

    from storage.store import StoreBusy, StoreError

    cfg = _load(config)
    try:
        found = read_models(cfg.store.path)
    except StoreError as exc:  # a cycle holds the file for writing: say so, without a traceback
        err.print(f"[bold red]cannot read models[/]: {escape(str(exc))}", highlight=False)
        raise typer.Exit(code=STORE_BUSY_EXIT if isinstance(exc, StoreBusy) else 2) from None
    table = Table(title=escape(f"models in {cfg.store.path}"))
    for col in ("lineage", "label", "revision", "source", "adapter", "discovered (UTC)", "status"):
        table.add_column(col)
    for m in found:
        table.add_row(escape(m.lineage), escape(m.label), escape(m.revision[:12]), m.source.value, escape(m.adapter),
                      f"{m.discovered_at:%Y-%m-%d %H:%M}" if m.discovered_at else "", m.status.value)
    console.print(table if found else f"no models recorded in {cfg.store.path} yet: run `mmwatch discover` or `run`")


benchmarks_app = typer.Typer(no_args_is_help=True, help="The benchmarks mmwatch can load.")
app.add_typer(benchmarks_app, name="benchmarks")


@benchmarks_app.command("list")
def benchmarks_list() -> None:
    """Every registered benchmark loader, its version and its parameters."""
    from rich.table import Table

    from mmwatch import plugins

    table = Table(title="benchmarks")
    for col in ("name", "version", "what", "parameters"):
        table.add_column(col, overflow="fold")
    for name in plugins.benchmarks.names():
        info = plugins.benchmarks.info(name)
        params = ", ".join(f"{k}={v!r}" if v is not None else k for k, v in info.parameters().items())
        table.add_row(name, str(info.version), info.description, params)
    console.print(table)


@benchmarks_app.command("show")
def benchmarks_show(name: str, param: Annotated[list[str] | None, typer.Option(
        "--param", "-p", help="loader parameter KEY=VALUE (repeatable), e.g. -p path=xstest.csv")] = None,
        examples: int = 3) -> None:
    """Load a benchmark and describe it: samples by kind and category, problems, a few examples."""
    from collections import Counter

    from rich.table import Table

    from mmwatch import plugins
    from mmwatch.benchmarks.inputs import ImageScreen
    from mmwatch.registry import PluginParamsError, UnknownPluginError
    from mmwatch.types import InputLimits

    params = dict(p.split("=", 1) for p in (param or []) if "=" in p)
    try:
        loaded = plugins.benchmarks.build(name, params).obj
        screen = ImageScreen(loaded, InputLimits(), name)  # images confined and bounded, as a run reads them
        samples = list(screen)
    except (UnknownPluginError, PluginParamsError, FileNotFoundError, ValueError) as exc:
        err.print(f"[red]{escape(str(exc))}[/]", highlight=False)
        raise typer.Exit(code=2) from None
    counts = Counter((s.kind.value, s.category) for s in samples)
    table = Table(title=escape(f"{name}: {len(samples)} samples"))
    for col in ("kind", "category", "n"):
        table.add_column(col)
    for (kind, category), n in sorted(counts.items()):
        table.add_row(kind, escape(category), str(n))
    console.print(table)
    problems = list(getattr(loaded, "problems", [])) + screen.problems
    if problems:
        err.print(f"[yellow]{len(problems)} bad row(s) skipped[/]:", highlight=False)
        for problem in problems[:20]:
            err.print(f"  {problem}", highlight=False, markup=False)
    for sample in samples[:examples]:
        image = " [image]" if sample.image is not None or sample.image_path else ""
        console.print(f"{sample.id} ({sample.kind.value}, {sample.category}){image}: {sample.text}", highlight=False,
                      markup=False)


@app.command()
def discover(config: ConfigOption = DEFAULT_CONFIG) -> None:
    """Run discovery alone: record and print the revisions that are new since the last look."""
    from mmwatch.engine.discovery import discover as find
    from storage.store import DuckDBStore

    cfg = _load(config)
    found = find(cfg)
    with DuckDBStore(cfg.store.path, cfg.store.artifacts) as store:
        known = {m.model_id for m in store.models()}
        new = [m for m in found.models if m.model_id not in known]
        store.upsert_models(new)
    for m in new:
        console.print(f"[green]new[/] {escape(m.model_id)}  ({m.source.value}: {escape(m.label)})", highlight=False)
    for why in found.skipped:
        err.print(f"[yellow]skipped[/] {escape(why)}", highlight=False)
    console.print(f"{len(new)} new of {len(found.models)} revision(s) found.")


@app.command()
def serve(checkpoint: str, port: Annotated[int, typer.Option(help="port on 127.0.0.1")] = 8000,
          host: str = "127.0.0.1", name: Annotated[str | None, typer.Option(help="model id to serve")] = None) -> None:
    """Serve a checkpoint as an OpenAI-compatible chat-completions endpoint (images included)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from adapters.serve import serve as run_server

    console.print(f"serving {checkpoint} on http://{host}:{port}/v1 (Ctrl-C stops)")
    run_server(checkpoint, host=host, port=port, model_name=name)


@app.command()
def calibrate(judge: str, labels: Annotated[Path, typer.Option(help="CSV: prompt,response,label[,image]")],
              param: Annotated[list[str] | None, typer.Option("--param", "-p", help="judge parameter KEY=VALUE")] = None,
              config: Annotated[Path | None, typer.Option("--config", "-c",
                                help="also store the labels and the result in this config's store")] = None) -> None:
    """Measure a judge against human labels: accuracy, Cohen's kappa, sensitivity, specificity."""
    import hashlib

    from mmwatch.analysis.calibration import format_report, run_calibration
    from mmwatch.analysis.labels import LabelsError
    from mmwatch.registry import PluginParamsError, UnknownPluginError

    cfg = _load(config) if config else None
    params = dict(p.split("=", 1) for p in (param or []) if "=" in p)
    try:
        report = run_calibration(judge, params, labels)
    except (LabelsError, UnknownPluginError, PluginParamsError, FileNotFoundError) as exc:
        err.print(f"[red]{escape(str(exc))}[/]", highlight=False)
        raise typer.Exit(code=2) from None
    console.print(format_report(report))
    if cfg is not None:
        from mmwatch.analysis.labels import read_labels
        from storage.calibrations import save_calibration
        from storage.labels import add_labels
        from storage.store import DuckDBStore

        digest = hashlib.sha256(labels.read_bytes()).hexdigest()
        with DuckDBStore(cfg.store.path, cfg.store.artifacts) as store:
            added = add_labels(store, read_labels(labels), source=str(labels))
            save_calibration(store, judge, report, str(labels), digest)
        console.print(f"stored {added} human label(s) and the calibration in {cfg.store.path}; the next "
                      "publish shows ASR corrected for this judge when it is the safety judge")


@app.command()
def deploy(config: Annotated[Path, typer.Option("--config", "-c", help="the run config the nightly deployment runs")],
           prefect_file: Annotated[Path, typer.Option(help="deployments to register")] = Path("deploy/prefect.yaml"),
           ) -> None:
    """Register the Prefect deployments: the nightly orchestrator on the config's cron, and the unit
    deployments per work pool (`prefect deploy` on deploy/prefect.yaml). No config is deployed by default."""
    import subprocess

    cfg = _load(config)
    if cfg.work.dispatch.value != "prefect":
        err.print("[yellow]note[/]: the config has work.dispatch: local, so the nightly run computes its units "
                  "itself; set work.dispatch: prefect to fan them out to the work pools", highlight=False)
    env = {**os.environ, "MMWATCH_CONFIG": str(config), "MMWATCH_CRON": cfg.schedule.cron}
    env.pop("MMWATCH_HOME", None)  # `prefect deploy` would bake this machine's folder into the pull step
    command = [sys.executable, "-m", "prefect", "--no-prompt", "deploy", "--all", "--prefect-file", str(prefect_file)]
    console.print(f"registering deployments from {prefect_file}: nightly on cron '{cfg.schedule.cron}' UTC "
                  f"with config {config}", highlight=False)
    raise typer.Exit(code=subprocess.run(command, env=env).returncode)


@app.command("export-images")
def export_images(model: Annotated[str, typer.Option(help="model id, lineage@revision (see `models list`)")],
                  attack: Annotated[str, typer.Option(help="attack label as stored, e.g. pgd or pgd(eps=8)")],
                  out: Annotated[Path, typer.Option(help="folder to write {source_id}.png into")],
                  config: ConfigOption = DEFAULT_CONFIG) -> None:
    """Export the images an attack made on one model, for the `transfer` attack to replay elsewhere."""
    from storage.exports import export_attack_images

    cfg = _load(config)
    try:
        written = export_attack_images(cfg.store.path, cfg.store.artifacts, model, attack, out)
    except (FileNotFoundError, LookupError) as exc:
        err.print(f"[red]{escape(str(exc))}[/]", highlight=False)
        raise typer.Exit(code=2) from None
    console.print(f"wrote {written} image(s) to {out}; replay them with "
                  f"`{{name: transfer, params: {{images_dir: {out}}}}}`", highlight=False)


@app.command()
def table(config: ConfigOption = DEFAULT_CONFIG) -> None:
    """Print the leaderboard from the published snapshot."""
    cfg = _load(config)
    _print_table(cfg.store.snapshot)


def _print_table(snapshot: Path) -> None:
    from leaderboard.terminal import leaderboard_table

    console.print(leaderboard_table(snapshot))


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for package in ("mmwatch", "adapters", "storage"):  # what the cycle did; libraries stay at warnings
        logging.getLogger(package).setLevel(logging.INFO)
    app(prog_name="mmwatch")


if __name__ == "__main__":
    main()
