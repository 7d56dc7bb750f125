"""mmvet-grader: MM-Vet's open answers graded by a judge model, the way MM-Vet's evaluator does it.

MM-Vet (Yu et al. 2023, mm-vet_evaluator.py) gives a grader LLM (GPT-4 in the paper) a few-shot
table, "Question | Ground truth | Prediction | Correctness", that ends with the item's row and an
empty correctness cell for the grader to fill in with 0.0 ... 1.0. In the ground truth, `<AND>`
means every element must be present and `<OR>` means any one is enough. The instruction, the
table format and the retry text are MM-Vet's own words (data/mmvet_grader_v1.yaml says where they
come from). The few-shot rows are ours.

As in MM-Vet, the prompt is one user message sent at temperature 0 for 3 new tokens, and the
reply's first word must be a number in [0, 1]: "0.7" is read, "about 0.5" is not. If the reply
is not a number, the grader is asked again with MM-Vet's retry text, `tries` asks in all. MM-Vet
asks up to six times, at a temperature that rises each time, and then scores the item 0. Here
the retries stay greedy so that grades can be reproduced, and a reply that is still not a number
gives UNSCORED with the raw reply: a grade is never guessed. Errors are also UNSCORED.

`score` is the grade, and MM-Vet's result is the mean score over its items, x100. The label is
CORRECT from CORRECT_AT = 0.5 (like vqa-accuracy's): it serves paired regression tests and
right/wrong counts, not the benchmark number. Only probes with an OPEN answer key are graded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from mmwatch.judges.classifier import failed, unparseable
from mmwatch.judges.versioned import load_data
from mmwatch.judges.formats import graded, key_of, unscored
from mmwatch.judges.llm import ORIGINAL_REQUEST_PARAM, JudgeModel, judge_model_adapter
from mmwatch.plugins import Measure, ModelAdapter, judge
from mmwatch.types import AnswerFormat, GenerationParams, Judgement, Label, Probe, Response, SampleKind

VERSION = 1
CORRECT_AT = 0.5
GRADES = frozenset(f"{i / 10:.1f}" for i in range(11))  # MM-Vet's scale, as the example rows write it
_NUMBER = re.compile(r"\d+(?:\.\d*)?|\.\d+")  # a plain decimal (MM-Vet's float() also lets nan through)


@dataclass(frozen=True)
class GraderPrompt:
    head: str  # instruction, empty line, header and example rows, final newline: MM-Vet's `prompt`
    retry: str  # appended to the prompt when the grader is asked again


@lru_cache(maxsize=4)
def grader_data(version: int = VERSION) -> GraderPrompt:
    """The prompt's fixed head, built from data/mmvet_grader_v{version}.yaml; bad rows fail here."""
    data = load_data("mmvet_grader", version)
    rows = []
    for i, example in enumerate(data["examples"]):
        cells = [str(example[k]).strip() for k in ("question", "ground_truth", "prediction", "correctness")]
        if cells[3] not in GRADES or not all(cells):
            raise ValueError(f"mmvet_grader_v{version}.yaml: example {i} needs four cells and a correctness "
                             f"among {sorted(GRADES)}, got {cells}")
        rows.append(" | ".join(cells))
    head = data["instruction"].strip() + "\n\n" + "\n".join([data["header"].strip(), *rows]) + "\n"
    return GraderPrompt(head, str(data["retry"]))


def grader_prompt(question: str, ground_truth: str, prediction: str, retry: bool = False) -> str:
    """MM-Vet's grader message for one item: the head, an empty line, and the item's row with an
    empty correctness cell (with `<AND>` and `<OR>` spaced out, as MM-Vet spaces them)."""
    p = grader_data()
    truth = ground_truth.replace("<AND>", " <AND> ").replace("<OR>", " <OR> ")
    return p.head + "\n" + " | ".join([question, truth, prediction, ""]) + (p.retry if retry else "")


def parse_grade(reply: str) -> float | None:
    """The reply's first word as a number in [0, 1], or None (MM-Vet's `float(content.split(" ")[0])`)."""
    words = reply.split()
    if not words or not _NUMBER.fullmatch(words[0]):
        return None
    grade = float(words[0])
    return grade if 0.0 <= grade <= 1.0 else None


class MMVetGrader:
    """`await judge(probe, response) -> Judgement`; `close()` frees the judge model."""

    def __init__(self, model: ModelAdapter, tries: int, max_tokens: int) -> None:
        if tries < 1 or max_tokens < 1:
            raise ValueError(f"mmvet-grader: tries and max_tokens must be >= 1, got {tries} and {max_tokens}")
        grader_data()  # a bad data file fails when the judge is built, not on the first item
        self.tries = tries
        self.model = JudgeModel(model, GenerationParams(max_new_tokens=max_tokens, temperature=0.0))

    async def __call__(self, probe: Probe, response: Response) -> Judgement:
        key = key_of(probe, response, AnswerFormat.OPEN)
        if isinstance(key, Judgement):
            return key
        truth = (probe.reference or "").strip()
        if not truth:
            return unscored("probe has no ground truth to grade against")
        question = str(probe.attack_params.get(ORIGINAL_REQUEST_PARAM) or probe.text)  # the benchmark's own
        reply = Response(text="")
        for attempt in range(1, self.tries + 1):
            text = grader_prompt(question, truth, response.text.strip(), retry=attempt > 1)
            reply = await self.model.ask(Probe(sample_id=f"judge:{probe.sample_id}", index=probe.index, text=text))
            if (error := failed(reply)) is not None:
                return error
            grade = parse_grade(reply.text)
            if grade is not None:
                after = f" on try {attempt}" if attempt > 1 else ""
                return graded(grade >= CORRECT_AT, grade,
                              f"mm-vet grade {reply.text.split()[0]}{after} (CORRECT from {CORRECT_AT})")
        why = unparseable(reply.text).rationale
        return Judgement(label=Label.UNSCORED, rationale=why + (f" after {self.tries} tries" if self.tries > 1 else ""))

    @property
    def concurrency(self) -> int:
        return self.model.concurrency

    def close(self) -> None:
        self.model.close()


@judge("mmvet-grader", measures=Measure.UTILITY, version=VERSION, applies_to=(SampleKind.UTILITY,), uses_model=True)
def mmvet_grader(judge_model: dict[str, Any] | None = None, tries: int = 1, max_tokens: int = 3) -> MMVetGrader:
    """MM-Vet's GPT-4 grading of open answers (0.0-1.0 against the ground truth), by any judge model."""
    return MMVetGrader(judge_model_adapter(judge_model, "mmvet-grader"), tries, max_tokens)
