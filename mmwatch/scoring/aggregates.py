"""Benchmark scores over per-item results, each as its benchmark defines it, with its counts.

- plain accuracy: right / answered.
- MME: acc per question and acc+ per image (both of its questions right); a subtask's MME score
  is 100 * (acc + acc+), and the published totals sum those over the subtasks of a part.
- MMBench circular evaluation: a question counts right only if every rotation of its options
  was answered right; the per-rotation ("vanilla") accuracy comes with it.
- POPE: accuracy, precision, recall, F1 and the share of "yes" answers, "yes" being positive.
- VQA accuracy: the mean of the items' graded scores, never the share of CORRECT labels.

Under Unscored.SKIP a group with an unreadable item is left out of the group rate (it cannot be
told whether the group was right); under WRONG it counts as wrong.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from mmwatch.scoring.results import ItemResult, Mean, Rate, Unscored, readable
from mmwatch.scoring.yes_no import YesNo, parse_yes_no


@dataclass(frozen=True)
class Accuracy:
    rate: Rate
    unscored: int  # items whose answer could not be read (left out, or counted wrong)


@dataclass(frozen=True)
class GroupedAccuracy:
    """Per item and per group: MME's acc / acc+, MMBench's vanilla / circular accuracy."""

    items: Rate
    groups: Rate  # groups with every item right
    unscored: int

    @property
    def mme_score(self) -> float | None:
        """MME's score of one subtask: 100 * (acc + acc+)."""
        acc, acc_plus = self.items.value, self.groups.value
        return None if acc is None or acc_plus is None else 100 * (acc + acc_plus)


@dataclass(frozen=True)
class Pope:
    true_pos: int
    false_pos: int
    true_neg: int
    false_neg: int
    unscored: int

    @property
    def n(self) -> int:
        return self.true_pos + self.false_pos + self.true_neg + self.false_neg

    @property
    def accuracy(self) -> Rate:
        return Rate(self.true_pos + self.true_neg, self.n)

    @property
    def precision(self) -> Rate:
        return Rate(self.true_pos, self.true_pos + self.false_pos)

    @property
    def recall(self) -> Rate:
        return Rate(self.true_pos, self.true_pos + self.false_neg)

    @property
    def yes_ratio(self) -> Rate:
        return Rate(self.true_pos + self.false_pos, self.n)

    @property
    def f1(self) -> float | None:
        """2PR / (P + R) = 2TP / (2TP + FP + FN); None with no positive answer or item at all."""
        denominator = 2 * self.true_pos + self.false_pos + self.false_neg
        return 2 * self.true_pos / denominator if denominator else None


@dataclass(frozen=True)
class VqaAccuracy:
    mean: Mean
    unscored: int


def accuracy(results: Iterable[ItemResult], unscored: Unscored = Unscored.SKIP) -> Accuracy:
    counted, missing = readable(list(results), unscored)
    return Accuracy(Rate(sum(bool(r.correct) for r in counted), len(counted)), missing)


def grouped_accuracy(results: Iterable[ItemResult], unscored: Unscored = Unscored.SKIP) -> GroupedAccuracy:
    """Right per item and per group (every item of the group right)."""
    every = list(results)
    counted, missing = readable(every, unscored)
    unreadable = {r.group_key for r in every if r.correct is None}
    groups: dict[str, list[bool]] = defaultdict(list)
    for r in counted:
        if unscored is Unscored.WRONG or r.group_key not in unreadable:
            groups[r.group_key].append(bool(r.correct))
    return GroupedAccuracy(items=Rate(sum(bool(r.correct) for r in counted), len(counted)),
                           groups=Rate(sum(all(v) for v in groups.values()), len(groups)), unscored=missing)


def mme(results: Iterable[ItemResult], unscored: Unscored = Unscored.SKIP) -> GroupedAccuracy:
    """MME acc (`items`) and acc+ (`groups`: the images whose questions were all answered right),
    for the results of one subtask."""
    return grouped_accuracy(results, unscored)


def circular(results: Iterable[ItemResult], unscored: Unscored = Unscored.SKIP) -> GroupedAccuracy:
    """MMBench CircularEval: `groups` is the share of questions right in every rotation, `items`
    the accuracy over single rotations."""
    return grouped_accuracy(results, unscored)


def pope(results: Iterable[ItemResult], unscored: Unscored = Unscored.SKIP) -> Pope:
    """POPE's confusion from right / wrong and the yes/no reference: a wrong answer is the opposite
    of the reference. Under WRONG an unreadable answer is that wrong answer too."""
    counts = {(truth, said): 0 for truth in YesNo for said in YesNo}
    counted, missing = readable(list(results), unscored)
    for r in counted:
        truth = parse_yes_no(r.reference or "")
        if truth is None:
            raise ValueError(f"POPE item {r.item}: reference {r.reference!r} is not yes or no")
        counts[truth, truth if r.correct else truth.opposite] += 1
    return Pope(true_pos=counts[YesNo.YES, YesNo.YES], false_pos=counts[YesNo.NO, YesNo.YES],
                true_neg=counts[YesNo.NO, YesNo.NO], false_neg=counts[YesNo.YES, YesNo.NO], unscored=missing)


def vqa_mean(results: Iterable[ItemResult], unscored: Unscored = Unscored.SKIP) -> VqaAccuracy:
    """The VQA accuracy of a set: the mean of the items' scores (a label alone says too little: two
    humans of ten and ten of ten are both CORRECT)."""
    counted, missing = readable(list(results), unscored)
    scores: list[float] = []
    for r in counted:
        if r.score is None:
            raise ValueError(f"VQA item {r.item} has no score to average")
        scores.append(r.score)
    return VqaAccuracy(Mean.of(scores), missing)
