"""Core value types that flow through mmwatch: Sample -> Probe -> Response -> Verdict.

They are pydantic models because they cross every boundary (plugins, adapters, the store), and
frozen because a cell's identity is a hash of what produced it.
"""

from __future__ import annotations

import hashlib
import json
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mmwatch.images import (  # the image types are part of this vocabulary: importable from here too
    CEILING,
    ImageData,
    InputLimits,
    InputRefusal,
    InputRefusedError,
    SampleImageError,
    read_image_cached,
)

__all__ = ["CEILING", "AnswerFormat", "AnswerKey", "GenerationParams", "ImageData", "InputLimits", "InputRefusal", "InputRefusedError", "Judgement",
           "Label", "Probe", "Response", "Sample", "SampleImageError", "SampleKind", "Verdict", "stable_hash"]


class SampleKind(StrEnum):
    """What a good model should do with a sample."""

    HARMFUL = "harmful"  # refuse
    BENIGN = "benign"  # answer (looks harmful, is not: over-refusal probe)
    UTILITY = "utility"  # answer correctly (has a reference answer)


class AnswerFormat(StrEnum):
    """How a utility item's answer is read and scored (each published benchmark has its own rule)."""

    SHORT = "short"  # one word or number, exact match after normalisation (mmwatch-mini)
    YES_NO = "yes-no"  # MME, POPE: the reference is "yes" or "no"
    CHOICE = "choice"  # MMBench, ScienceQA: the reference is the option's letter
    VQA = "vqa"  # TextVQA, VQAv2: ten human answers, VQA accuracy
    OPEN = "open"  # MM-Vet: graded by a judge model against the reference


class AnswerKey(BaseModel):
    """What a utility item's answer is scored against, beyond the one `reference` string.

    `group` ties items that are scored together: MME's two questions on one image (acc+), the
    rotations of one MMBench question (circular evaluation)."""

    model_config = ConfigDict(frozen=True)

    format: AnswerFormat
    answers: tuple[str, ...] = ()  # VQA: every human answer (ten), repeats kept
    choices: tuple[str, ...] = ()  # CHOICE: option texts in letter order (A, B, ...) as the prompt shows them
    group: str | None = None


class Label(StrEnum):
    """Every verdict label a judge may give; what each counts as is mmwatch.analysis.outcomes."""

    REFUSED = "refused"
    COMPLIED = "complied"
    UNSAFE = "unsafe"
    SAFE = "safe"
    TARGET_HIT = "target_hit"
    TARGET_MISSED = "target_missed"
    CORRECT = "correct"
    INCORRECT = "incorrect"
    UNSCORED = "unscored"


class Sample(BaseModel):
    """One benchmark item. `id` is stable across runs: `{benchmark}:{source_id}`."""

    model_config = ConfigDict(frozen=True)

    benchmark: str
    source_id: str
    category: str
    kind: SampleKind
    text: str
    instruction: str | None = None  # declarative form ("Steps to ..."), used by FigStep
    key_phrase: str | None = None  # harmful key phrase, used by typography attacks
    rephrased: str | None = None  # question that points at the image instead of the phrase
    image: ImageData | None = None
    image_path: Path | None = None  # read lazily so that one bad file fails one sample only
    reference: str | None = None  # exact answer for utility items
    answer_key: AnswerKey | None = None  # how a utility item is scored, where not by exact match
    image_prompt: str | None = None  # the text a benchmark sends with its own image (MM-SafetyBench's
    # rephrased question for that image); `none` sends it instead of `text` when the image is sent
    image_text: str | None = None  # text written in the sample's own image (MM-SafetyBench TYPO's key
    # phrase), so a judge is told what the model was shown
    image_description: str | None = None  # what the sample's own image shows (HarmBench's
    # RedactedImageDescription), for judges that read text only

    @property
    def id(self) -> str:
        return f"{self.benchmark}:{self.source_id}"

    @property
    def harmful(self) -> bool:
        return self.kind is SampleKind.HARMFUL

    @property
    def content_hash(self) -> str:
        """What the sample says, so an edited benchmark row under the same id is a new cell."""
        return stable_hash({
            "kind": self.kind.value, "category": self.category, "text": self.text,
            "instruction": self.instruction, "key_phrase": self.key_phrase, "rephrased": self.rephrased,
            "reference": self.reference, "image": self.image.sha256 if self.image else None,
            "image_path": str(self.image_path) if self.image_path else None,
            **({"answer_key": self.answer_key.model_dump(mode="json")} if self.answer_key else {}),
            **({"image_prompt": self.image_prompt} if self.image_prompt is not None else {}),
            **({"image_text": self.image_text} if self.image_text is not None else {}),
            **({"image_description": self.image_description} if self.image_description is not None else {}),
        })  # fields added later enter the hash only when set: stored cells keep their keys

    def load_image(self) -> ImageData | None:
        if self.image is not None:
            return self.image
        if self.image_path is not None:
            try:
                stat = Path(self.image_path).stat()
            except OSError:
                return ImageData.from_file(self.image_path, self.id)  # names the missing file and sample
            image = read_image_cached(str(self.image_path), stat.st_mtime_ns, stat.st_size)
            if isinstance(image, InputRefusedError):
                raise InputRefusedError(f"{image} (sample {self.id})", image.refusal)
            if isinstance(image, SampleImageError):
                raise SampleImageError(f"{image} (sample {self.id})")
            return image
        return None


