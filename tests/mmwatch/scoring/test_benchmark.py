"""Each utility benchmark's published numbers from items whose answers are known."""

from __future__ import annotations

import pytest

from mmwatch.scoring.benchmark import Estimate, Metric, UtilityScore, estimates, headline, utility_score
from mmwatch.scoring.results import ItemResult, Unscored


def _by_metric(found: list[Estimate]) -> dict[Metric, float]:
    return {e.metric: e.value for e in found}


def test_accuracy_counts_an_unreadable_answer_wrong_as_the_published_scripts_do() -> None:
    found = estimates(UtilityScore.ACCURACY, [ItemResult("a", True), ItemResult("b", None), ItemResult("c", True)])
    best = headline(found)
    assert best is not None and (best.metric, best.value, best.n) == (Metric.ACCURACY, pytest.approx(2 / 3), 3)


def test_circular_needs_every_rotation_right() -> None:
    results = [ItemResult(f"q1r{i}", True, group="q1") for i in range(4)]
    results += [ItemResult(f"q2r{i}", i != 2, group="q2") for i in range(4)]
    found = _by_metric(estimates(UtilityScore.CIRCULAR, results))
    assert found == {Metric.CIRCULAR: 0.5, Metric.PER_ROTATION: 7 / 8}
    best = headline(estimates(UtilityScore.CIRCULAR, results))
    assert best is not None and best.metric is Metric.CIRCULAR


def test_mme_headline_is_the_mean_over_subtasks_of_acc_and_acc_plus() -> None:
    # subtask "count": both images right on both questions -> acc 1, acc+ 1; subtask "color": one
    # image with one wrong answer of two -> acc 0.5, acc+ 0 (and a small subtask weighs the same)
    results = [ItemResult(f"c{i}{j}", True, group=f"count/{i}", category="count") for i in range(2) for j in range(2)]
    results += [ItemResult("k0", True, group="color/0", category="color"),
                ItemResult("k1", False, group="color/0", category="color")]
    found = _by_metric(estimates(UtilityScore.MME, results))
    assert found[Metric.MME] == pytest.approx(((1 + 1) / 2 + (0.5 + 0) / 2) / 2)
    best = headline(estimates(UtilityScore.MME, results))
    assert best is not None and best.lo < best.value < best.hi  # an interval around its own value
    assert found[Metric.ACC] == pytest.approx(5 / 6) and found[Metric.ACC_PLUS] == pytest.approx(2 / 3)


def test_pope_headline_is_f1_with_yes_positive() -> None:
    said = [("yes", True), ("yes", True), ("yes", False), ("no", True), ("no", False)]  # TP 2, FN 1, TN 1, FP 1
    found = estimates(UtilityScore.POPE, [ItemResult(str(i), right, reference=ref) for i, (ref, right) in enumerate(said)])
    values = _by_metric(found)
    assert values[Metric.F1] == pytest.approx(2 * 2 / (2 * 2 + 1 + 1))
    assert values[Metric.ACCURACY] == pytest.approx(3 / 5) and values[Metric.YES_RATIO] == pytest.approx(3 / 5)
    best = headline(found)
    assert best is not None and best.metric is Metric.F1


def test_mean_score_averages_graded_scores_not_labels() -> None:
    results = [ItemResult("a", True, score=1.0), ItemResult("b", True, score=0.6), ItemResult("c", False, score=0.3)]
    (only,) = estimates(UtilityScore.MEAN_SCORE, results)
    assert (only.metric, only.value, only.headline) == (Metric.MEAN_SCORE, pytest.approx(1.9 / 3), True)
    assert 0 <= only.lo < only.value < only.hi <= 1


def test_no_item_is_no_number_but_only_unreadable_answers_score_zero() -> None:
    """A revision that breaks its answer format drops to 0; one with nothing to count has no number."""
    assert estimates(UtilityScore.POPE, []) == []
    unreadable = [ItemResult(str(i), None, reference="yes") for i in range(3)]
    assert estimates(UtilityScore.POPE, unreadable, Unscored.SKIP) == []
    found = _by_metric(estimates(UtilityScore.ACCURACY, unreadable))
    assert found == {Metric.ACCURACY: 0.0}


def test_utility_score_weighs_each_benchmark_the_same() -> None:
    small = Estimate(Metric.F1, 0.4, 0.2, 0.6, 10, True)
    large = Estimate(Metric.ACCURACY, 0.9, 0.89, 0.91, 5000, True)
    scored = utility_score([small, large])
    assert scored is not None
    value, lo, hi = scored
    assert value == pytest.approx(0.65)
    assert lo < 0.65 < hi and hi - lo < small.hi - small.lo  # narrower than the small one's alone
    assert utility_score([small]) == (0.4, 0.2, 0.6)
    assert utility_score([]) is None


def test_pope_reports_each_split_beside_the_whole() -> None:
    """The paper's tables give F1, accuracy and yes-ratio per split (random, popular, adversarial)."""
    said = {"random": [("yes", True), ("no", True)], "adversarial": [("yes", True), ("no", False)]}
    results = [ItemResult(f"{split}{i}", right, reference=ref, category=split)
               for split, rows in said.items() for i, (ref, right) in enumerate(rows)]
    found = estimates(UtilityScore.POPE, results)
    parts = {(e.part, e.metric): e.value for e in found}
    assert parts[None, Metric.F1] == pytest.approx(2 * 2 / (2 * 2 + 1))  # TP 2, FP 1 (adversarial's wrong "no")
    assert parts["random", Metric.F1] == 1.0 and parts["adversarial", Metric.F1] == pytest.approx(2 / 3)
    assert parts["adversarial", Metric.YES_RATIO] == 1.0
    assert [e.part for e in found if e.headline] == [None]  # the whole set is the headline
