"""A utility benchmark's own numbers from its items, and the utility score that weighs them.

Each benchmark declares how it is scored (`UtilityScore`, a trait of its loader) and reports its
published metrics, one of them its headline (the number its paper ranks by):

- ACCURACY: right / answered (ScienceQA-IMG, mmwatch-mini, any exact-match set);
- CIRCULAR: MMBench's CircularEval, a question right only when every rotation is; per-rotation
  ("vanilla") accuracy beside it;
- MME: acc and acc+ per subtask (the sample's category); its headline is MME's total score
  normalised to [0, 1], the mean over subtasks of (acc + acc+) / 2 (MME's score, 100 * (acc +
  acc+) per subtask summed, divided by 200 per subtask);
- POPE: F1 with "yes" positive (headline), accuracy, precision, recall and the yes-ratio, and F1,
  accuracy and yes-ratio of each split (random, popular, adversarial: the sample's category);
- MEAN_SCORE: the mean graded score (VQA accuracy for VQAv2 / TextVQA, MM-Vet's grader).

An unreadable answer counts as wrong (Unscored.WRONG), as VLMEvalKit counts it, so a model that
answers out of format does not gain (POPE's confusion counts it as the opposite of the truth; the
POPE authors' own script reads any answer without "no" / "not" as yes, which this does not copy);
a benchmark with no item to count has no number, one whose every answer was unreadable scores 0.
The utility score is the equal-weight mean of the benchmarks' headlines (`utility_score`), so
the config's mix (5,000 POPE items beside 200 of MM-Vet) does not decide it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from mmwatch.analysis.stats import wilson
from mmwatch.scoring.aggregates import accuracy, circular, mme, pope, vqa_mean
from mmwatch.scoring.results import ItemResult, Rate, Unscored

Z = 1.96


class UtilityScore(StrEnum):
    """How a utility benchmark turns its items into its published number."""

    ACCURACY = "accuracy"
    CIRCULAR = "circular"
    MME = "mme"
    POPE = "pope"
    MEAN_SCORE = "mean-score"


class Metric(StrEnum):
    ACCURACY = "accuracy"
    CIRCULAR = "circular accuracy"
    PER_ROTATION = "per-rotation accuracy"
    ACC = "acc"
    ACC_PLUS = "acc+"
    MME = "MME score / max"
    F1 = "F1"
    PRECISION = "precision"
    RECALL = "recall"
    YES_RATIO = "yes ratio"
    MEAN_SCORE = "mean score"


@dataclass(frozen=True)
class Estimate:
    """One metric of one benchmark: value in [0, 1] with a 95 % interval, over n counted units
    (items, or questions / images for grouped metrics)."""

    metric: Metric
    value: float
    lo: float
    hi: float
    n: int
    headline: bool = False
    part: str | None = None  # a subset the benchmark also reports on its own (POPE's split); None: all of it


def _rate(metric: Metric, rate: Rate, headline: bool = False) -> list[Estimate]:
    if rate.value is None:
        return []
    lo, hi = rate.interval
    return [Estimate(metric, rate.value, lo, hi, rate.n, headline)]


def estimates(score: UtilityScore, results: Sequence[ItemResult],
              unscored: Unscored = Unscored.WRONG) -> list[Estimate]:
    """The benchmark's metrics, its headline first; [] without an item to count (under SKIP: without
    a scored one). Under WRONG a benchmark whose every answer was unreadable scores 0, not nothing."""
    if not results:
        return []
    if score is UtilityScore.CIRCULAR:
        c = circular(results, unscored)
        return _rate(Metric.CIRCULAR, c.groups, True) + _rate(Metric.PER_ROTATION, c.items)
    if score is UtilityScore.MME:
        return _mme(results, unscored)
    if score is UtilityScore.POPE:
        splits: dict[str, list[ItemResult]] = defaultdict(list)
        for r in results:
            splits[r.category or ""].append(r)
        each = [e for split, rs in sorted(splits.items()) if len(splits) > 1 for e in _pope(rs, unscored, split)]
        return _pope(results, unscored) + each
    if score is UtilityScore.MEAN_SCORE:
        mean = vqa_mean(results, unscored).mean
        if mean.value is None:
            return []
        return [Estimate(Metric.MEAN_SCORE, mean.value, *mean.interval(Z), mean.n, True)]
    return _rate(Metric.ACCURACY, accuracy(results, unscored).rate, True)


def _pope(results: Sequence[ItemResult], unscored: Unscored, part: str | None = None) -> list[Estimate]:
    """F1 (the headline of the whole set), accuracy, precision, recall and yes-ratio; of one split
    (`part`) F1, accuracy and yes-ratio, as the paper's tables give them."""
    p = pope(results, unscored)
    hits, n = p.true_pos, p.true_pos + (p.false_pos + p.false_neg) / 2  # F1 = TP / (TP + (FP + FN) / 2)
    f1 = [Estimate(Metric.F1, p.f1, *wilson(hits, math.ceil(n)), p.n, part is None)] if p.f1 is not None else []
    found = f1 + _rate(Metric.ACCURACY, p.accuracy) + _rate(Metric.YES_RATIO, p.yes_ratio)
    if part is None:
        found += _rate(Metric.PRECISION, p.precision) + _rate(Metric.RECALL, p.recall)
    return [replace(e, part=part) for e in found]


def _mme(results: Sequence[ItemResult], unscored: Unscored) -> list[Estimate]:
    """acc and acc+ over every item and image, and the headline: the mean over subtasks of (acc + acc+) / 2,
    with a normal interval (each subtask's acc and acc+ taken as fully correlated: the wider, safe side)."""
    by_subtask: dict[str, list[ItemResult]] = defaultdict(list)
    for r in results:
        by_subtask[r.category or ""].append(r)
    halves, variances = [], []
    for part in (mme(rs, unscored) for rs in by_subtask.values()):
        if part.items.value is None or part.groups.value is None:
            continue
        halves.append((part.items.value + part.groups.value) / 2)
        variances.append(((_se(part.items) + _se(part.groups)) / 2) ** 2)
    pooled = mme(results, unscored)
    out = []
    if halves:
        value = sum(halves) / len(halves)
        half = Z * math.sqrt(sum(variances)) / len(halves)
        out.append(Estimate(Metric.MME, value, max(0.0, value - half), min(1.0, value + half), pooled.items.n, True))
    return out + _rate(Metric.ACC, pooled.items) + _rate(Metric.ACC_PLUS, pooled.groups)


def _se(rate: Rate) -> float:
    """A proportion's standard error at its Agresti-Coull rate ((k + 2) / (n + 4): sane at 0/n and n/n)."""
    p = (rate.hits + 2) / (rate.n + 4)
    return math.sqrt(p * (1 - p) / (rate.n + 4))


def headline(found: Sequence[Estimate]) -> Estimate | None:
    return next((e for e in found if e.headline), None)


def utility_score(headlines: Sequence[Estimate]) -> tuple[float, float, float] | None:
    """The equal-weight mean of the benchmarks' headlines with a normal 95 % interval (each
    benchmark's standard error read off its own interval); one benchmark: its own interval."""
    if not headlines:
        return None
    if len(headlines) == 1:
        only = headlines[0]
        return only.value, only.lo, only.hi
    m = len(headlines)
    mean = sum(e.value for e in headlines) / m
    half = math.sqrt(sum(((e.hi - e.lo) / (2 * Z)) ** 2 for e in headlines)) / m * Z
    return mean, max(0.0, mean - half), min(1.0, mean + half)
