"""The commands around a run rather than in it: build a tiny model, serve a checkpoint, calibrate a
judge against human labels, register the Prefect deployments, export an attack's images."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from mmwatch.cli import DEFAULT_CONFIG, ConfigOption, _load, app, console, err


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
