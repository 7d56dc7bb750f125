"""Any table as a benchmark: CSV / TSV / JSONL / JSON / Parquet files, or a Hugging Face dataset.

`columns` maps a sample field to the column that holds it, e.g. {"text": "prompt", "category":
"type"}; a field not mapped is read from the column of its own name when there is one. Fields:
id, text, category, kind, instruction, key_phrase, rephrased, reference, image.

- id: without an id column, where the row is: its line (CSV, JSONL) or its 1-based position
  (JSON, Parquet, a dataset), stable only while the file is.
- kind: from the kind column (harmful / benign / utility; XSTest's safe / unsafe are accepted),
  or the fixed `kind` for every row when the file has none. Utility rows need a reference.
- category: "uncategorized" without a category column.
- image: a path relative to `images` (default: the file's folder), which it must not leave
  unless into `inputs.allowed_roots` (mmwatch.benchmarks.inputs); a Hugging Face image (PIL image
  or {"bytes": ...}) is kept as the sample's image, checked against the largest size any config
  allows before it is decoded.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

from mmwatch.benchmarks.rows import (
    Collector,
    LoadedBenchmark,
    RowError,
    csv_rows,
    optional,
    required,
    source_id,
)
from mmwatch.benchmarks.sources import fetch, local_folder
from mmwatch.plugins import benchmark
from mmwatch.types import CEILING, ImageData, InputRefusedError, Sample, SampleKind

FIELDS = ("id", "text", "category", "kind", "instruction", "key_phrase", "rephrased", "reference", "image")
KIND_ALIASES = {"safe": "benign", "unsafe": "harmful"}
UNCATEGORIZED = "uncategorized"
_SUFFIXES = (".csv", ".tsv", ".jsonl", ".ndjson", ".json", ".parquet")


@benchmark("table", version=1, generic=True)
def table(
    path: str,
    columns: dict[str, str] | None = None,
    name: str | None = None,
    kind: str | None = None,
    images: str | None = None,
    sha256: str | None = None,
) -> LoadedBenchmark:
    """Samples from a CSV / TSV / JSONL / JSON / Parquet table through a column mapping."""
    file = fetch(path, sha256)
    suffix = file.suffix.lower()
    if suffix not in _SUFFIXES:
        raise ValueError(f"{file}: unknown table format {suffix or '(none)'!r} (allowed: {', '.join(_SUFFIXES)})")
    folder = local_folder(images, "table images") if images is not None else file.absolute().parent
    out = Collector(file, name or file.stem, image_root=folder)
    mapping = ColumnMap(columns, kind, file)
    if suffix in (".csv", ".tsv"):
        delimiter = "\t" if suffix == ".tsv" else ","
        rows: Iterator[tuple[str, Any]] = csv_rows(file, mapping.named_columns(), out, delimiter)
    elif suffix == ".parquet":
        rows = _parquet_rows(file, mapping)
    else:
        rows = _json_rows(file, out, lines=suffix != ".json")
    for where, row in rows:
        out.add(where, partial(mapping.sample, row, out.name, where.split()[-1], folder))
    return out.result()


@benchmark("hf-dataset", version=1, generic=True)
def hf_dataset(
    dataset: str,
    split: str = "test",
    columns: dict[str, str] | None = None,
    revision: str | None = None,
    config: str | None = None,
    name: str | None = None,
    kind: str | None = None,
) -> LoadedBenchmark:
    """Samples from a Hugging Face dataset split through a column mapping (needs `datasets`)."""
    try:
        import datasets
    except ImportError:
        raise ImportError("the hf-dataset benchmark needs the `datasets` package: pip install datasets") from None
    origin = f"hf://{dataset}" + (f"@{revision}" if revision else "") + f"[{split}]"
    mapping = ColumnMap(columns, kind, origin)  # a bad mapping fails before any download
    rows = datasets.load_dataset(dataset, config, split=split, revision=revision)
    out = Collector(Path(dataset), name or dataset, label=origin)
    for number, row in enumerate(rows, start=1):
        out.add(f"row {number}", partial(mapping.sample, row, out.name, str(number), None))
    return out.result()


class ColumnMap:
    """Which column holds which sample field, checked once for the file before any row."""

    def __init__(self, columns: dict[str, str] | None, kind: str | None, origin: Path | str) -> None:
        columns = dict(columns or {})
        unknown = sorted(set(columns) - set(FIELDS))
        if unknown:
            raise ValueError(
                f"{origin}: columns maps unknown field(s) {', '.join(unknown)} (fields: {', '.join(FIELDS)})"
            )
        if kind is not None and "kind" in columns:
            raise ValueError(f"{origin}: give either a fixed kind or columns['kind'], not both")
        try:
            self.fixed_kind = _kind(kind, "kind") if kind is not None else None
        except RowError as exc:
            raise ValueError(f"{origin}: {exc}") from None
        self.explicit = columns
        self.columns = {f: columns.get(f, f) for f in FIELDS}
        self.origin = origin

    def named_columns(self) -> list[str]:
        """The columns a file with a header must have: the ones the mapping names."""
        return list(self.explicit.values())

    def sample(self, row: Any, bench: str, position: str, images: Path | None) -> Sample:
        """One row as a sample; `position` is its id when the table has no id column."""
        if not isinstance(row, dict):
            raise RowError(f"(record): expected an object, got {type(row).__name__}")
        col = self.columns
        if self.fixed_kind is not None:
            kind = self.fixed_kind
        elif col["kind"] in row:
            kind = _kind(row[col["kind"]], col["kind"])
        elif "kind" in self.explicit:
            raise RowError(f"{col['kind']}: missing required field")
        else:
            raise RowError("kind: the table has no kind column; give the benchmark a fixed kind")
        fields: dict[str, Any] = {f: optional(row, col[f]) for f in ("instruction", "key_phrase", "rephrased",
                                                                      "reference")}
        if kind is SampleKind.UTILITY and not fields["reference"]:
            raise RowError(f"{col['reference']}: a utility sample needs a reference answer")
        return Sample(
            benchmark=bench,
            source_id=source_id(row, col["id"]) if col["id"] in row else position,
            category=(optional(row, col["category"]) or UNCATEGORIZED).strip(),
            kind=kind,
            text=required(row, col["text"]).strip(),
            **fields,
            **_image(row.get(col["image"]), col["image"], images),
        )


def _kind(value: Any, column: str) -> SampleKind:
    text = KIND_ALIASES.get(str(value).strip().lower(), str(value).strip().lower())
    allowed = [k.value for k in SampleKind]
    if text not in allowed:
        raise RowError(f"{column}: {value!r} is not one of {', '.join(allowed)} (or safe / unsafe)")
    return SampleKind(text)


def _image(value: Any, column: str, images: Path | None) -> dict[str, Any]:
    """`image_path` for a path (read later), `image` for image data a dataset already holds."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return {}
    if isinstance(value, str):
        path = Path(value.strip())
        return {"image_path": path if path.is_absolute() or images is None else images / path}
    try:
        if isinstance(value, dict) and value.get("bytes"):
            from PIL import Image

            CEILING.check_header(value["bytes"], f"{column}: the image")
            with Image.open(io.BytesIO(value["bytes"])) as img:
                return {"image": ImageData.from_pil(img.convert("RGB"))}
        if isinstance(value, dict) and value.get("path"):
            return _image(value["path"], column, images)
        if hasattr(value, "convert") and hasattr(value, "size"):  # a PIL image from `datasets`
            CEILING.check_pixels(value.size, f"{column}: the image")
            return {"image": ImageData.from_pil(value.convert("RGB"))}
    except InputRefusedError as exc:
        raise RowError(str(exc)) from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise RowError(f"{column}: unreadable image: {exc}") from None
    raise RowError(f"{column}: expected an image path or image, got {type(value).__name__}")


