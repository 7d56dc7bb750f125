"""Look before a run: what an attack sends (`preview`), the models and benchmarks mmwatch knows,
the revisions discovery finds, and the published leaderboard (`table`)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from mmwatch.cli import DEFAULT_CONFIG, ConfigOption, _load, app, benchmarks_app, console, err, models_app
from mmwatch.cli.cycle import STORE_BUSY_EXIT, _print_table


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


@models_app.command("list")
def models_list(config: ConfigOption = DEFAULT_CONFIG) -> None:
    """Every revision in the store: lineage, revision, source, when found, status."""
    from rich.table import Table

    from storage.store import StoreBusy, StoreError, read_models

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
        params = ", ".join(f"{k}={_shown(v)!r}" if v is not None else k for k, v in info.parameters().items())
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

    try:
        params = loader_params(param or [], name)
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


def loader_params(items: list[str], name: str) -> dict[str, str]:
    """`-p KEY=VALUE` items as given (strings): the loader's signature types them when it is built."""
    params: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"benchmark {name!r}: parameter {item!r} is not KEY=VALUE")
        params[key.strip()] = value
    return params


def _shown(value: object) -> object:
    """A default as a config would write it (an enum's value, not its repr)."""
    return value.value if isinstance(value, Enum) else value


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
def table(config: ConfigOption = DEFAULT_CONFIG) -> None:
    """Print the leaderboard from the published snapshot."""
    cfg = _load(config)
    _print_table(cfg.store.snapshot)
