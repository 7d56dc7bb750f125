"""Pieces every file-based loader shares: CSV rows with their line numbers, field checks, and a
collector that turns rows into samples while skipping (and listing) the bad ones.

The contract is the one of `files.jsonl`: a bad row costs that row only, and `.problems` names the
file, the row (line, id or record number) and the field, so a run can say how much it did not use.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from mmwatch.benchmarks.files import JsonlBenchmark, RowError
from mmwatch.types import Sample

if TYPE_CHECKING:
    from _csv import Reader

log = logging.getLogger(__name__)

__all__ = [
    "Collector", "LoadedBenchmark", "RowError", "csv_rows", "json_records", "optional", "positive_int", "required", "source_id",
]


class LoadedBenchmark(JsonlBenchmark):
    """The good samples of one loaded benchmark (re-iterable) and the problems of its bad rows."""

    def __repr__(self) -> str:
        return f"LoadedBenchmark({self.name!r}, {str(self.path)!r}, samples={len(self)}, problems={len(self.problems)})"


class Collector:
    """Builds samples row by row; a RowError or a repeated id skips the row and records why."""

    def __init__(self, file: Path, name: str, label: str | None = None, image_root: Path | None = None) -> None:
        self.file = file
        self.name = name
        self.label = label or str(file)  # how problems name the source (a dataset has no file)
        self.image_root = image_root  # the folder the rows' images must resolve inside
        self.samples: list[Sample] = []
        self.problems: list[str] = []
        self._seen: dict[str, str] = {}
        self._origins: dict[str, str] = {}

    def add(self, where: str, build: Callable[[], Sample | None], file: Path | None = None) -> None:
        """Run `build` for the row at `where` (`12`, `id 5`, `record 3`); None means "not selected"."""
        try:
            sample = build()
            if sample is None:
                return
            first = self._seen.get(sample.source_id)
            if first is not None:
                raise RowError(f"id: duplicate id {sample.source_id!r} (first at {first})")
        except RowError as exc:
            self.problem(where, str(exc), file)
            return
        except ValidationError as exc:  # a value the checks above let through; still one row only
            error = exc.errors()[0]
            self.problem(where, f"{'.'.join(map(str, error['loc'])) or '(row)'}: {error['msg']}", file)
            return
        self._seen[sample.source_id] = f"{file.name}:{where}" if file else where
        self._origins[sample.source_id] = f"{file if file is not None else self.label}:{where}"
        self.samples.append(sample)

    def problem(self, where: str, message: str, file: Path | None = None) -> None:
        problem = f"{file if file is not None else self.label}:{where}: {message}"
        log.warning("skipped row of benchmark file: %s", problem)
        self.problems.append(problem)

    def result(self) -> LoadedBenchmark:
        return LoadedBenchmark(self.file, self.name, self.samples, self.problems, self.image_root, self._origins)


def json_records(file: Path) -> list[tuple[str, Any]]:
    """(where, record) of a JSON file holding a list of records (`record N`) or an object of
    id -> record (`id K`); a file that is not such JSON fails whole, naming the file."""
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{file}: not readable JSON: {exc}") from None
    if isinstance(data, list):
        return [(f"record {i}", r) for i, r in enumerate(data, start=1)]
    if isinstance(data, dict):
        return [(f"id {k}", r) for k, r in data.items()]
    raise ValueError(f"{file}: expected a JSON list of records or an object of id -> record")


def csv_rows(
    file: Path, required_columns: Sequence[str], problems: Collector, delimiter: str = ","
) -> Iterator[tuple[str, dict[str, str]]]:
    """(first line of the row, row as a dict) for each data row of a CSV file.

    A missing column fails the whole file (it is the wrong file); a row with the wrong number of
    fields or bytes that are not UTF-8 is reported to `problems` and skipped.
    """
    text = file.read_bytes().decode("utf-8-sig", errors="surrogateescape")
    yield from delimited_rows(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), file,
                              required_columns, problems, "CSV")


def delimited_rows(reader: Reader, file: Path, required_columns: Sequence[str], problems: Collector,
                   kind: str) -> Iterator[tuple[str, dict[str, str]]]:
    """The rows of a csv reader over `file` (CSV, or a VLMEvalKit TSV read as a stream), checked as
    csv_rows says: the header once, then each row on its own."""
    header = next(reader, None)
    if not header:
        wanted = f" with {', '.join(required_columns)}" if required_columns else ""
        raise ValueError(f"{file}: empty file, expected a header row{wanted}")
    header = [h.strip() for h in header]
    missing = [c for c in required_columns if c not in header]
    if missing:
        raise ValueError(f"{file}: missing column(s) {', '.join(missing)} (header has: {', '.join(header)})")
    while True:
        start = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            problems.problem(str(start), f"(row): unreadable {kind}: {exc}")
            continue
        if not values or all(not v.strip() for v in values):
            continue
        if len(values) != len(header):
            problems.problem(str(start), f"(row): expected {len(header)} fields, got {len(values)}")
            continue
        row = dict(zip(header, values, strict=True))
        bad = next((k for k, v in row.items() if _undecodable(v)), None)
        if bad is not None:
            problems.problem(str(start), f"{bad}: not UTF-8")
            continue
        yield str(start), row


def _undecodable(value: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in value)


def required(row: Mapping[str, Any], field: str) -> str:
    """A field that must hold non-blank text (numbers are taken as their text)."""
    value = row.get(field)
    if value is None:
        raise RowError(f"{field}: missing required field")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise RowError(f"{field}: must be a non-empty string, got {value!r}")
    return value


def optional(row: Mapping[str, Any], field: str) -> str | None:
    """A field that may be absent or blank (then None), else text."""
    value = row.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return required(row, field)


def source_id(row: Mapping[str, Any], field: str) -> str:
    """A row id: a non-empty string or an integer, never a bool or a float like 1.5."""
    value = row.get(field)
    if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip():
        raise RowError(f"{field}: must be a non-empty string or integer, got {value!r}")
    return str(value).strip()


def positive_int(row: Mapping[str, Any], field: str) -> int:
    value = row.get(field)
    try:
        number = int(str(value).strip())
    except ValueError:
        raise RowError(f"{field}: must be a positive integer, got {value!r}") from None
    if number < 1:
        raise RowError(f"{field}: must be a positive integer, got {value!r}")
    return number
