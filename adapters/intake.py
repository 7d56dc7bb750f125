"""Intake guards for checkpoints pulled from the hub.

A nightly job that downloads every new revision it finds can fill the disk and take the store
(and everything else on the machine) down with it. So a hub download is refused, with the
numbers, when it would leave less than `min_free_gb` free. The size comes from the hub listing
(`expected_bytes`); when it is unknown only the margin is checked.
"""

from __future__ import annotations

import shutil
from pathlib import Path

GB = 1e9


class InsufficientDiskError(OSError):
    """Not enough free disk for a download; the message gives needed vs free and the folder."""


def existing_parent(folder: Path) -> Path:
    """The folder itself or its nearest existing ancestor (a cache folder may not exist yet)."""
    folder = Path(folder).expanduser().absolute()
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            return candidate
    return folder  # unreachable: the root exists


def check_free_disk(required_bytes: int | None, folder: Path, min_free_gb: float) -> None:
    """Raise unless `folder`'s disk can take `required_bytes` and still keep `min_free_gb` free.

    `required_bytes=None` (size unknown) checks the margin only.
    """
    if required_bytes is not None and required_bytes < 0:
        raise ValueError(f"required_bytes must be >= 0, got {required_bytes}")
    if min_free_gb < 0:
        raise ValueError(f"min_free_gb must be >= 0, got {min_free_gb}")
    where = existing_parent(Path(folder))
    free = shutil.disk_usage(where).free
    needed = (required_bytes or 0) + int(min_free_gb * GB)
    if free < needed:
        size = f"{required_bytes / GB:.2f} GB download" if required_bytes is not None else "download of unknown size"
        raise InsufficientDiskError(
            f"not enough free disk in {where}: need {needed / GB:.2f} GB ({size} + {min_free_gb:g} GB kept free), "
            f"only {free / GB:.2f} GB free; free space or lower min_free_gb"
        )


def hub_cache_folder() -> Path:
    """Where hub downloads land (honours HF_HOME / HF_HUB_CACHE)."""
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def is_cached(repo_id: str, revision: str | None, cache: Path | None = None) -> bool:
    """Whether a snapshot of `repo_id` at `revision` (a sha or a branch) is already on disk."""
    root = (cache or hub_cache_folder()) / f"models--{repo_id.replace('/', '--')}"
    ref = revision or "main"
    ref_file = root / "refs" / ref
    sha = ref_file.read_text().strip() if ref_file.is_file() else ref
    return (root / "snapshots" / sha).is_dir()


def check_hub_download(repo_id: str, revision: str | None, expected_bytes: int | None, min_free_gb: float) -> None:
    """Refuse a hub download that would fill the disk; a snapshot already cached needs no room."""
    cache = hub_cache_folder()
    if not is_cached(repo_id, revision, cache):
        check_free_disk(expected_bytes, cache, min_free_gb)
