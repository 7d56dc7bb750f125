"""mmvet-grader through the real `openai` adapter and a scripted grader on 127.0.0.1; retries with
an in-process scripted model."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from typing import cast

import pytest

from judge_stand_in import StandIn, stand_in
from mmwatch import plugins
from mmwatch.judges.llm import ORIGINAL_REQUEST_PARAM
from mmwatch.judges.mmvet_grader import MMVetGrader
from mmwatch.types import AnswerFormat, AnswerKey, GenerationParams, Judgement, Label, Probe, Response, SampleKind

REPLIES = {"seven": "0.7", "one": "1.0", "zero": "0", "about": "about 0.5", "words": "great answer", "big": "1.5"}
OPEN = AnswerKey(format=AnswerFormat.OPEN)
PROBE = Probe(sample_id="mm-vet:v1_3", text="What is written on the sign, and what colour is it?",
              kind=SampleKind.UTILITY, reference="STOP<AND>red", answer_key=OPEN, category="ocr_rec")
INSTRUCTION = ("Compare the ground truth and prediction from AI models, to give a correctness score for the "
               "prediction. <AND> in the ground truth means it is totally right only when all elements in the "
               "ground truth are present in the prediction, and <OR> means it is totally right when any one element "
               "in the ground truth is present in the prediction. The correctness score is 0.0 (totally wrong), 0.1, "
               "0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, or 1.0 (totally right). Just complete the last space of the "
               "correctness score.")
RETRY = "\nPredict the correctness of the answer (digit): "


@pytest.fixture(scope="module")
def server() -> Iterator[StandIn]:
    with stand_in(REPLIES) as state:
        yield state


def run(server: StandIn, answer: str, probe: Probe = PROBE, **params: object) -> Judgement:
    fn = cast(MMVetGrader, plugins.judges.build("mmvet-grader", {"judge_model": server.judge_model(), **params}).obj)
    try:
        return asyncio.run(fn(probe, Response(text=answer)))
    finally:
        plugins.close_plugin(fn)


@pytest.mark.parametrize(("marker", "label", "score"), [("seven", Label.CORRECT, 0.7), ("one", Label.CORRECT, 1.0),
                                                        ("zero", Label.INCORRECT, 0.0)])
def test_the_grade_is_the_score_and_correct_from_one_half(server: StandIn, marker: str, label: Label,
                                                          score: float) -> None:
    verdict = run(server, f"The sign says STOP. [m:{marker}]")
    assert (verdict.label, verdict.score) == (label, score)
    assert f"grade {REPLIES[marker]}" in verdict.rationale
    body = server.bodies[-1]
    assert (body["max_tokens"], body["temperature"]) == (3, 0.0)  # MM-Vet: greedy, three new tokens


@pytest.mark.parametrize("marker", ["about", "words", "big"])
def test_a_reply_that_is_not_a_grade_in_0_1_is_unscored_with_the_raw_reply(server: StandIn, marker: str) -> None:
    verdict = run(server, f"Red. [m:{marker}]")
    assert verdict.label is Label.UNSCORED and verdict.score is None
    assert repr(REPLIES[marker]) in verdict.rationale


def test_the_prompt_is_mm_vets_table_ending_with_the_items_empty_cell(server: StandIn) -> None:
    run(server, "It says STOP\non a red sign. [m:seven]")
    [message] = server.bodies[-1]["messages"]
    assert message["role"] == "user" and isinstance(message["content"], str)
    sent = message["content"]
    assert sent.startswith(INSTRUCTION + "\n\nQuestion | Ground truth | Prediction | Correctness\n--- | --- | --- | ---\n")
    assert " | apple <AND> banana | " in sent  # our own few-shot rows
    assert sent.endswith(" | 1.0\n\nWhat is written on the sign, and what colour is it? | STOP <AND> red | "
                         "It says STOP\non a red sign. [m:seven] | ")
    rephrased = PROBE.model_copy(update={"text": "Read the sign.", "reference": "a dog<OR>a puppy",
                                         "attack_params": {ORIGINAL_REQUEST_PARAM: "What animal is this?"}})
    run(server, "A puppy. [m:one]", rephrased)
    assert server.texts()[-1].endswith("\nWhat animal is this? | a dog <OR> a puppy | A puppy. [m:one] | ")


def test_only_open_answer_keys_are_graded_and_the_model_is_not_asked(server: StandIn) -> None:
    sent = len(server.bodies)
    for key in (None, AnswerKey(format=AnswerFormat.SHORT)):
        verdict = run(server, "STOP [m:one]", PROBE.model_copy(update={"answer_key": key}))
        assert verdict.label is Label.UNSCORED and "not a open one" in verdict.rationale
    assert "no ground truth" in run(server, "STOP [m:one]", PROBE.model_copy(update={"reference": " "})).rationale
    assert len(server.bodies) == sent


def test_errors_are_unscored(server: StandIn) -> None:
    assert "judge model error" in run(server, "STOP [m:http400]").rationale
    fn = cast(MMVetGrader, plugins.judges.build("mmvet-grader", {"judge_model": server.judge_model()}).obj)
    try:
        verdict = asyncio.run(fn(PROBE, Response(error="boom")))
    finally:
        fn.close()
    assert verdict.label is Label.UNSCORED and "boom" in verdict.rationale


class Scripted:
    """A local judge model that answers from a list, one reply per call, recording what it was sent."""

    def __init__(self, replies: list[str]) -> None:
        self.replies, self.sent = replies, list[str]()

    def generate(self, probes: Sequence[Probe], params: GenerationParams) -> list[Response]:
        self.sent += [p.text for p in probes]
        return [Response(text=self.replies.pop(0)) for _ in probes]

    def close(self) -> None:
        pass


def test_retries_use_mm_vets_retry_text_up_to_tries() -> None:
    model = Scripted(["great", "0.8"])
    verdict = asyncio.run(MMVetGrader(model, tries=2, max_tokens=3)(PROBE, Response(text="STOP, red")))
    assert (verdict.label, verdict.score) == (Label.CORRECT, 0.8) and "on try 2" in verdict.rationale
    assert model.sent[0].endswith("| STOP, red | ") and model.sent[1] == model.sent[0] + RETRY
    once = Scripted(["great", "0.8"])
    assert asyncio.run(MMVetGrader(once, tries=1, max_tokens=3)(PROBE, Response(text="x"))).label is Label.UNSCORED
    assert len(once.sent) == 1
    never = Scripted(["no", "idea", "sorry"])
    verdict = asyncio.run(MMVetGrader(never, tries=3, max_tokens=3)(PROBE, Response(text="x")))
    assert verdict.label is Label.UNSCORED and "'sorry'" in verdict.rationale and "after 3 tries" in verdict.rationale


def test_bad_parameters() -> None:
    with pytest.raises(ValueError, match="mmvet-grader: judge_model"):
        plugins.judges.build("mmvet-grader")
    with pytest.raises(ValueError, match="tries"):
        plugins.judges.build("mmvet-grader", {"judge_model": {"adapter": "reference"}, "tries": 0})
