"""What the utility loaders share: the benchmarks' standard answer instructions, option prompts
and their rotations, and the answer keys the scorers read (mmwatch.types.AnswerKey).

The instructions are the ones the published evaluations send (LLaVA's evaluation prompts), so a
model is asked the way its reported numbers were measured.
"""

from __future__ import annotations

import json
import string
from collections import Counter
from collections.abc import Callable, Sequence
from enum import StrEnum
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import ValidationError

from mmwatch.benchmarks.rows import Collector, RowError
from mmwatch.types import AnswerFormat, AnswerKey, Sample

LETTERS = string.ascii_uppercase


class Instruction(StrEnum):
    """How each kind of question asks to be answered."""

    CHOICE = "Answer with the option's letter from the given choices directly."
    YES_NO = "Please answer yes or no."
    SHORT = "Answer the question using a single word or phrase."


def ask(question: str, instruction: Instruction) -> str:
    """The question with its instruction on a new line, unless it already ends with it (MME's do)."""
    question = question.strip()
    if question.lower().endswith(instruction.value.lower()):
        return question
    return f"{question}\n{instruction.value}"


def choice_prompt(question: str, choices: Sequence[str], context: str | None = None) -> str:
    """Context (if any), the question, one `A. option` line per choice, then the instruction."""
    lines = [context] if context else []
    lines += [question.strip(), *(f"{LETTERS[i]}. {c}" for i, c in enumerate(choices)), Instruction.CHOICE.value]
    return "\n".join(lines)


def rotations(choices: Sequence[str], answer: int, circular: bool) -> list[tuple[int, tuple[str, ...], int]]:
    """(k, choices shifted left by k, the answer's new position) for k = 0..n-1 (only 0 unless
    `circular`): CircularEval shows each question once per rotation of its options."""
    n = len(choices)
    return [(k, tuple(choices[(i + k) % n] for i in range(n)), (answer - k) % n)
            for k in range(n if circular else 1)]


def choice_key(choices: Sequence[str], answer: int, group: str | None = None) -> tuple[str, AnswerKey]:
    """The reference letter and the CHOICE answer key of options shown in this order."""
    return LETTERS[answer], AnswerKey(format=AnswerFormat.CHOICE, choices=tuple(choices), group=group)


def option_letter(value: str, count: int, column: str) -> int:
    """The position of an answer letter among `count` options (`B` -> 1)."""
    letter = value.strip().upper()
    if len(letter) != 1 or letter not in LETTERS[:count]:
        raise RowError(f"{column}: {value!r} is not one of the option letters {', '.join(LETTERS[:count])}")
    return LETTERS.index(letter)


def yes_no(value: str, column: str, group: str | None = None) -> tuple[str, AnswerKey]:
    """A yes / no reference, lower-cased (the files write `Yes` / `No`)."""
    answer = value.strip().lower()
    if answer not in ("yes", "no"):
        raise RowError(f"{column}: {value!r} is not yes or no")
    return answer, AnswerKey(format=AnswerFormat.YES_NO, group=group)


def vqa_key(answers: object, column: str) -> tuple[str, AnswerKey]:
    """The most common human answer (the first of them on a tie) and every answer, repeats kept."""
    if not isinstance(answers, list) or not answers or not all(isinstance(a, str) and a.strip() for a in answers):
        raise RowError(f"{column}: expected a non-empty list of answer strings, got {answers!r}")
    kept = tuple(a.strip() for a in answers)
    return Counter(kept).most_common(1)[0][0], AnswerKey(format=AnswerFormat.VQA, answers=kept)


def json_object(file: Path, key: str) -> tuple[dict[str, Any], list[tuple[str, Any]]]:
    """A JSON file holding an object with a list of records under `key` ({"data": [...]}): the
    object and (`record N`, record) of the list; any other file fails whole, naming it and the key."""
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{file}: not readable JSON: {exc}") from None
    records = data.get(key) if isinstance(data, dict) else None
    if not isinstance(data, dict) or not isinstance(records, list):
        raise ValueError(f"{file}: expected a JSON object with a list under {key!r}")
    return data, [(f"record {i}", r) for i, r in enumerate(records, start=1)]


def image_in(folder: Path, name: str, column: str) -> Path:
    """A row's image path inside the benchmark's image folder (read later, `Sample.image_path`);
    `inputs.ImageScreen` confines it again after symlinks are resolved."""
    rel = PurePosixPath(name.strip())
    if not name.strip() or rel.is_absolute() or ".." in rel.parts:
        raise RowError(f"{column}: must be a path inside the images folder, got {name!r}")
    return folder.joinpath(*rel.parts)


def add_many(out: Collector, where: str, build: Callable[[], Sequence[Sample]]) -> None:
    """`Collector.add` for a row that gives several samples (rotations, splits): a bad row is one
    problem, not one per sample."""
    try:
        samples = build()
    except RowError as exc:
        out.problem(where, str(exc))
        return
    except ValidationError as exc:
        error = exc.errors()[0]
        out.problem(where, f"{'.'.join(map(str, error['loc'])) or '(row)'}: {error['msg']}")
        return
    for sample in samples:
        out.add(where, partial(_same, sample))


def _same(sample: Sample) -> Sample:
    return sample
