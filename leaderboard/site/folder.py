"""Which folders an export may write into, and the manifest that marks one as an export.

The rule: a missing or empty folder is used; a folder holding a previous export of the same kind
(its manifest.json says so) is emptied of exactly the files that manifest lists, then reused; any
other non-empty folder is refused unless `force`, and then only written into: no file of yours
is ever deleted (`mmwatch export-site . --force` overwrites same-named files, nothing more).
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

MANIFEST = "manifest.json"
GENERATOR = "mmwatch"


class FolderKind(StrEnum):
    """What an export folder holds."""

    SITE = "site"  # `mmwatch export-site`
    TABLES = "tables"  # `mmwatch export`


class FolderError(RuntimeError):
    """The output folder cannot be used; the message names it and says what to do."""


class Manifest(BaseModel):
    """manifest.json: what wrote the folder, from which snapshot, and every file it wrote."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    generator: str = GENERATOR
    kind: FolderKind
    snapshot: str
    published_at: str | None = None
    run_id: str | None = None
    files: list[str]


def read_manifest(folder: Path) -> Manifest | None:
    """The folder's manifest, or None where it has none (or one that some other tool wrote)."""
    try:
        manifest = Manifest.model_validate(json.loads((folder / MANIFEST).read_text(encoding="utf-8")))
    except (OSError, ValueError, ValidationError):
        return None
    return manifest if manifest.generator == GENERATOR else None


def inside(folder: Path, relative: str) -> Path:
    """folder / relative, refusing any path that would land outside the folder."""
    root = folder.resolve()
    target = (root / relative).resolve()
    if target == root or root not in target.parents:
        raise FolderError(f"refusing to write {relative!r}: it is not inside {folder}")
    return target


def check(folder: Path, kind: FolderKind, *, force: bool = False) -> Manifest | None:
    """Raise FolderError unless `folder` may take an export of `kind`; touches nothing. Returns the
    previous export's manifest where the folder holds one of that kind."""
    if folder.exists() and not folder.is_dir():
        raise FolderError(f"{folder} exists and is not a folder")
    if not folder.exists() or not any(folder.iterdir()):
        return None
    previous = read_manifest(folder)
    if previous is not None and previous.kind is kind:
        return previous
    if not force:
        what = f"a {previous.kind.value} export" if previous else "no previous export (no mmwatch manifest.json)"
        raise FolderError(f"{folder} is not empty and holds {what}; choose an empty folder, or pass --force "
                          "to write into it (same-named files are overwritten, nothing is deleted)")
    return None


def claim(folder: Path, kind: FolderKind, *, force: bool = False) -> None:
    """Make `folder` ready for an export of `kind` (see the module docstring), or raise FolderError."""
    previous = check(folder, kind, force=force)
    folder.mkdir(parents=True, exist_ok=True)
    if previous is not None:
        _remove(folder, previous)


def _remove(folder: Path, previous: Manifest) -> None:
    """Delete the files a previous export wrote, then the folders that left empty."""
    root, emptied = folder.resolve(), set()
    for name in [*previous.files, MANIFEST]:
        try:
            target = inside(folder, name)
        except FolderError:
            continue  # a manifest edited to point elsewhere: never follow it out
        if target.is_file():
            target.unlink()
            emptied |= {p for p in target.parents if root in p.parents}
    for sub in sorted(emptied, key=lambda p: len(p.parts), reverse=True):
        if sub.is_dir() and not any(sub.iterdir()):
            sub.rmdir()


def write_manifest(folder: Path, manifest: Manifest) -> Path:
    path = folder / MANIFEST
    path.write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return path
