"""Human labels from the Label page into the primary store, where `storage.labels.labels` reads them.

The leaderboard otherwise only reads the snapshot; this is its one write, so it is kept here, small
and testable: each save opens the store for as long as one insert takes (the nightly cycle is the
store's usual writer and must not find it held), and a busy store raises `StoreBusy` so the caller
can keep the label and retry. The store named by the snapshot must already exist: a missing file
means the snapshot was moved away from its store, and creating an empty one would hide the labels.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pandas as pd
from PIL import Image

from mmwatch.analysis.labels import HumanLabel, LabelledRow
from mmwatch.types import ImageData, SampleKind
from storage.labels import add_labels
from storage.store import DuckDBStore, StoreBusy, StoreError, connect

SOURCE = "leaderboard"  # human_labels.source of every label written here
ARTIFACTS_KEY = "artifacts"  # meta key naming the store's artifact folder, where a snapshot has one

__all__ = ["ARTIFACTS_KEY", "SOURCE", "StoreBusy", "StoreError", "labelled_keys", "labelled_row", "save_labels"]


def labelled_row(item: pd.Series, label: HumanLabel, labeller: str, image: bytes | None = None) -> LabelledRow:
    """A label for one label-queue row (leaderboard.data.label_queue): prompt, answer, item and who said so."""
    return LabelledRow(
        prompt=str(item["prompt"]), response=str(item["response_text"]), label=label,
        image=ImageData.from_pil(Image.open(io.BytesIO(image))) if image is not None else None,
        category=str(item["category"] or ""), kind=SampleKind(item["kind"]), where=f"{SOURCE}:{item['cell_key']}",
        labeller=labeller.strip() or None, cell_key=str(item["cell_key"]),
    )


def _existing(store: Path) -> Path:
    if not Path(store).is_file():
        raise StoreError(f"the primary store {store} that this snapshot names does not exist here")
    return Path(store)


def save_labels(store: Path, rows: Sequence[LabelledRow], artifacts: Path | None = None) -> int:
    """Write rows (source 'leaderboard'); StoreBusy while a cycle holds the store.

    Without the store's artifact folder the images are left out: an image written to another folder
    would be a hash that `labels()` cannot read back. The cell key still names the cell and its image."""
    kept = list(rows) if artifacts is not None else [_without_image(r) for r in rows]
    with DuckDBStore(_existing(store), artifacts if artifacts is not None else Path(store).parent / "artifacts") as db:
        return add_labels(db, kept, source=SOURCE)


def _without_image(row: LabelledRow) -> LabelledRow:
    return LabelledRow(prompt=row.prompt, response=row.response, label=row.label, category=row.category,
                       kind=row.kind, where=row.where, labeller=row.labeller, cell_key=row.cell_key)


def labelled_keys(store: Path) -> frozenset[str]:
    """Cell keys that already have a human label (any source), read-only; StoreBusy while a cycle writes."""
    with connect(_existing(store), read_only=True) as con:
        try:
            found = con.execute("SELECT DISTINCT cell_key FROM human_labels WHERE cell_key IS NOT NULL").fetchall()
        except duckdb.CatalogException:  # a store from before migration 002: nothing labelled yet
            return frozenset()
    return frozenset(str(key) for (key,) in found)
