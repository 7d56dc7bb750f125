"""Inspect a local checkpoint folder without loading it: is it complete, and what is it.

The nightly watcher finds checkpoints while a trainer may still be writing them; evaluating a
half-written one would store results under a revision that never existed. So completeness is
checked from the files alone (cheap), and a local checkpoint's revision is a hash of what
determines its outputs (config + weights), not of its folder name or mtime.
"""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

CONFIG = "config.json"
SAFETENSORS_INDEX = "model.safetensors.index.json"
PICKLE_INDEX = "pytorch_model.bin.index.json"
PICKLE_SUFFIXES = (".bin", ".pt", ".pth")
_CHUNK = 1 << 20


class PickleWeightsError(ValueError):
    """A checkpoint has only pickle weights, which can run code on load; refused by default."""


def safetensors_files(folder: Path) -> list[Path]:
    return sorted(p for p in Path(folder).glob("*.safetensors") if p.is_file())


def pickle_files(folder: Path) -> list[Path]:
    return sorted(p for p in Path(folder).iterdir() if p.is_file() and p.suffix in PICKLE_SUFFIXES)


def is_complete(folder: Path | str, allow_pickle: bool = False) -> tuple[bool, str]:
    """(True, "ok") when the folder looks fully written, else (False, what is missing).

    Checks: config.json present and valid JSON; every shard a weight index names exists; at
    least one weights file (safetensors, or pickle when allowed); safetensors files are not
    truncated (their header says how long they must be).
    """
    folder = Path(folder)
    if not folder.is_dir():
        return False, f"{folder}: not a folder"
    config = folder / CONFIG
    if not config.is_file():
        return False, f"{folder}: no {CONFIG}"
    try:
        json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return False, f"{config}: not valid JSON ({exc})"
    for index_name in (SAFETENSORS_INDEX, PICKLE_INDEX):
        missing = _missing_shards(folder, index_name)
        if missing:
            return False, missing
    tensors = safetensors_files(folder)
    for path in tensors:
        problem = _truncated(path)
        if problem:
            return False, problem
    if tensors:
        return True, "ok"
    if pickle_files(folder):
        if allow_pickle:
            return True, "ok (pickle weights)"
        return False, f"{folder}: only pickle weights (.bin/.pt); pass allow_pickle=True to accept them"
    return False, f"{folder}: no weights (*.safetensors)"


def content_revision(folder: Path | str) -> str:
    """The stable revision id of a local checkpoint: sha256 of config.json and the safetensors
    files (name and bytes, in name order), first 12 hex characters."""
    folder = Path(folder)
    digest = hashlib.sha256()
    for path in [folder / CONFIG, *safetensors_files(folder)]:
        digest.update(path.name.encode() + b"\0")
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
        digest.update(b"\0")
    return digest.hexdigest()[:12]


def require_safe_weights(folder: Path, allow_pickle: bool) -> None:
    """Raise PickleWeightsError for a folder that holds pickle weights and no safetensors."""
    if not safetensors_files(folder) and pickle_files(folder) and not allow_pickle:
        names = ", ".join(p.name for p in pickle_files(folder))
        raise PickleWeightsError(
            f"{folder} has only pickle weights ({names}), which can execute code when loaded; "
            "convert them to safetensors or pass allow_pickle=True if you trust the source"
        )


def _missing_shards(folder: Path, index_name: str) -> str:
    index = folder / index_name
    if not index.is_file():
        return ""
    try:
        weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
        shards = sorted(set(weight_map.values()))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        return f"{index}: unreadable weight index ({exc})"
    missing = [s for s in shards if not (folder / s).is_file()]
    if missing:
        return f"{index} names missing shard(s): {', '.join(missing)}"
    return ""


def _truncated(path: Path) -> str:
    """A non-empty message when the safetensors file is shorter than its header promises."""
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            (header_len,) = struct.unpack("<Q", fh.read(8))
            if header_len > size - 8:
                return f"{path}: truncated safetensors header"
            header = json.loads(fh.read(header_len))
        ends = [v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"]
    except (OSError, ValueError, KeyError, TypeError, IndexError, struct.error) as exc:
        return f"{path}: unreadable safetensors file ({exc})"
    expected = 8 + header_len + max(ends, default=0)
    if size < expected:
        return f"{path}: truncated ({size} of {expected} bytes)"
    return ""
