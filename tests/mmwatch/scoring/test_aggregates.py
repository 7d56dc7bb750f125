"""Benchmark aggregates on hand-made tables: MME acc/acc+, POPE, MMBench circular, VQA mean."""

from __future__ import annotations

import pytest

from mmwatch.analysis.stats import wilson
from mmwatch.scoring.aggregates import accuracy, circular, mme, pope, vqa_mean
from mmwatch.scoring.results import ItemResult, Mean, Rate, Unscored, item_result
from mmwatch.types import AnswerFormat, AnswerKey, Judgement, Label, Probe, SampleKind


def _item(name: str, correct: bool | None, group: str | None = None, *, reference: str | None = None,
          score: float | None = None) -> ItemResult:
    return ItemResult(item=name, correct=correct, group=group, reference=reference, score=score)


# Three images, two questions each: img1 both right, img2 one right, img3 both wrong.
MME_TABLE = [_item("1a", True, "img1"), _item("1b", True, "img1"),
             _item("2a", True, "img2"), _item("2b", False, "img2"),
             _item("3a", False, "img3"), _item("3b", False, "img3")]


def test_mme_acc_and_acc_plus() -> None:
    result = mme(MME_TABLE)
    assert (result.items.hits, result.items.n) == (3, 6)  # acc 0.5
    assert (result.groups.hits, result.groups.n) == (1, 3)  # acc+: only img1
    assert result.mme_score == pytest.approx(100 * (3 / 6 + 1 / 3))
    assert result.items.interval == wilson(3, 6)


def test_mme_with_an_unreadable_answer() -> None:
    table = [*MME_TABLE, _item("4a", True, "img4"), _item("4b", None, "img4")]
    skipped = mme(table)  # img4 cannot be told right or wrong: left out of acc+, counted
    assert (skipped.items.hits, skipped.items.n, skipped.groups.hits, skipped.groups.n, skipped.unscored) == \
        (4, 7, 1, 3, 1)
    wrong = mme(table, Unscored.WRONG)  # as the official script counts it
    assert (wrong.items.hits, wrong.items.n, wrong.groups.hits, wrong.groups.n, wrong.unscored) == (4, 8, 1, 4, 1)


def test_circular_evaluation_one_rotation_wrong() -> None:
    q1 = [_item(f"q1-r{i}", True, "q1") for i in range(4)]
    q2 = [_item(f"q2-r{i}", i != 2, "q2") for i in range(4)]  # rotation 2 wrong: the question is wrong
    result = circular(q1 + q2)
    assert (result.groups.hits, result.groups.n) == (1, 2)
    assert (result.items.hits, result.items.n) == (7, 8)


def test_pope_on_a_hand_made_confusion() -> None:
    # TP 3, FN 2 (reference yes); TN 4, FP 1 (reference no)
    table = ([_item(f"y{i}", i < 3, reference="yes") for i in range(5)]
             + [_item(f"n{i}", i < 4, reference="no") for i in range(5)])
    result = pope(table)
    assert (result.true_pos, result.false_neg, result.true_neg, result.false_pos) == (3, 2, 4, 1)
    assert result.accuracy == Rate(7, 10)
    assert result.precision == Rate(3, 4)
    assert result.recall == Rate(3, 5)
    assert result.yes_ratio == Rate(4, 10)
    precision, recall = 3 / 4, 3 / 5
    assert result.f1 == pytest.approx(2 * precision * recall / (precision + recall))  # 2/3


def test_pope_unreadable_answers() -> None:
    table = [_item("y", None, reference="yes"), _item("n", None, reference="no"), _item("ok", True, reference="yes")]
    skipped = pope(table)
    assert (skipped.n, skipped.unscored, skipped.true_pos) == (1, 2, 1)
    wrong = pope(table, Unscored.WRONG)  # each counted as the wrong answer
    assert (wrong.true_pos, wrong.false_neg, wrong.false_pos, wrong.true_neg) == (1, 1, 1, 0)
    with pytest.raises(ValueError, match="not yes or no"):
        pope([_item("x", True, reference="maybe")])
    assert pope([]).f1 is None and pope([]).accuracy.value is None


def test_plain_accuracy_counts_unscored() -> None:
    table = [_item("a", True), _item("b", False), _item("c", None)]
    assert accuracy(table).rate == Rate(1, 2) and accuracy(table).unscored == 1
    assert accuracy(table, Unscored.WRONG).rate == Rate(1, 3)


def test_vqa_mean_averages_scores_not_labels() -> None:
    table = [_item("a", True, score=1.0), _item("b", True, score=0.6), _item("c", False, score=0.3),
             _item("d", None)]
    result = vqa_mean(table)
    assert result.mean.value == pytest.approx((1.0 + 0.6 + 0.3) / 3)  # labels would say 2/3
    assert result.unscored == 1 and result.mean.n == 3
    low, high = result.mean.interval()
    assert 0.0 <= low < (result.mean.value or 0.0) < high <= 1.0
    assert vqa_mean(table, Unscored.WRONG).mean.value == pytest.approx(1.9 / 4)
    with pytest.raises(ValueError, match="no score"):
        vqa_mean([_item("e", True)])


def test_rate_and_mean_edges() -> None:
    assert Rate(0, 0).value is None and Rate(0, 0).interval == (0.0, 1.0)
    with pytest.raises(ValueError):
        Rate(3, 2)
    with pytest.raises(ValueError):
        Mean.of([1.5])
    assert Mean.of([]).value is None and Mean.of([0.5]).interval() == (0.0, 1.0)


def test_item_result_from_a_judged_probe() -> None:
    probe = Probe(sample_id="mme:7", text="q", kind=SampleKind.UTILITY, reference="yes",
                  answer_key=AnswerKey(format=AnswerFormat.YES_NO, group="img7"))
    right = item_result(Judgement(label=Label.CORRECT, score=1.0), probe)
    assert (right.correct, right.group, right.reference, right.score) == (True, "img7", "yes", 1.0)
    assert item_result(Judgement(label=Label.UNSCORED, rationale="?"), probe).correct is None
    alone = item_result(Judgement(label=Label.INCORRECT, score=0.0), probe.model_copy(update={"answer_key": None}))
    assert alone.group_key == "item:mme:7#0"
