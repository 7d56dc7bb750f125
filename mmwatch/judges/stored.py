"""Score stored responses with every configured judge that has not scored them yet.

Verdicts are keyed by (cell, judge, version), so a new or changed judge re-scores what is
stored without generating again, and a second run judges nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from mmwatch.aio import run_sync
from mmwatch.judges.runner import JudgePlugin, judge_all
from mmwatch.records import Store

T = TypeVar("T")


def judge_stored(store: Store, judges: Sequence[JudgePlugin], run_id: str, concurrency: int = 8) -> dict[str, int]:
    """New verdicts written, per judge."""
    written: dict[str, int] = {}
    for judge in judges:
        traits = judge.traits
        kinds = None if traits.target_only else [k.value for k in traits.applies_to]
        items = store.cells_missing_verdict(judge.spec.name, judge.spec.version, kinds, traits.target_only)
        verdicts = run_sync(judge_all([judge], items, concurrency=concurrency)) if items else []
        written[judge.spec.name] = store.write_verdicts(run_id, verdicts)
    return written
