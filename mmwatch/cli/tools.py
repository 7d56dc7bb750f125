"""The commands around a run rather than in it: build a tiny model, serve a checkpoint, calibrate a
judge against human labels, register the Prefect deployments, export an attack's images."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from mmwatch.analysis.labels import LabelFamily, LabelledRow
from mmwatch.cli import DEFAULT_CONFIG, ConfigOption, _load, app, console, err
from mmwatch.config import RunConfig

if TYPE_CHECKING:
    from mmwatch.analysis.calibration import CalibrationReport


@app.command("make-tiny-model")
def make_tiny(out: Path, arch: Annotated[str, typer.Option(help="llava or idefics3")] = "llava",
              seed: int = 0) -> None:
    """Write a tiny random image-text-to-text checkpoint that the `hf` adapter loads."""
    from adapters.tiny import make_tiny_model

    path = make_tiny_model(out, arch=arch, seed=seed)
    console.print(f"wrote tiny random {arch} model to {path}")


@app.command()
def serve(checkpoint: str, port: Annotated[int, typer.Option(help="port on 127.0.0.1")] = 8000,
          host: str = "127.0.0.1", name: Annotated[str | None, typer.Option(help="model id to serve")] = None) -> None:
    """Serve a checkpoint as an OpenAI-compatible chat-completions endpoint (images included)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from adapters.serve import serve as run_server

    console.print(f"serving {checkpoint} on http://{host}:{port}/v1 (Ctrl-C stops)")
    run_server(checkpoint, host=host, port=port, model_name=name)


@app.command()
def calibrate(judges: Annotated[list[str], typer.Argument(help="judge(s): with several, one table compares them "
                                                               "(the first is the baseline)")],
              labels: Annotated[Path | None, typer.Option(help="CSV: prompt,response,label[,image]; without it, "
                                                          "the labels stored in the config's store")] = None,
              param: Annotated[list[str] | None, typer.Option("--param", "-p", help="judge parameter KEY=VALUE "
                                                              "(one judge only)")] = None,
              against: Annotated[str | None, typer.Option(help="baseline judge to compare with, e.g. "
                                                          "refusal-keywords")] = None,
              config: Annotated[Path | None, typer.Option("--config", "-c",
                                help="also store the labels and the result in this config's store")] = None,
              source: Annotated[str | None, typer.Option(help="stored labels of one source only (e.g. leaderboard, "
                                                         "the Label page's)")] = None,
              family: Annotated[LabelFamily | None, typer.Option(help="stored labels of one family, where the store "
                                                                 "holds both")] = None) -> None:
    """Measure judges against human labels: accuracy, Cohen's kappa, sensitivity, specificity.

    `mmwatch calibrate harm-rules --against refusal-keywords --labels FILE.csv` (or several judges)
    prints one table with each judge's accuracy as a ratio of the baseline's."""
    from mmwatch.analysis.calibration import compare_rows, format_comparison, format_report
    from mmwatch.analysis.labels import LabelsError, read_labels
    from mmwatch.registry import PluginParamsError, UnknownPluginError

    if labels is None and config is None:
        err.print("[red]give --labels FILE.csv, or --config CONFIG to use the labels in its store[/]", highlight=False)
        raise typer.Exit(code=2)
    if param and len(judges) > 1:
        err.print("[red]--param applies to one judge: calibrate judges with parameters one at a time[/]",
                  highlight=False)
        raise typer.Exit(code=2)
    cfg = _load(config) if config else None
    params = dict(p.split("=", 1) for p in (param or []) if "=" in p)
    chosen = [(name, params if i == 0 else None) for i, name in enumerate(judges)]
    if against is not None:
        chosen = [(against, None), *[(n, p) for n, p in chosen if n != against]]
    try:
        rows = read_labels(labels) if labels is not None else _stored_labels(cfg, source, family)
        reports = compare_rows(chosen, rows)
    except (LabelsError, UnknownPluginError, PluginParamsError, FileNotFoundError) as exc:
        err.print(f"[red]{escape(str(exc))}[/]", highlight=False)
        raise typer.Exit(code=2) from None
    console.print(format_report(reports[0]) if len(reports) == 1 else format_comparison(reports))
    if cfg is not None:
        _store_calibration(cfg, [(name, report) for (name, _), report in zip(chosen, reports, strict=True)],
                           labels, rows, source)


def _stored_labels(cfg: RunConfig | None, source: str | None, family: LabelFamily | None) -> list[LabelledRow]:
    """The human labels in the config's store (the Label page's and imported files'), one family."""
    from mmwatch.analysis.calibration import one_family
    from storage.labels import labels as stored
    from storage.store import DuckDBStore

    assert cfg is not None
    if not Path(cfg.store.path).is_file():
        raise FileNotFoundError(f"no store at {cfg.store.path}: nothing labelled yet")
    with DuckDBStore(cfg.store.path, cfg.store.artifacts) as store:
        return one_family(stored(store, source), family)


def _store_calibration(cfg: RunConfig, reports: Sequence[tuple[str, CalibrationReport]], labels: Path | None,
                       rows: Sequence[LabelledRow], source: str | None) -> None:
    """Keep the result (and a file's labels) in the store: the next publish corrects ASR with it."""
    import hashlib
    import json

    from storage.calibrations import save_calibration
    from storage.labels import add_labels
    from storage.store import DuckDBStore

    with DuckDBStore(cfg.store.path, cfg.store.artifacts) as store:
        if labels is not None:
            digest, where = hashlib.sha256(labels.read_bytes()).hexdigest(), str(labels)
            added = add_labels(store, rows, source=str(labels))
            console.print(f"stored {added} human label(s) in {cfg.store.path}", highlight=False)
        else:  # the stored labels as they are now: which rows, with which label
            ids = sorted(f"{r.where}:{r.label.value}" for r in rows)
            digest, where = hashlib.sha256(json.dumps(ids).encode()).hexdigest(), f"store:{source or 'all'}"
        for judge, report in reports:
            save_calibration(store, judge, report, where, digest)
    console.print(f"stored {len(reports)} calibration(s); the next publish shows ASR corrected for this judge when it is the "
                  "safety judge", highlight=False)


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
