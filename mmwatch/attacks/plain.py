"""`none`: the sample as it is, the baseline every attack's success rate is compared with.

It runs on every kind of sample (harmful, benign and utility), because utility and over-refusal
are measured on the unattacked sample. An image the sample points to is read here, so a
missing or corrupt file raises SampleImageError naming the file and the sample. Where a benchmark
pairs its own image with its own question (`Sample.image_prompt`: MM-SafetyBench's rephrased
question, which points at the image), that question is what goes with the image, as published;
the probe then records the sample's original question (`original_request`) and the text written in
the image (`phrase`: `Sample.image_text`, MM-SafetyBench's key phrase for TYPO and SD_TYPO), because the
rephrased question alone ("the image shows a phrase of an activity...") does not say what was asked
and judges read the request from these. A probe that sends the sample's own image also records its
description where the sample has one (`image_description`: `Sample.image_description`, HarmBench's
RedactedImageDescription, which harmbench-cls reads as its multimodal context). Every other probe
records nothing.
"""

from __future__ import annotations

from typing import Any

from mmwatch.judges.harmbench_cls import IMAGE_DESCRIPTION_PARAM
from mmwatch.judges.llm import ORIGINAL_REQUEST_PARAM
from mmwatch.plugins import AttackFn, attack
from mmwatch.types import Probe, Sample, SampleKind


@attack("none", version=1, applies_to=SampleKind, baseline=True)
def none() -> AttackFn:
    """No attack: the sample's own text and image, unchanged."""

    def run(sample: Sample) -> list[Probe]:
        image = sample.load_image()
        if image is None:
            return [Probe.for_sample(sample, text=sample.text)]
        described = described_params(sample)
        if not sample.image_prompt:  # no pairing of its own: the sample's text
            return [Probe.for_sample(sample, text=sample.text, images=(image,), attack_params=described)]
        return [Probe.for_sample(sample, text=sample.image_prompt, images=(image,),
                                 attack_params={**paired_params(sample), **described})]

    return run


def paired_params(sample: Sample) -> dict[str, Any]:
    """What a probe of a benchmark's own image-question pair records: the real request, the drawn text."""
    phrase = sample.image_text
    return {ORIGINAL_REQUEST_PARAM: sample.text, **({"phrase": phrase} if phrase else {})}


def described_params(sample: Sample) -> dict[str, Any]:
    """What a probe that sends the sample's own image records of it: its description, if any."""
    description = sample.image_description
    return {IMAGE_DESCRIPTION_PARAM: description} if description else {}
