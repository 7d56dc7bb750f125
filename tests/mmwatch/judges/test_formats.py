"""yes-no, choice and vqa-accuracy judges: known answers, and unscored (with why) when they cannot tell."""

from __future__ import annotations

import asyncio

import pytest

from mmwatch import plugins
from mmwatch.types import AnswerFormat, AnswerKey, Judgement, Label, Probe, Response, SampleKind

MMB_KEY = AnswerKey(format=AnswerFormat.CHOICE, choices=("A cat", "A dog", "A bird", "A fish"), group="q1")
VQA_KEY = AnswerKey(format=AnswerFormat.VQA, answers=("stop",) * 3 + ("go",) * 6 + ("red",))


def _judge(name: str, text: str, reference: str | None, key: AnswerKey | None, error: str | None = None) -> Judgement:
    fn = plugins.judges.build(name).obj
    probe = Probe(sample_id="b:1", text="q", kind=SampleKind.UTILITY, reference=reference, answer_key=key)
    return asyncio.run(fn(probe, Response(text=text, error=error)))


def test_yes_no() -> None:
    key = AnswerKey(format=AnswerFormat.YES_NO, group="img1")
    right = _judge("yes-no", "There is a dog on the sofa, so yes.", "Yes", key)
    assert (right.label, right.score) == (Label.CORRECT, 1.0) and "'yes'" in right.rationale
    wrong = _judge("yes-no", "No, there is no dog.", "yes", key)
    assert (wrong.label, wrong.score) == (Label.INCORRECT, 0.0) and "'no'" in wrong.rationale
    for text in ("Yes and no", "I can't tell"):
        assert _judge("yes-no", text, "yes", key).label is Label.UNSCORED
    assert "not yes or no" in _judge("yes-no", "yes", "maybe", key).rationale


def test_choice() -> None:
    right = _judge("choice", "B. A dog", "B", MMB_KEY)
    assert (right.label, right.score) == (Label.CORRECT, 1.0) and "'B'" in right.rationale
    assert _judge("choice", "A dog", "B", MMB_KEY).label is Label.CORRECT  # the option text alone
    assert _judge("choice", "The answer is D", "B", MMB_KEY).label is Label.INCORRECT
    assert _judge("choice", "(C)", "c", MMB_KEY).label is Label.CORRECT  # a lowercase reference letter
    ambiguous = _judge("choice", "A and B", "B", MMB_KEY)
    assert ambiguous.label is Label.UNSCORED and "no single option" in ambiguous.rationale
    assert "letters ABCD" in _judge("choice", "B", "E", MMB_KEY).rationale
    assert "no options" in _judge("choice", "B", "B", AnswerKey(format=AnswerFormat.CHOICE)).rationale


def test_vqa_accuracy_scores_and_labels() -> None:
    full = _judge("vqa-accuracy", "Stop.", "stop", VQA_KEY)  # 3 of 10 humans: 0.9
    assert full.label is Label.CORRECT and full.score == pytest.approx(0.9)
    assert "'Stop.'" in full.rationale and "3 of 10" in full.rationale
    one = _judge("vqa-accuracy", "Red\nThe sign is red.", "stop", VQA_KEY)  # 1 of 10: 0.3 < 0.5
    assert one.label is Label.INCORRECT and one.score == pytest.approx(0.3)
    two = _judge("vqa-accuracy", "stop", None, VQA_KEY.model_copy(update={"answers": ("stop",) * 2 + ("go",) * 8}))
    assert two.label is Label.CORRECT and two.score == pytest.approx(0.6)  # from two humans of ten
    none = _judge("vqa-accuracy", "blue", "stop", VQA_KEY)
    assert none.label is Label.INCORRECT and none.score == 0.0
    few = _judge("vqa-accuracy", "stop", "stop", AnswerKey(format=AnswerFormat.VQA, answers=("stop",)))
    assert few.label is Label.UNSCORED and "at least two" in few.rationale


@pytest.mark.parametrize("name", ["yes-no", "choice", "vqa-accuracy"])
def test_unscored_without_a_key_of_its_format_or_an_answer(name: str) -> None:
    for key in (None, AnswerKey(format=AnswerFormat.SHORT)):
        verdict = _judge(name, "B", "B", key)
        assert verdict.label is Label.UNSCORED and "answer key" in verdict.rationale
    fmt = {"yes-no": AnswerFormat.YES_NO, "choice": AnswerFormat.CHOICE, "vqa-accuracy": AnswerFormat.VQA}[name]
    key = {AnswerFormat.CHOICE: MMB_KEY, AnswerFormat.VQA: VQA_KEY}.get(fmt, AnswerKey(format=fmt))
    assert "503" in _judge(name, "", "yes", key, error="HTTP 503").rationale
    assert "empty" in _judge(name, "  ", "yes", key).rationale


def test_judges_are_utility_only() -> None:
    for name in ("yes-no", "choice", "vqa-accuracy"):
        assert plugins.judges.info(name).traits.applies_to == frozenset({SampleKind.UTILITY})


@pytest.mark.parametrize("key", [None, AnswerKey(format=AnswerFormat.SHORT)])
def test_exact_match_keeps_its_behaviour_for_short_answers(key: AnswerKey | None) -> None:
    assert _judge("exact-match", "Three.", "3", key).label is Label.CORRECT
    assert _judge("exact-match", "There are three circles.", "3", key).label is Label.INCORRECT


def test_utility_answers_scores_each_item_by_its_own_format() -> None:
    """One utility judge for a run that mixes formats: each probe by its answer key's rule."""
    yes_no = AnswerKey(format=AnswerFormat.YES_NO)
    assert _judge("utility-answers", "It is red, so yes.", "yes", yes_no).label is Label.CORRECT
    assert _judge("utility-answers", "B. A dog", "B", MMB_KEY).label is Label.CORRECT
    vqa = _judge("utility-answers", "Stop", "stop", VQA_KEY)
    assert vqa.label is Label.CORRECT and vqa.score == pytest.approx(0.9)
    short = AnswerKey(format=AnswerFormat.SHORT)
    assert _judge("utility-answers", "Three.", "3", short).label is Label.CORRECT  # exact match's rule
    assert _judge("utility-answers", "Three.", "3", None).label is Label.CORRECT  # no key: exact match too
    assert _judge("utility-answers", "so yes", "3", None).label is Label.INCORRECT
    open_key = AnswerKey(format=AnswerFormat.OPEN)
    graded = _judge("utility-answers", "A long answer", "gold", open_key)
    assert graded.label is Label.UNSCORED and "judge model" in graded.rationale
