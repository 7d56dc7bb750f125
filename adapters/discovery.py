"""Find the model revisions to evaluate: those named in the config, and every complete checkpoint
folder under a watched directory (the directory is the lineage).

A local checkpoint's revision is a hash of its content, so a folder rewritten in place is a new
revision and a renamed one is not. Order in the lineage comes from the step number in the name
(`checkpoint-1200`, `step_300`), else from the folder's modification time.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from adapters.checkpoint import content_revision, is_complete
from mmwatch.config import RunConfig, WatchFolder
from mmwatch.records import ModelRecord, ModelSource

log = logging.getLogger(__name__)

_STEP = re.compile(r"(?:^|[-_])(?:checkpoint|step|ckpt|iter|epoch)?[-_]?(\d+)$", re.IGNORECASE)


@dataclass
class Discovery:
    models: list[ModelRecord] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "folder: why" for incomplete checkpoints


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
    allow_pickle = bool(watch.params.get("allow_pickle", False))
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        ok, why = is_complete(folder, allow_pickle=allow_pickle)
        if not ok:
            found.skipped.append(f"{folder}: {why}")
            log.info("skipping %s until it is complete: %s", folder, why)
            continue
        step = step_number(folder.name)
        found.models.append(ModelRecord(
            lineage=lineage, revision=content_revision(folder), label=folder.name, source=ModelSource.FOLDER,
            adapter=watch.adapter, adapter_params={**watch.params, "path": str(folder.resolve())},
            order_key=step if step is not None else folder.stat().st_mtime,
        ))
    found.models.sort(key=lambda m: (m.order_key, m.label))
    return found


def discover(config: RunConfig) -> Discovery:
    """Every model revision the config points at, named ones first."""
    found = Discovery()
    for model in config.models:
        found.models.append(ModelRecord(
            lineage=model.lineage, revision=model.revision, label=model.lineage.rsplit("/", 1)[-1],
            source=ModelSource.CONFIG, adapter=model.adapter, adapter_params=dict(model.params),
        ))
    for watch in config.watch:
        part = scan_folder(watch)
        found.models += part.models
        found.skipped += part.skipped
    return found
