"""`ocr-filter`: read the text in a probe's images and refuse before the model sees a harmful one.

The survey's second risk is that models obey requests written in the image that they refuse as
text. This input filter reads every image of the probe (mmwatch.detectors.ocr.read_text, cached by image
hash) and runs the same harmful-request detector the reference models use on text
(mmwatch.detectors.harm_lexicon, with the OCR slip repair): on each image's text, on all of it joined, and
on it joined with the text prompt in both orders, so a request split between the text and the
image is read whole. A flagged probe gets a fixed refusal without a model call (no tokens, the
filter's own latency). Probes without images go to the model untouched: the filter adds nothing
to a text-only check, which is the model's (or the system prompt's) job.

The keyword detector is a stand-in with known misses (paraphrases, words cut across images as
FigStep-Pro does); a real deployment would put a trained classifier at this point. An image that
cannot be read fails that probe (Response.error), closed rather than open.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence

from mmwatch.detectors.harm_lexicon import LEXICON_VERSION, HarmMatch, detect_harm_ocr, require_version
from mmwatch.plugins import DefendedAdapter, DefenseFn, ModelAdapter, defense
from mmwatch.types import DefenseStep, GenerationParams, ImageData, Probe, Response, StepKind

FILTER_REFUSAL = "I'm sorry, but I can't help with that request."
Reader = Callable[[ImageData], str]


def _read_text(image: ImageData) -> str:
    from mmwatch.detectors.ocr import read_text

    return read_text(image)


def flag_probe(probe: Probe, read: Reader = _read_text) -> HarmMatch | None:
    """Why the probe's image text (alone, joined, or with the prompt) reads as a harmful request."""
    return _screen(probe, read)[0]


def _screen(probe: Probe, read: Reader) -> tuple[HarmMatch | None, list[str]]:
    """The harmful request found (if any) and the text read in each image that had some."""
    seen = [text.strip() for text in (read(image) for image in probe.images)]
    seen = [text for text in seen if text]
    if not seen:
        return None, seen
    prompt = "\n".join(t for t in (probe.system, probe.text) if t)
    joined = " ".join(seen)
    for text in (*seen, joined, f"{prompt}\n{joined}", f"{joined}\n{prompt}"):
        found = detect_harm_ocr(text)
        if found is not None:
            return found, seen
    return None, seen


def _steps(found: HarmMatch | None, seen: list[str]) -> tuple[DefenseStep, ...]:
    read = tuple(DefenseStep(defense="ocr-filter", kind=StepKind.IMAGE_TEXT, text=text) for text in seen)
    verdict = (DefenseStep(defense="ocr-filter", kind=StepKind.FLAGGED,
                          text=f"{found.rule} ({found.category}): {found.matched}") if found is not None
               else DefenseStep(defense="ocr-filter", kind=StepKind.PASSED))
    return (*read, verdict)


class _OCRFiltered(DefendedAdapter):
    def __init__(self, inner: ModelAdapter, refusal: str, read: Reader) -> None:
        super().__init__(inner)
        self.refusal = refusal
        self.read = read

    async def agenerate(self, probes: Sequence[Probe], params: GenerationParams) -> list[Response]:
        out: list[Response | None] = [None] * len(probes)
        passed: list[int] = []
        steps: dict[int, tuple[DefenseStep, ...]] = {}
        for i, probe in enumerate(probes):
            if not probe.images:
                passed.append(i)
                continue
            start = time.perf_counter()
            try:
                found, seen = await asyncio.to_thread(_screen, probe, self.read)  # OCR is CPU work: off the loop
            except Exception as exc:  # one unreadable image costs one cell
                out[i] = Response(error=f"ocr-filter: probe {probe.sample_id}#{probe.index}: "
                                        f"{type(exc).__name__}: {exc}", latency_s=time.perf_counter() - start)
                continue
            steps[i] = _steps(found, seen)
            if found is None:
                passed.append(i)
            else:
                out[i] = Response(text=self.refusal, tokens_in=0, tokens_out=0,
                                  latency_s=time.perf_counter() - start, cost_usd=0.0, steps=steps[i])
        answers = await self.ask([probes[i] for i in passed], params)
        for i, answer in zip(passed, answers, strict=True):
            out[i] = answer.model_copy(update={"steps": (*steps.get(i, ()), *answer.steps)}) if i in steps else answer
        return [r if r is not None else Response(error="ocr-filter: the model gave no answer") for r in out]


@defense("ocr-filter", version=1)
def ocr_filter(refusal: str = FILTER_REFUSAL, lexicon_version: int = LEXICON_VERSION) -> DefenseFn:
    """OCR input filter: refuse without a model call when the image text is a harmful request."""
    require_version(lexicon_version, "ocr-filter")
    return lambda adapter: _OCRFiltered(adapter, refusal, _read_text)
