"""Local folder source: every complete checkpoint subfolder is a revision of one lineage.

A local checkpoint's revision is a hash of its content, so a folder rewritten in place is a new
revision and a renamed one is not. Order in the lineage comes from the step number in the name
(`checkpoint-1200`, `step_300`), else from the folder's modification time. A checkpoint still
being written (no `config.json`, shards named in its index missing, a truncated file) is skipped
until it is complete.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path

from adapters.checkpoint import content_revision, is_complete
from mmwatch.config import WatchFolder
from mmwatch.plugins import source
from mmwatch.records import Discovery, ModelRecord, ModelSource

log = logging.getLogger(__name__)

_STEP = re.compile(r"(?:^|[-_])(?:checkpoint|step|ckpt|iter|epoch)?[-_]?(\d+)$", re.IGNORECASE)


def step_number(name: str) -> float | None:
    match = _STEP.search(name)
    return float(match.group(1)) if match else None


def scan_folder(watch: WatchFolder) -> Discovery:
    """Complete checkpoints under one watched folder, oldest first."""
    found = Discovery()
    root = Path(watch.path)
    if not root.is_dir():
        found.skipped.append(f"{root}: watched folder does not exist")
        return found
    lineage = watch.lineage or root.name
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        ok, why = is_complete(folder, allow_pickle=watch.allow_pickle)
        if not ok:
            found.skipped.append(f"{folder}: {why}")
            log.info("skipping %s until it is complete: %s", folder, why)
            continue
        step = step_number(folder.name)
        params = {**watch.params, "path": str(folder.resolve())}
        if watch.allow_pickle:
            params["allow_pickle"] = True
        found.models.append(ModelRecord(
            lineage=lineage, revision=content_revision(folder), label=folder.name, source=ModelSource.FOLDER,
            adapter=watch.adapter, adapter_params=params,
            order_key=step if step is not None else folder.stat().st_mtime,
        ))
    found.models.sort(key=lambda m: (m.order_key, m.label))
    return found


@source("folder", version=1)
def folder_source(watch: WatchFolder) -> Callable[[], Discovery]:
    """Checkpoint folders under a local directory."""
    return lambda: scan_folder(watch)
