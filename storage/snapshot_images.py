"""The images a snapshot publishes: those its examples were sent, downscaled, as PNG.

Read from the artifact folder by sha256; a reader of the board gets a thumbnail, never the
original (which may be large, and in public mode never one sent with a harmful item: those are
left out by the caller's choice of examples). A missing file, or no artifact folder at all, is
skipped with a log line (a damaged one too): the board shows the item without its picture.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable
from pathlib import Path

import duckdb
from PIL import Image

from storage.artifacts import ArtifactStore

log = logging.getLogger(__name__)

MAX_SIDE = 512


def downscaled(png: bytes, max_side: int = MAX_SIDE) -> tuple[bytes, int, int]:
    """The image fitted into max_side x max_side, aspect kept (never enlarged), as PNG; with its size."""
    with Image.open(io.BytesIO(png)) as img:
        img.load()
        small = img.copy()
    small.thumbnail((max_side, max_side))
    buf = io.BytesIO()
    small.save(buf, format="PNG")
    return buf.getvalue(), small.width, small.height


def fill_images(con: duckdb.DuckDBPyConnection, target: str, shas: Iterable[str], artifacts: Path | None) -> int:
    """Insert each image (sha, png, width, height) into `target`; returns how many were written."""
    wanted = sorted(set(shas))
    if not wanted:
        return 0
    if artifacts is None:
        log.info("snapshot: %d image(s) not published: no artifact folder given", len(wanted))
        return 0
    store = ArtifactStore(artifacts)
    rows: list[tuple[str, bytes, int, int]] = []
    for sha in wanted:
        try:
            rows.append((sha, *downscaled(store.get(sha).png)))
        except FileNotFoundError as exc:
            log.info("snapshot: image not published: %s", exc)
        except (OSError, Image.DecompressionBombError) as exc:  # a damaged artifact: the item shows without it
            log.warning("snapshot: image %s not published: cannot read it: %s", sha, exc)
    if rows:
        con.executemany(f"INSERT INTO {target} VALUES (?, ?, ?, ?)", rows)
    return len(rows)
