"""What the benchmark aggregates count: one item's result, and rates and means that keep their n.

Every aggregate is reported with its counts so that an interval can be drawn: a proportion with
a Wilson interval (mmwatch.analysis.stats.wilson), a mean of graded scores (VQA accuracy) with a
normal-approximation interval. An item whose answer could not be read (`correct` is None) is,
by `Unscored`, either left out and counted (mmwatch's rule) or counted wrong (the published
benchmarks' rule, for numbers comparable with their leaderboards).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from enum import StrEnum

from mmwatch.analysis.stats import wilson
from mmwatch.types import Judgement, Label, Probe


class Unscored(StrEnum):
    """What an aggregate does with an item whose answer could not be read."""

    SKIP = "skip"  # left out of the rate and counted in `unscored`
    WRONG = "wrong"  # counted as a wrong answer, as VLMEvalKit and the official scripts do


@dataclass(frozen=True)
class ItemResult:
    """One utility item as the aggregates see it.

    `group` ties items scored together (MME's two questions on one image, the rotations of one
    MMBench question); `score` is a graded item's score (VQA accuracy); `reference` is the
    right answer, which POPE needs to tell a wrong "yes" from a wrong "no"."""

    item: str
    correct: bool | None  # None: unscored
    group: str | None = None
    score: float | None = None
    reference: str | None = None
    category: str | None = None  # the benchmark's subtask (MME scores each subtask on its own)

    @property
    def group_key(self) -> str:
        """The group it is scored in; an item without one is a group of its own."""
        return self.group if self.group is not None else f"item:{self.item}"


def item_result(judgement: Judgement, probe: Probe) -> ItemResult:
    """A judged probe as an ItemResult: its label read as right / wrong / unscored, its group and
    reference from the probe's answer key."""
    correct = {Label.CORRECT: True, Label.INCORRECT: False}.get(judgement.label)
    group = probe.answer_key.group if probe.answer_key is not None else None
    return ItemResult(item=f"{probe.sample_id}#{probe.index}", correct=correct, group=group,
                      score=judgement.score if correct is not None else None, reference=probe.reference)


@dataclass(frozen=True)
class Rate:
    """hits out of n, with its Wilson interval; `value` is None when n is 0 (no data, not 0%)."""

    hits: int
    n: int

    def __post_init__(self) -> None:
        if not 0 <= self.hits <= self.n:
            raise ValueError(f"a rate needs 0 <= hits <= n, got {self.hits} of {self.n}")

    @property
    def value(self) -> float | None:
        return self.hits / self.n if self.n else None

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.hits, self.n)


@dataclass(frozen=True)
class Mean:
    """The mean of n scores in [0, 1] (not a proportion: a Wilson interval does not apply), kept as
    sums so that means of parts can be added; its interval is the normal approximation, clipped."""

    total: float
    total_sq: float
    n: int

    @classmethod
    def of(cls, scores: list[float]) -> Mean:
        for score in scores:
            if not 0.0 <= score <= 1.0:  # also rejects NaN
                raise ValueError(f"scores must be in [0, 1], got {score!r}")
        return cls(total=sum(scores), total_sq=sum(s * s for s in scores), n=len(scores))

    @property
    def value(self) -> float | None:
        return self.total / self.n if self.n else None

    def interval(self, z: float = 1.96) -> tuple[float, float]:
        if self.n < 2:
            return (0.0, 1.0)
        mean = self.total / self.n
        variance = max(0.0, (self.total_sq - self.n * mean * mean) / (self.n - 1))
        half = z * math.sqrt(variance / self.n)
        return (max(0.0, mean - half), min(1.0, mean + half))


def readable(results: list[ItemResult], unscored: Unscored) -> tuple[list[ItemResult], int]:
    """The results an aggregate counts, and how many had no readable answer: under WRONG those are
    kept, as wrong answers scoring 0."""
    missing = sum(r.correct is None for r in results)
    if unscored is Unscored.SKIP:
        return [r for r in results if r.correct is not None], missing
    return [r if r.correct is not None else replace(r, correct=False, score=0.0) for r in results], missing