class Probe(BaseModel):
    """What the model is really sent for one sample under one attack."""

    model_config = ConfigDict(frozen=True)

    sample_id: str
    index: int = 0  # an attack may send several probes per sample
    system: str | None = None
    text: str
    images: tuple[ImageData, ...] = ()
    target: str | None = None  # what the attack wants the model to say, if anything
    attack_params: dict[str, Any] = Field(default_factory=dict)  # what the attack recorded
    kind: SampleKind = SampleKind.HARMFUL
    reference: str | None = None
    answer_key: AnswerKey | None = None
    category: str = ""

    @property
    def harmful(self) -> bool:
        return self.kind is SampleKind.HARMFUL

    @classmethod
    def for_sample(cls, sample: Sample, **fields: Any) -> Probe:
        """A probe that carries the sample's identity, kind and reference answer."""
        base = {"sample_id": sample.id, "kind": sample.kind, "reference": sample.reference,
                "answer_key": sample.answer_key, "category": sample.category}
        return cls(**{**base, **fields})


class StepKind(StrEnum):
    """What a defense did on the way to the final answer, as the Samples page shows it."""

    DRAFT = "draft"  # an answer the defense reviewed or replaced (self-moderation's draft)
    IMAGE_TEXT = "image-text"  # the text a filter read in the images
    FLAGGED = "flagged"  # a filter or guard stopped the probe: why
    PASSED = "passed"  # a filter let the probe through
    REPLACED = "replaced"  # the answer a guard replaced with its refusal


class DefenseStep(BaseModel):
    """One intermediate step of a defense. Its text can be a model's answer to a harmful request:
    it is published only where the response is."""

    model_config = ConfigDict(frozen=True)

    defense: str
    kind: StepKind
    text: str = ""


class Response(BaseModel):
    """One model answer to one probe; `error` set means no answer was produced."""

    model_config = ConfigDict(frozen=True)

    text: str = ""
    error: str | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    latency_s: float | None = None
    cost_usd: float | None = None
    steps: tuple[DefenseStep, ...] = ()  # what the defense did before this answer, in order


class Judgement(BaseModel):
    """What a judge function returns; the runner adds the judge's recorded identity."""

    model_config = ConfigDict(frozen=True)

    label: Label
    score: float | None = None
    rationale: str = ""


class Verdict(Judgement):
    """One judge's label for one response. UNSCORED means the judge could not decide."""

    judge: str
    judge_version: int

    @property
    def scored(self) -> bool:
        return self.label is not Label.UNSCORED


class GenerationParams(BaseModel):
    """Decoding settings; part of every cell key."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_new_tokens: int = Field(default=64, ge=1, le=8192)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    batch_size: int = Field(default=8, ge=1, le=1024)


def stable_hash(obj: Any, length: int = 16) -> str:
    """Hash of a JSON-able object with sorted keys: the same inputs give the same key forever."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:length]
