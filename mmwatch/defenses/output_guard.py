"""`output-guard`: check the answer after the model has given it (MLLM-Protector style).

MLLM-Protector (Pi et al. 2024) puts a harm detector on the model's output and replaces harmful
answers. Here the gate is two checks that must both hold:

1. harm: the request (system + text prompt) or the answer is flagged by the harmful-request
   detector (mmwatch.detectors.harm_lexicon). The answer counts too, because an attack that hides the
   request in an image often gets it repeated back ("here are the items for <request>");
2. compliance: the answer is not a refusal, by the `refusal-keywords` judge's own phrase list
   (mmwatch.judges.refusal.classify, version recorded in the defense's parameters).

Then the answer is replaced by a fixed refusal; its tokens, latency and cost stay, because the
model did the work. Benign requests with benign answers, refusals and errors pass unchanged.
The guard reads no images: what the model was shown in them reaches it only through the
answer. The keyword detector is a stand-in for a trained harm classifier.
"""

from __future__ import annotations

from collections.abc import Sequence

from mmwatch.detectors.harm_lexicon import LEXICON_VERSION, detect_harm, require_version
from mmwatch.judges.refusal import VERSION as REFUSAL_VERSION
from mmwatch.judges.refusal import classify, lexicon
from mmwatch.plugins import DefendedAdapter, DefenseFn, ModelAdapter, defense
from mmwatch.types import DefenseStep, GenerationParams, Label, Probe, Response, StepKind

GUARD_REFUSAL = "I'm sorry, but I can't help with that."


def should_block(probe: Probe, response: Response, refusal_version: int = REFUSAL_VERSION) -> bool:
    """True when the request or answer is flagged harmful and the answer complies."""
    if response.error is not None or not response.text.strip():
        return False
    request = "\n".join(t for t in (probe.system, probe.text) if t)
    if detect_harm(request) is None and detect_harm(response.text) is None:
        return False
    return classify(response.text, lexicon(refusal_version)).label is Label.COMPLIED


class _OutputGuarded(DefendedAdapter):
    def __init__(self, inner: ModelAdapter, refusal: str, refusal_version: int) -> None:
        super().__init__(inner)
        self.refusal = refusal
        self.refusal_version = refusal_version

    async def agenerate(self, probes: Sequence[Probe], params: GenerationParams) -> list[Response]:
        answers = await self.ask(probes, params)
        return [self._replaced(answer) if should_block(probe, answer, self.refusal_version) else answer
                for probe, answer in zip(probes, answers, strict=True)]

    def _replaced(self, answer: Response) -> Response:
        """The refusal, with the answer it replaced kept as a step (shown where responses are)."""
        step = DefenseStep(defense="output-guard", kind=StepKind.REPLACED, text=answer.text)
        return answer.model_copy(update={"text": self.refusal, "steps": (*answer.steps, step)})


@defense("output-guard", version=1)
def output_guard(refusal: str = GUARD_REFUSAL, refusal_judge_version: int = REFUSAL_VERSION,
                 lexicon_version: int = LEXICON_VERSION) -> DefenseFn:
    """Replace a complying answer to a harmful request (or a harmful answer) with a refusal."""
    require_version(lexicon_version, "output-guard")
    lexicon(refusal_judge_version)  # a missing phrase-list version fails before any work
    return lambda adapter: _OutputGuarded(adapter, refusal, refusal_judge_version)
