"""exact-match: is a short answer to a utility question right?

Utility items ask for one word ("3", "red", "circle", "HELLO"). Models still answer "Three.",
"**Red**" or "A circle.\nIt is drawn in grey", so both sides are normalised (case, punctuation,
a leading article, number words 0-20 as digits) and the answer counts when all of it, its first
line or its first word equals the reference. Anything looser belongs to a model-based judge.
"""

from __future__ import annotations

import unicodedata

from mmwatch.plugins import JudgeFn, Measure, judge
from mmwatch.types import Judgement, Label, Probe, Response, SampleKind

NUMBER_WORDS: dict[str, str] = {
    word: str(i)
    for i, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
}
ARTICLES = frozenset({"a", "an", "the"})


def normalise(text: str) -> str:
    """Lowercase, punctuation to spaces, number words to digits, no leading article."""
    chars = [" " if unicodedata.category(c).startswith(("P", "S")) else c for c in text.casefold()]
    words = [NUMBER_WORDS.get(w, w) for w in "".join(chars).split()]
    while len(words) > 1 and words[0] in ARTICLES:
        words.pop(0)
    return " ".join(words)


def candidates(answer: str) -> list[str]:
    """What may equal the reference: the whole answer, its first non-empty line, its first word."""
    whole = normalise(answer)
    lines = [normalise(line) for line in answer.splitlines()]
    first_line = next((line for line in lines if line), "")
    first_word = first_line.split(" ", 1)[0]
    return [c for c in (whole, first_line, first_word) if c]


@judge("exact-match", measures=Measure.UTILITY, version=1, applies_to=(SampleKind.UTILITY,))
def exact_match() -> JudgeFn:
    """CORRECT when the normalised answer (or its first line/word) equals the reference."""

    async def score(probe: Probe, response: Response) -> Judgement:
        if not probe.reference or not normalise(probe.reference):
            return Judgement(label=Label.UNSCORED, rationale="probe has no reference answer")
        if response.error is not None:
            return Judgement(label=Label.UNSCORED, rationale=f"no answer to judge: {response.error}")
        found = candidates(response.text)
        if not found:
            return Judgement(label=Label.UNSCORED, rationale="empty response: nothing to judge")
        want = normalise(probe.reference)
        if want in found:
            return Judgement(label=Label.CORRECT, score=1.0, rationale=f"answer matches {probe.reference!r}")
        return Judgement(
            label=Label.INCORRECT, score=0.0, rationale=f"answer {found[0][:60]!r} is not {probe.reference!r}"
        )

    return score
