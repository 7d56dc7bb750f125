"""The front door: `mmwatch run | demo | watch | alerts | preview | make-tiny-model | models | table`."""

# The docstring above is the `mmwatch --help` text. The commands live by concern: cycle.py runs the
# nightly cycle (run, demo, watch); browse.py shows what mmwatch knows (models, benchmarks, discover,
# preview, table); site.py writes the snapshot out (export-site, export); tools.py holds the rest (serve,
# calibrate, deploy, export-images, make-tiny-model).
# This module holds what they share, and imports them at its end so that their commands register
# (the explicit types below let mypy follow that import cycle).

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from mmwatch.config import ConfigError, RunConfig, load_config
from mmwatch.secrets import ScrubbingRecords, run_secrets

app: typer.Typer = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
models_app: typer.Typer = typer.Typer(no_args_is_help=True, help="The model revisions mmwatch knows.")
app.add_typer(models_app, name="models")
benchmarks_app: typer.Typer = typer.Typer(no_args_is_help=True, help="The benchmarks mmwatch can load.")
app.add_typer(benchmarks_app, name="benchmarks")

console: Console = Console(width=None if sys.stdout.isatty() else 160)  # logs and CI keep whole table rows
err: Console = Console(stderr=True, soft_wrap=True)  # a message's paths stay whole on one line, to copy

ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="run config (YAML)")]
DEFAULT_CONFIG: Path = Path("configs/demo.yaml")


def _load(path: Path) -> RunConfig:
    """The config, or exit 2 with its one short message; from here on no log line shows a secret."""
    try:
        config = load_config(path)
    except ConfigError as exc:
        err.print(f"[bold red]config error[/]: {escape(str(exc))}", highlight=False)
        raise typer.Exit(code=2) from None
    ScrubbingRecords.install(run_secrets(config))
    return config


def main() -> None:
    """The `mmwatch` script: the core's own logs at INFO (what the cycle did), libraries at warnings."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for package in ("mmwatch", "adapters", "storage"):
        logging.getLogger(package).setLevel(logging.INFO)
    app(prog_name="mmwatch")


# Last, so that the command modules find everything above when their decorators run.
from mmwatch.cli import alerts, browse, cycle, site, tools  # noqa: E402
from mmwatch.cli.cycle import run, schedule_cycles  # noqa: E402

__all__ = ["DEFAULT_CONFIG", "ConfigOption", "alerts", "app", "benchmarks_app", "browse", "console", "cycle", "err", "main",
           "models_app", "run", "schedule_cycles", "site", "tools"]
