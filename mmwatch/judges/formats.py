"""yes-no, choice, vqa-accuracy, utility-answers: utility answers scored as their benchmark scores them.

exact-match suits one-word answers (mmwatch-mini, AnswerFormat.SHORT). Published benchmarks read
the answer out of free text by their own rules: MME and POPE a yes or a no ("..., so yes."),
MMBench and ScienceQA an option letter ("B. A dog"), VQAv2 and TextVQA grade a short answer
against ten human ones. Each judge here scores only probes whose answer key has its format, and
says UNSCORED, with why, when the key is missing or the answer cannot be read: an unreadable
answer is not guessed at (aggregates may count it wrong: mmwatch.scoring.results.Unscored).

vqa-accuracy's score is the VQA accuracy itself (0, 0.3, 0.6, 0.9 or 1 for one of ten humans,
two, three, four or more); its label is CORRECT from VQA_CORRECT_AT = 0.5, that is when at least
two of the ten humans gave the answer. The label serves paired regression tests and the board's
right/wrong counts; the published VQA accuracy averages the scores (scoring.aggregates.vqa_mean).

Versions: choice and utility-answers are 2 since the option letter is read on the answer as written
(an article "A dog" is no letter A; "the answer is B" wins; an echoed option list states nothing).

A config has one utility judge (`utility_judge`; a benchmark may name its own), and a run may mix
benchmarks of every format: utility-answers scores each probe by its own answer key's format (exact
match where the key is SHORT or there is none); an OPEN answer (MM-Vet) needs a judge model
(mmvet-grader) and is UNSCORED here.
"""

from __future__ import annotations

from collections.abc import Callable

from mmwatch.judges.exact import exact_match
from mmwatch.plugins import JudgeFn, Measure, judge
from mmwatch.scoring.choice import extract_choice, option_letters
from mmwatch.scoring.vqa import normalise_vqa, short_answer, vqa_accuracy
from mmwatch.scoring.yes_no import extract_yes_no, parse_yes_no
from mmwatch.types import AnswerFormat, AnswerKey, Judgement, Label, Probe, Response, SampleKind

VQA_CORRECT_AT = 0.5
_QUOTE = 60  # characters of the answer quoted in a rationale


def unscored(why: str) -> Judgement:
    return Judgement(label=Label.UNSCORED, rationale=why)


def graded(right: bool, score: float, why: str) -> Judgement:
    return Judgement(label=Label.CORRECT if right else Label.INCORRECT, score=score, rationale=why)


def key_of(probe: Probe, response: Response, fmt: AnswerFormat) -> AnswerKey | Judgement:
    """The probe's answer key of this format, or why the probe cannot be scored."""
    if response.error is not None:
        return unscored(f"no answer to judge: {response.error}")
    key = probe.answer_key
    if key is None or key.format is not fmt:
        has = "no answer key" if key is None else f"a {key.format.value} answer key"
        return unscored(f"probe has {has}, not a {fmt.value} one")
    if not response.text.strip():
        return unscored("empty response: nothing to judge")
    return key


def score_yes_no(probe: Probe, response: Response) -> Judgement:
    key = key_of(probe, response, AnswerFormat.YES_NO)
    if isinstance(key, Judgement):
        return key
    want = parse_yes_no(probe.reference or "")
    if want is None:
        return unscored(f"reference {probe.reference!r} is not yes or no")
    said = extract_yes_no(response.text)
    if said is None:
        return unscored(f"no single yes or no in {response.text[:_QUOTE]!r}")
    return graded(said is want, float(said is want), f"answer read as {said.value!r}, reference {want.value!r}")


def score_choice(probe: Probe, response: Response) -> Judgement:
    key = key_of(probe, response, AnswerFormat.CHOICE)
    if isinstance(key, Judgement):
        return key
    if not key.choices:
        return unscored("answer key lists no options")
    letters = option_letters(len(key.choices))
    want = (probe.reference or "").strip().upper()
    if want not in letters:
        return unscored(f"reference {probe.reference!r} is not one of the letters {''.join(letters)}")
    said = extract_choice(response.text, key.choices)
    if said is None:
        return unscored(f"no single option letter or option text in {response.text[:_QUOTE]!r}")
    return graded(said == want, float(said == want), f"answer read as {said!r}, reference {want!r}")


def score_vqa(probe: Probe, response: Response) -> Judgement:
    key = key_of(probe, response, AnswerFormat.VQA)
    if isinstance(key, Judgement):
        return key
    if len(key.answers) < 2:
        return unscored(f"answer key has {len(key.answers)} human answer(s); VQA accuracy needs at least two")
    said = short_answer(response.text)
    if said is None:
        return unscored(f"no short answer in {response.text[:_QUOTE]!r}")
    accuracy = vqa_accuracy(said, key.answers)
    agree = sum(normalise_vqa(a) == normalise_vqa(said) for a in key.answers)
    return graded(accuracy >= VQA_CORRECT_AT, accuracy,
                  f"answer read as {said[:_QUOTE]!r}: {agree} of {len(key.answers)} humans gave it, "
                  f"VQA accuracy {accuracy:.2f}")


def _as_judge(scorer: Callable[[Probe, Response], Judgement]) -> JudgeFn:
    async def score(probe: Probe, response: Response) -> Judgement:
        return scorer(probe, response)

    return score


@judge("yes-no", measures=Measure.UTILITY, version=1, applies_to=(SampleKind.UTILITY,))
def yes_no() -> JudgeFn:
    """CORRECT when the yes or no read from the answer (VLMEvalKit's rule) is the reference."""
    return _as_judge(score_yes_no)


@judge("choice", measures=Measure.UTILITY, version=2, applies_to=(SampleKind.UTILITY,))
def choice() -> JudgeFn:
    """CORRECT when the option letter read from the answer (VLMEvalKit's rule: a letter standing
    alone, else the one option text found) is the reference letter."""
    return _as_judge(score_choice)


@judge("vqa-accuracy", measures=Measure.UTILITY, version=1, applies_to=(SampleKind.UTILITY,))
def vqa() -> JudgeFn:
    """Score: the VQA accuracy of the answer's first line against the human answers; CORRECT from
    VQA_CORRECT_AT."""
    return _as_judge(score_vqa)


@judge("utility-answers", measures=Measure.UTILITY, version=2, applies_to=(SampleKind.UTILITY,))
def utility_answers() -> JudgeFn:
    """Each utility item by its answer key's format: yes/no, option letter, VQA accuracy, and exact
    match for short answers and items without a key; OPEN answers need a judge model (unscored)."""
    exact: JudgeFn = exact_match()
    by_format = {AnswerFormat.YES_NO: score_yes_no, AnswerFormat.CHOICE: score_choice, AnswerFormat.VQA: score_vqa}

    async def score(probe: Probe, response: Response) -> Judgement:
        key = probe.answer_key
        if key is None or key.format is AnswerFormat.SHORT:
            return await exact(probe, response)
        if key.format is AnswerFormat.OPEN:
            return unscored("an open answer is graded by a judge model , not by a rule")
        return by_format[key.format](probe, response)

    return score
