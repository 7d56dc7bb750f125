"""VQA normalisation and accuracy (official rules), with expected values worked out by hand."""

from __future__ import annotations

import pytest

from mmwatch.scoring.vqa import normalise_vqa, short_answer, vqa_accuracy


@pytest.mark.parametrize(("answer", "want"), [
    ("Two dogs.", "2 dogs"),  # number word, period
    ("The Cat!", "cat"),  # article, case, "!"
    ("an apple", "apple"),
    ("3.5", "3.5"),  # a period before a digit stays
    ("1,000", "1000"),  # a comma between digits: punctuation removed, not spaced
    ("stop-sign", "stop sign"),  # a mark touching no space becomes a space
    ("red , white", "red white"),  # a mark touching a space is removed
    ("dont", "don't"),  # the contractions list
    ("none", "0"),  # "none" is a number word in the official map
    ("yes\nsir", "yes sir"),
])
def test_normalisation(answer: str, want: str) -> None:
    assert normalise_vqa(answer) == want


def _humans(said: int, answer: str = "stop", other: str = "go") -> list[str]:
    return [answer] * said + [other] * (10 - said)


@pytest.mark.parametrize(("said", "want"), [
    # leave each human out in turn, min(matches among the other nine / 3, 1), average the ten:
    (0, 0.0),
    (1, (1 * 0 / 3 + 9 * 1 / 3) / 10),  # 0.3
    (2, (2 * 1 / 3 + 8 * 2 / 3) / 10),  # 0.6
    (3, (3 * 2 / 3 + 7 * 1) / 10),  # 0.9: leaving out one of the three leaves two matches
    (4, 1.0),  # leaving any one out leaves at least three
    (10, 1.0),
])
def test_accuracy_by_the_subset_rule(said: int, want: float) -> None:
    assert vqa_accuracy("stop", _humans(said)) == pytest.approx(want)


def test_both_sides_are_normalised() -> None:
    assert vqa_accuracy("Two.", ["2"] * 10) == 1.0  # the official script would not normalise here: 0
    assert vqa_accuracy("The Stop sign", _humans(1, "stop sign")) == pytest.approx(0.3)


def test_too_few_human_answers() -> None:
    with pytest.raises(ValueError, match="at least two"):
        vqa_accuracy("stop", ["stop"])


@pytest.mark.parametrize(("text", "want"), [
    ("stop", "stop"),
    ("Stop.\nIt is a red sign.", "Stop."),
    ("Answer: two", "two"),
    ("The answer is: yellow", "yellow"),
    ("\n\n  cat  \n", "cat"),
    ("", None),
    ("...", None),
])
def test_short_answer(text: str, want: str | None) -> None:
    assert short_answer(text) == want
