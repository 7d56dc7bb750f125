"""A benchmark from a JSONL file that a user writes: one sample per line.

Fields: id, text, kind (harmful | benign | utility), category; optional instruction, key_phrase,
rephrased, reference, image (a path relative to the JSONL file, which must stay inside its folder
or an allowed root: mmwatch.benchmarks.inputs). A bad line costs that line only:
it is skipped, logged with file, line and field, and listed in `.problems` so a run can report
how much of the file it did not use. Images are not opened here (`Sample.image_path`), so one
corrupt image later fails one sample, not the load.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from mmwatch.plugins import benchmark
from mmwatch.types import Sample, SampleKind

log = logging.getLogger(__name__)

REQUIRED = ("id", "text", "kind", "category")
OPTIONAL = ("instruction", "key_phrase", "rephrased", "reference", "image")


class RowError(ValueError):
    """One line that cannot become a sample; the message names the field."""


class JsonlBenchmark:
    """The good samples of one JSONL file (iterable, re-iterable) and the problems of the bad lines.

    `image_root` is the folder its images must resolve inside (mmwatch.benchmarks.inputs), and
    `origin` says which file and row a sample came from, so a refused image names its row.
    """

    def __init__(
        self, path: Path, name: str, samples: list[Sample], problems: list[str],
        image_root: Path | None = None, origins: Mapping[str, str] | None = None,
    ) -> None:
        self.path = path
        self.name = name
        self.image_root = image_root
        self._samples = tuple(samples)
        self._problems = tuple(problems)
        self._origins = dict(origins or {})

    def origin(self, source_id: str) -> str | None:
        """`file:row` of the sample with this source id (None if unknown)."""
        return self._origins.get(source_id)

    @property
    def problems(self) -> list[str]:
        """One message per skipped line: `file:line: field: what is wrong`."""
        return list(self._problems)

    def __iter__(self) -> Iterator[Sample]:
        return iter(self._samples)

    def __len__(self) -> int:
        return len(self._samples)

    def __repr__(self) -> str:
        return f"JsonlBenchmark({str(self.path)!r}, samples={len(self)}, problems={len(self._problems)})"


@benchmark("jsonl", version=1, generic=True)
def jsonl(path: str, name: str | None = None) -> JsonlBenchmark:
    """Samples from a JSONL file; bad lines are skipped and reported, images are read lazily."""
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"benchmark file not found: {file}")
    bench_name = name or file.stem
    samples: list[Sample] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for lineno, raw in enumerate(file.read_bytes().splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            sample = _parse_line(raw, file, bench_name)
            if sample.source_id in seen:
                raise RowError(f"id: duplicate id {sample.source_id!r} (first on line {seen[sample.source_id]})")
        except RowError as exc:
            problem = f"{file}:{lineno}: {exc}"
            log.warning("skipped line of benchmark file: %s", problem)
            problems.append(problem)
            continue
        seen[sample.source_id] = lineno
        samples.append(sample)
    origins = {sid: f"{file}:{lineno}" for sid, lineno in seen.items()}
    return JsonlBenchmark(file, bench_name, samples, problems, file.absolute().parent, origins)


def _parse_line(raw: bytes, file: Path, bench_name: str) -> Sample:
    try:
        row = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise RowError(f"(line): not UTF-8: {exc}") from None
    except json.JSONDecodeError as exc:
        raise RowError(f"(line): invalid JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(row, dict):
        raise RowError(f"(line): expected a JSON object, got {type(row).__name__}")
    for field in REQUIRED:
        if field not in row or row[field] is None:
            raise RowError(f"{field}: missing required field")
    source_id = row["id"]
    if isinstance(source_id, bool) or not isinstance(source_id, (str, int)) or str(source_id).strip() == "":
        raise RowError(f"id: must be a non-empty string or integer, got {source_id!r}")
    kind_value = row["kind"]
    allowed = [k.value for k in SampleKind]
    if kind_value not in allowed:
        raise RowError(f"kind: {kind_value!r} is not one of {', '.join(allowed)}")
    fields: dict[str, Any] = {"text": _text(row, "text"), "category": _text(row, "category")}
    for field in OPTIONAL:
        value = row.get(field)
        if field == "reference" and isinstance(value, (int, float)) and not isinstance(value, bool):
            fields[field] = str(value)  # `"reference": 3` means "3"
        elif value is not None:
            fields[field] = _text(row, field)
    kind = SampleKind(kind_value)
    if kind is SampleKind.UTILITY and not fields.get("reference"):
        raise RowError("reference: a utility sample needs a reference answer")
    image = fields.pop("image", None)
    image_path = (file.absolute().parent / image) if image is not None else None
    return Sample(benchmark=bench_name, source_id=str(source_id), kind=kind, image_path=image_path, **fields)


def _text(row: dict[str, Any], field: str) -> str:
    value = row[field]
    if not isinstance(value, str) or not value.strip():
        raise RowError(f"{field}: must be a non-empty string, got {value!r}")
    return value
