"""Inspect a local checkpoint folder without loading it: is it complete, and what is it.

The nightly watcher finds checkpoints while a trainer may still be writing them; evaluating a
half-written one would store results under a revision that never existed. So completeness is
checked from the files alone (cheap), and a local checkpoint's revision is a hash of what
determines its outputs (config + weights), not of its folder name or mtime. Pickle files of every
kind (`.bin`, `.pt`, `.pth`, `.ckpt`) count as pickle weights here and in the hub source alike.
"""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

CONFIG = "config.json"
SAFETENSORS_INDEX = "model.safetensors.index.json"
SAFETENSORS_WEIGHTS = "model.safetensors"
PICKLE_INDEX = "pytorch_model.bin.index.json"
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt")
# The pickle files transformers' from_pretrained opens by name (besides the index's shards).
PICKLE_WEIGHTS = ("pytorch_model.bin", "adapter_model.bin")
_CHUNK = 1 << 20


class PickleWeightsError(ValueError):
    """Pickle weights refused: unless allowed, and, when allowed, if they hold more than tensors
    (pickle can run code on load)."""


def safetensors_files(folder: Path) -> list[Path]:
    return sorted(p for p in Path(folder).glob("*.safetensors") if p.is_file())


def pickle_files(folder: Path) -> list[Path]:
    return sorted(p for p in Path(folder).iterdir() if p.is_file() and p.suffix in PICKLE_SUFFIXES)


def loadable_pickle_files(folder: Path) -> list[Path]:
    """The pickle files from_pretrained may unpickle from `folder`: the standard weight names and the
    shards the pickle index names. Other pickles (a trainer's optimizer.pt, training_args.bin) it
    never opens, and they hold more than tensors, so they are not ours to vet."""
    folder = Path(folder)
    names = {n for n in PICKLE_WEIGHTS if (folder / n).is_file()}
    if (folder / PICKLE_INDEX).is_file():
        names.update(_shards(folder / PICKLE_INDEX))
    return [folder / n for n in sorted(names)]


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
        names = ", ".join(p.name for p in pickle_files(folder))
        return False, f"{folder}: only pickle weights ({names}); pass allow_pickle=True to accept them"
    return False, f"{folder}: no weights (*.safetensors)"


def content_revision(folder: Path | str) -> str:
    """The stable revision id of a local checkpoint: sha256 of the name and bytes of config.json,
    the safetensors files and, where transformers would load pickle (no model.safetensors nor its
    index), every pickle file and the pickle index; first 12 hex characters.

    Pickle files beside safetensors weights are left out: they do not change the outputs (they
    are a trainer's optimizer or RNG state, often twice the model's size), and leaving them and
    the safetensors index (it restates what the shards' own headers say) out keeps every
    safetensors checkpoint's id what it was before pickle weights were hashed, so stored results
    keep their revision.
    """
    folder = Path(folder)
    files = [folder / CONFIG, *safetensors_files(folder)]
    if not ((folder / SAFETENSORS_WEIGHTS).is_file() or (folder / SAFETENSORS_INDEX).is_file()):
        files += pickle_files(folder)
        if (folder / PICKLE_INDEX).is_file():
            files.append(folder / PICKLE_INDEX)
    digest = hashlib.sha256()
    for path in files:
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


def _shards(index: Path) -> list[str]:
    """The shard file names a weight index maps tensors to (ValueError when it cannot be read)."""
    try:
        weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
        return sorted({str(name) for name in weight_map.values()})
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{index}: unreadable weight index ({exc})") from exc


def _missing_shards(folder: Path, index_name: str) -> str:
    index = folder / index_name
    if not index.is_file():
        return ""
    try:
        shards = _shards(index)
    except ValueError as exc:
        return str(exc)
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
