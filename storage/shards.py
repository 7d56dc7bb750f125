"""Result shards: what a work unit computed, as immutable Parquet parts in the results location.

A worker never opens the primary DuckDB file. It writes each batch of finished cells as one part:

    <results>/<unit_id>/<part_id>/cells.parquet, verdicts.parquet, artifacts.parquet, _SUCCESS.json

`_SUCCESS.json` is written last, so a part without it (a worker killed mid-write) is never read.
The location is a folder or any fsspec URL (`s3://bucket/prefix` with the `s3` extra); I/O goes
through fsspec and pyarrow. The orchestrator, the only writer, ingests parts idempotently
(`DuckDBStore.ingest_shards`), and a unit that runs again skips the cells its parts already hold.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from mmwatch.records import CellRecord
from mmwatch.types import Verdict
from storage.rows import CELL_COLUMNS, VERDICT_COLUMNS, cell_row, verdict_row

MANIFEST = "_SUCCESS.json"
REPORT = "_REPORT.json"  # the last attempt's UnitReport
HEARTBEAT = "_HEARTBEAT"  # a running unit's last sign of life (seconds since the epoch)
ARTIFACT_COLUMNS = ("sha", "png")


class ShardManifest(BaseModel):
    shard_id: str
    unit_id: str
    run_id: str
    cells: int
    verdicts: int
    artifacts: int
    created_at: datetime


@dataclass(frozen=True)
class ShardContents:
    manifest: ShardManifest
    cells: list[dict[str, Any]]
    verdicts: list[dict[str, Any]]
    artifacts: dict[str, bytes]


def _fs(url: str) -> tuple[Any, str]:
    from fsspec.core import url_to_fs

    fs, root = url_to_fs(url)
    return fs, root.rstrip("/")


def _write_table(fs: Any, path: str, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if rows:
        table = pa.table({c: [row[i] for row in rows] for i, c in enumerate(columns)})
    else:
        table = pa.table({c: pa.array([], pa.string()) for c in columns})
    with fs.open(path, "wb") as fh:
        pq.write_table(table, fh)


def _read_table(fs: Any, path: str, columns: list[str] | None = None) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    with fs.open(path, "rb") as fh:
        rows: list[dict[str, Any]] = pq.read_table(fh, columns=columns).to_pylist()
    return rows


class ShardWriter:
    """Writes one work unit's parts; `done_keys` are the cells earlier attempts already wrote."""

    def __init__(self, results: str, unit_id: str, run_id: str) -> None:
        self.fs, self.root = _fs(results)
        self.unit_id, self.run_id = unit_id, run_id
        self.unit_dir = f"{self.root}/{unit_id}"

    def done_keys(self) -> set[str]:
        keys: set[str] = set()
        for part in _complete_parts(self.fs, self.unit_dir):
            keys.update(r["cell_key"] for r in _read_table(self.fs, f"{part}/cells.parquet", ["cell_key"]))
        return keys

    def write(self, cells: Sequence[CellRecord], verdicts: Sequence[tuple[str, Verdict]]) -> ShardManifest:
        shard_id = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}"
        part = f"{self.unit_dir}/{shard_id}"
        self.fs.makedirs(part, exist_ok=True)
        artifacts: dict[str, bytes] = {}
        rows = []
        for cell in cells:
            images = cell.probe.images if cell.probe else ()
            for image in images:
                artifacts.setdefault(image.sha256, image.png)
            rows.append(cell_row(cell, [image.sha256 for image in images]))
        now = datetime.now(UTC).replace(tzinfo=None)
        _write_table(self.fs, f"{part}/cells.parquet", CELL_COLUMNS, rows)
        _write_table(self.fs, f"{part}/verdicts.parquet", VERDICT_COLUMNS,
                     [verdict_row(key, v, self.run_id, now) for key, v in verdicts])
        _write_table(self.fs, f"{part}/artifacts.parquet", ARTIFACT_COLUMNS, list(artifacts.items()))
        manifest = ShardManifest(shard_id=shard_id, unit_id=self.unit_id, run_id=self.run_id, cells=len(rows),
                                 verdicts=len(verdicts), artifacts=len(artifacts), created_at=now)
        with self.fs.open(f"{part}/{MANIFEST}", "w") as fh:  # last: the part is complete
            fh.write(manifest.model_dump_json())
        return manifest


    def beat(self) -> None:
        """Say the unit is alive (a worker that dies stops beating: the orchestrator runs the unit again)."""
        self.fs.makedirs(self.unit_dir, exist_ok=True)
        with self.fs.open(f"{self.unit_dir}/{HEARTBEAT}", "w") as fh:
            fh.write(str(time.time()))

    def write_report(self, report: BaseModel) -> None:
        """What the unit did, for an orchestrator that ran it elsewhere (read with `read_report`)."""
        with self.fs.open(f"{self.unit_dir}/{REPORT}", "w") as fh:
            fh.write(report.model_dump_json())


