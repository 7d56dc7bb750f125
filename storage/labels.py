"""Human labels in the primary store: what `mmwatch calibrate` measures judges against.

The functions take the store (the one writer) rather than living on it, so the label table can
grow without touching `DuckDBStore`. Images go to the content-addressed artifact folder like
every other image; rows keep the hash.
"""

from __future__ import annotations

from collections.abc import Sequence

from mmwatch.analysis.labels import HumanLabel, LabelledRow
from mmwatch.types import SampleKind, stable_hash
from storage.rows import insert_rows, utcnow
from storage.store import DuckDBStore

COLUMNS = ("id", "prompt", "response", "label", "image_sha", "source", "labeller", "created_at", "cell_key", "category",
           "kind")


def label_id(row: LabelledRow, image_sha: str | None, source: str) -> str:
    """Identity of a labelled answer: the label is left out, so a corrected label replaces the old."""
    return stable_hash({"prompt": row.prompt, "response": row.response, "image": image_sha, "source": source,
                        "labeller": row.labeller, "category": row.category, "kind": row.kind.value}, length=32)


def add_labels(store: DuckDBStore, rows: Sequence[LabelledRow], source: str) -> int:
    """Insert or replace labelled rows; returns how many rows were written."""
    if not source.strip():
        raise ValueError("add_labels: source must name where the labels came from")
    records = []
    for row in rows:
        sha = store.put_image(row.image) if row.image is not None else None
        records.append([label_id(row, sha, source), row.prompt, row.response, row.label.value, sha, source,
                        row.labeller, utcnow(), row.cell_key, row.category, row.kind.value])
    insert_rows(store.con, "human_labels", COLUMNS, records, verb="INSERT OR REPLACE")
    return len(records)


def labels(store: DuckDBStore, source: str | None = None) -> list[LabelledRow]:
    """Every stored label (or one source's), oldest first, with images read back from the artifacts."""
    sql = f"SELECT {', '.join(COLUMNS)} FROM human_labels"
    params: list[str] = []
    if source is not None:
        sql += " WHERE source = ?"
        params.append(source)
    out = []
    for r in store.con.execute(sql + " ORDER BY created_at, id", params).fetchall():
        image = store.get_image(r[4]) if r[4] else None
        out.append(LabelledRow(prompt=r[1], response=r[2], label=HumanLabel(r[3]), image=image, category=r[9],
                               kind=SampleKind(r[10]), where=f"{r[5]}#{r[0][:8]}", labeller=r[6], cell_key=r[8]))
    return out
