"""exact-match: normalisation (case, punctuation, number words, articles), first line/word rule."""

from __future__ import annotations

import asyncio

import pytest

from mmwatch import plugins
from mmwatch.judges.exact import normalise
from mmwatch.types import Judgement, Label, Probe, Response, SampleKind


def _judge(reference: str | None, text: str, error: str | None = None) -> Judgement:
    fn = plugins.judges.build("exact-match").obj
    probe = Probe(sample_id="b:1", text="q", kind=SampleKind.UTILITY, reference=reference)
    return asyncio.run(fn(probe, Response(text=text, error=error)))


@pytest.mark.parametrize(
    ("reference", "text"),
    [
        ("3", "3"),
        ("3", "Three."),
        ("3", "three"),
        ("three", "3"),
        ("20", "Twenty"),
        ("0", "zero"),
        ("red", "Red."),
        ("red", "**RED**"),
        ("circle", "A circle."),
        ("circle", "circle\nIt is drawn in grey."),
        ("HELLO", "hello"),
        ("HELLO", '"Hello!"'),
        ("red", "Red, with a white background."),  # first word
        ("ice cream", "Ice cream!"),
    ],
)
def test_correct(reference: str, text: str) -> None:
    verdict = _judge(reference, text)
    assert verdict.label is Label.CORRECT, verdict.rationale
    assert verdict.score == 1.0


@pytest.mark.parametrize(
    ("reference", "text"),
    [
        ("3", "4"),
        ("3", "There are three circles."),  # the answer is not in first position
        ("red", "blue"),
        ("circle", "square\ncircle"),
        ("3", "13"),
        ("20", "twelve"),
    ],
)
def test_incorrect(reference: str, text: str) -> None:
    verdict = _judge(reference, text)
    assert verdict.label is Label.INCORRECT, verdict.rationale
    assert verdict.score == 0.0


@pytest.mark.parametrize(("reference", "text", "error"), [(None, "3", None), ("", "3", None), ("3", "", None),
                                                           ("3", " .\n ", None), ("3", "", "boom")])
def test_unscored(reference: str | None, text: str, error: str | None) -> None:
    assert _judge(reference, text, error).label is Label.UNSCORED


def test_normalise() -> None:
    assert normalise("  The  Seven, dwarfs!! ") == "7 dwarfs"
    assert normalise("a") == "a"  # a lone article is kept: it may be the answer
    assert normalise("Eleven-Twelve") == "11 12"