def heartbeat_age(results: str, unit_id: str) -> float | None:
    """Seconds since the unit's last heartbeat, or None if it never beat (clocks must roughly agree)."""
    fs, root = _fs(results)
    path = f"{root}/{unit_id}/{HEARTBEAT}"
    try:
        with fs.open(path, "r") as fh:
            return time.time() - float(fh.read().strip())
    except (FileNotFoundError, ValueError):
        return None


def read_report(results: str, unit_id: str) -> dict[str, Any] | None:
    fs, root = _fs(results)
    path = f"{root}/{unit_id}/{REPORT}"
    if not fs.exists(path):
        return None
    with fs.open(path, "r") as fh:
        report: dict[str, Any] = json.load(fh)
    return report


def _complete_parts(fs: Any, unit_dir: str) -> list[str]:
    if not fs.exists(unit_dir):
        return []
    return sorted(p.rsplit("/", 1)[0] for p in fs.glob(f"{unit_dir}/*/{MANIFEST}"))


def remove_torn_parts(results: str, older_than_s: float) -> int:
    """Delete parts without a manifest (a worker killed mid-write) started over `older_than_s` ago;
    a younger one may still be being written by a live worker. Returns how many were removed."""
    fs, root = _fs(results)
    if not fs.exists(root):
        return 0
    now, removed = datetime.now(UTC), 0
    for unit_dir in fs.glob(f"{root}/*"):
        if not fs.isdir(unit_dir):
            continue
        for part in fs.glob(f"{unit_dir}/*"):
            name = part.rstrip("/").rsplit("/", 1)[-1]
            try:
                started = datetime.strptime(name.split("-", 1)[0], "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC)
            except ValueError:
                continue  # not a part (the heartbeat, the report)
            if (now - started).total_seconds() > older_than_s and not fs.exists(f"{part}/{MANIFEST}"):
                fs.rm(part, recursive=True)
                removed += 1
    return removed


def list_shards(results: str) -> list[ShardManifest]:
    """Every complete part in the results location, oldest first."""
    fs, root = _fs(results)
    if not fs.exists(root):
        return []
    found = []
    for path in fs.glob(f"{root}/*/*/{MANIFEST}"):
        with fs.open(path, "r") as fh:
            found.append(ShardManifest.model_validate(json.load(fh)))
    return sorted(found, key=lambda m: (m.created_at, m.shard_id))


def read_shards(results: str, manifests: Sequence[ShardManifest]) -> Iterator[ShardContents]:
    fs, root = _fs(results)
    for manifest in manifests:
        part = f"{root}/{manifest.unit_id}/{manifest.shard_id}"
        artifacts = {r["sha"]: r["png"] for r in _read_table(fs, f"{part}/artifacts.parquet")}
        yield ShardContents(manifest, _read_table(fs, f"{part}/cells.parquet"),
                            _read_table(fs, f"{part}/verdicts.parquet"), artifacts)
