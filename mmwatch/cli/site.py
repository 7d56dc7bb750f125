"""`mmwatch export-site DIR` (the public snapshot as a static site) and `mmwatch export DIR --format
parquet|csv` (every table of the snapshot, one file each).

Both read the snapshot the config publishes (store.snapshot), or `--snapshot FILE`. Output folder
rule (leaderboard/site/folder.py): a missing or empty DIR is used; one holding a previous export of
the same kind is cleared of the files its manifest.json lists and reused; any other non-empty DIR is
refused (exit 2) unless --force, which writes into it without deleting anything. Every refusal, a
missing snapshot and an operator snapshot given to export-site exit 2 with one line naming the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, NoReturn

import typer

from mmwatch.cli import DEFAULT_CONFIG, ConfigOption, _load, app, console, err

SnapshotOption = Annotated[Path | None, typer.Option(
    "--snapshot", help="snapshot file to read (default: the config's store.snapshot)")]
OutArgument = Annotated[Path, typer.Argument(help="output folder (created if missing)")]
# The values of leaderboard.data.ExportFormat, spelled out so that `mmwatch --help` need not import pandas
# (tests/mmwatch/cli/test_site.py checks that the two agree).
FormatName = Literal["parquet", "csv"]
ForceOption = Annotated[bool, typer.Option(
    "--force", help="write into a non-empty folder that holds no previous export (nothing is deleted)")]


def _snapshot(snapshot: Path | None, config: Path) -> Path:
    return snapshot if snapshot is not None else _load(config).store.snapshot


def _fail(command: str, exc: BaseException) -> NoReturn:
    line = " ".join(str(exc).split())  # one line, whatever the message held
    err.print(f"{command}: {line}", highlight=False, markup=False)
    raise typer.Exit(code=2)


@app.command("export-site")
def export_site(out: OutArgument, snapshot: SnapshotOption = None, config: ConfigOption = DEFAULT_CONFIG,
                force: ForceOption = False,
                max_samples: Annotated[int, typer.Option(min=0, help="items listed per model page at most")] = 500,
                ) -> None:
    """Write the public snapshot as a static site (HTML, inline SVG, data files; no script, no URL)."""
    from leaderboard.data import SnapshotError
    from leaderboard.site import FolderError, SiteError, SiteOptions, build_site

    path = _snapshot(snapshot, config)
    try:
        report = build_site(out, path=path, options=SiteOptions(max_samples=max_samples), force=force)
    except (SnapshotError, SiteError, FolderError, OSError) as exc:
        _fail("export-site", exc)
    console.print(f"wrote {len(report.files)} files ({report.models} model pages, {report.images} images) to "
                  f"{out}; open {out / 'index.html'}", highlight=False, markup=False)


@app.command("export")
def export(out: OutArgument, snapshot: SnapshotOption = None, config: ConfigOption = DEFAULT_CONFIG,
           fmt: Annotated[FormatName, typer.Option("--format", "-f", help="file format")] = "parquet",
           force: ForceOption = False) -> None:
    """Write every table of the snapshot to DIR, one Parquet or CSV file each (hidden answers stay hidden)."""
    from rich.markup import escape
    from rich.table import Table

    from leaderboard import data
    from leaderboard.site import FolderError, FolderKind, claim
    from leaderboard.site.folder import Manifest, write_manifest

    kind = data.ExportFormat(fmt)
    path = data.snapshot_path(_snapshot(snapshot, config))
    try:
        if not path.is_file():
            raise data.SnapshotMissing(f"No leaderboard snapshot at {path.resolve()}.")
        meta = data.meta(path=path)
        claim(out, FolderKind.TABLES, force=force)
        written = data.export_tables(out, kind, path=path)
        write_manifest(out, Manifest(kind=FolderKind.TABLES, snapshot=str(path.resolve()),
                                     published_at=meta.published_at, run_id=meta.run_id,
                                     files=[w.file.name for w in written]))
    except (data.SnapshotError, FolderError, OSError) as exc:
        _fail("export", exc)
    table = Table(title=escape(f"{len(written)} tables from {path} ({kind.value})"))
    for col in ("table", "rows", "file"):
        table.add_column(col)
    for w in written:
        table.add_row(escape(w.table), str(w.rows), escape(str(w.file)))
    console.print(table)
    if meta.operator:
        err.print(f"export: {path} is an operator snapshot, so these files hold every answer: do not publish them",
                  highlight=False, markup=False)
