"""Answers that people labelled, read from a CSV: what judges are calibrated against.

Label files are CSV with columns `prompt,response,label` and optional `image` (a path, relative to
the CSV's folder), `category` (e.g. an MM-SafetyBench scenario, which `llm-mmsafety` needs),
`kind` (harmful | benign, default harmful) and `labeller`. Labels are `refusal`/`compliance` or
`unsafe`/`safe`, one pair per file (`refused`/`complied` are read as refusal/compliance). Errors
name the file and line of every bad row, all of them in one LabelsError.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from mmwatch.types import ImageData, SampleImageError, SampleKind

REQUIRED_COLUMNS = ("prompt", "response", "label")
SHOWN = 10  # bad rows named in one error before "... and N more"


class HumanLabel(StrEnum):
    REFUSAL = "refusal"
    COMPLIANCE = "compliance"
    UNSAFE = "unsafe"
    SAFE = "safe"


class LabelFamily(StrEnum):
    """What people judged: whether the model refused, or whether its answer was safe."""

    REFUSAL = "refusal"
    SAFETY = "safety"


POSITIVE: frozenset[HumanLabel] = frozenset({HumanLabel.COMPLIANCE, HumanLabel.UNSAFE})
FAMILY = {HumanLabel.REFUSAL: LabelFamily.REFUSAL, HumanLabel.COMPLIANCE: LabelFamily.REFUSAL,
          HumanLabel.UNSAFE: LabelFamily.SAFETY, HumanLabel.SAFE: LabelFamily.SAFETY}
CLASS_NAMES = {LabelFamily.REFUSAL: (HumanLabel.COMPLIANCE.value, HumanLabel.REFUSAL.value),  # (positive, negative)
               LabelFamily.SAFETY: (HumanLabel.UNSAFE.value, HumanLabel.SAFE.value)}
_SYNONYMS = {"refused": HumanLabel.REFUSAL, "complied": HumanLabel.COMPLIANCE}


class LabelsError(ValueError):
    """A label file that cannot be used; the message names the file and the rows."""


@dataclass(frozen=True)
class LabelledRow:
    """One answer that a person labelled; `where` (file:line) is what error messages name."""

    prompt: str
    response: str
    label: HumanLabel
    image: ImageData | None = None
    category: str = ""
    kind: SampleKind = SampleKind.HARMFUL
    where: str = ""
    labeller: str | None = None
    cell_key: str | None = None

    @property
    def positive(self) -> bool:
        return self.label in POSITIVE


def parse_label(value: str, where: str) -> HumanLabel:
    """`refusal`/`compliance`/`unsafe`/`safe` (any case; `refused`/`complied` accepted)."""
    key = value.strip().lower()
    try:
        return _SYNONYMS.get(key) or HumanLabel(key)
    except ValueError:
        allowed = ", ".join(h.value for h in HumanLabel)
        raise LabelsError(f"{where}: label {value!r} is not one of {allowed}") from None


def read_labels(path: Path | str) -> list[LabelledRow]:
    """Rows of a label CSV; every bad row is named (file:line) in one LabelsError."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise LabelsError(f"label file not found: {path}") from None
    except UnicodeDecodeError as exc:
        raise LabelsError(f"{path}: not UTF-8 text: {exc}") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))  # answers may hold newlines inside quotes
    columns = [c.strip() for c in reader.fieldnames or []]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise LabelsError(f"{path}: missing column(s) {', '.join(missing)} (found: {', '.join(columns) or 'none'}; "
                          f"need {','.join(REQUIRED_COLUMNS)}, optional image,category,kind)")
    rows: list[LabelledRow] = []
    problems: list[str] = []
    line = reader.line_num + 1  # where the next record starts
    for raw in reader:
        record = {(k or "").strip(): (v or "") for k, v in raw.items()}
        where, line = f"{path}:{line}", reader.line_num + 1
        try:
            rows.append(_row(record, where, path.parent))
        except LabelsError as exc:
            problems.append(str(exc))
    if problems:
        more = f"\n... and {len(problems) - SHOWN} more" if len(problems) > SHOWN else ""
        raise LabelsError(f"{path}: {len(problems)} bad row(s):\n" + "\n".join(problems[:SHOWN]) + more)
    if not rows:
        raise LabelsError(f"{path}: no labelled rows")
    families = {FAMILY[r.label]: r.where for r in rows}
    if len(families) > 1:
        raise LabelsError(f"{path}: mixes refusal/compliance labels (e.g. {families[LabelFamily.REFUSAL]}) with "
                          f"unsafe/safe labels (e.g. {families[LabelFamily.SAFETY]}); use one pair per file")
    return rows


def _row(record: dict[str, str], where: str, folder: Path) -> LabelledRow:
    label = parse_label(record["label"], where)
    if not record["prompt"].strip():
        raise LabelsError(f"{where}: prompt is empty")
    kind_text = record.get("kind", "").strip().lower() or SampleKind.HARMFUL.value
    if kind_text not in (SampleKind.HARMFUL.value, SampleKind.BENIGN.value):
        raise LabelsError(f"{where}: kind {kind_text!r} is not harmful or benign")
    image = None
    if record.get("image", "").strip():
        file = Path(record["image"].strip())
        try:
            image = ImageData.from_file(file if file.is_absolute() else folder / file)
        except SampleImageError as exc:
            raise LabelsError(f"{where}: image: {exc}") from None
    return LabelledRow(prompt=record["prompt"], response=record["response"], label=label, image=image,
                       category=record.get("category", "").strip(), kind=SampleKind(kind_text), where=where,
                       labeller=record.get("labeller", "").strip() or None)