def _json_rows(file: Path, out: Collector, lines: bool) -> Iterator[tuple[str, Any]]:
    """(line or record, object) per record; a bad JSONL line is reported and skipped."""
    if not lines:
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{file}: not readable JSON: {exc}") from None
        if not isinstance(data, list):
            raise ValueError(f"{file}: expected a JSON list of records, got {type(data).__name__}")
        yield from ((f"record {i}", r) for i, r in enumerate(data, start=1))
        return
    for lineno, raw in enumerate(file.read_bytes().splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            out.problem(str(lineno), f"(line): not UTF-8: {exc}")
        except json.JSONDecodeError as exc:
            out.problem(str(lineno), f"(line): invalid JSON: {exc.msg} at column {exc.colno}")
        else:
            yield str(lineno), record


def _parquet_rows(file: Path, mapping: ColumnMap) -> Iterator[tuple[str, dict[str, Any]]]:
    import duckdb  # only Parquet needs it

    with duckdb.connect() as con:
        cursor = con.execute("SELECT * FROM read_parquet(?)", [str(file)])
        names = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    missing = [c for c in mapping.named_columns() if c not in names]
    if missing:
        raise ValueError(f"{file}: missing column(s) {', '.join(missing)} (has: {', '.join(names)})")
    for number, values in enumerate(rows, start=1):
        yield f"row {number}", dict(zip(names, values, strict=True))
