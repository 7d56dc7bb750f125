"""`none`: the sample as it is, the baseline every attack's success rate is compared with.

It runs on every kind of sample (harmful, benign and utility), because utility and over-refusal
are measured on the unattacked sample. An image the sample points to is read here, so a
missing or corrupt file raises SampleImageError naming the file and the sample. Where a benchmark
pairs its own image with its own question (`Sample.image_prompt`: MM-SafetyBench's rephrased
question, which points at the image), that question is what goes with the image, as published;
the probe then records the sample's original question (`question`) and the text written in the
image (`phrase`: `Sample.image_text`, MM-SafetyBench's key phrase for TYPO and SD_TYPO), because the rephrased
question alone ("the image shows a phrase of an activity...") does not say what was asked and
judges read the request from these. Every other probe records nothing.
"""

from __future__ import annotations

from typing import Any

from mmwatch.plugins import AttackFn, attack
from mmwatch.types import Probe, Sample, SampleKind


@attack("none", version=1, applies_to=SampleKind, baseline=True)
def none() -> AttackFn:
    """No attack: the sample's own text and image, unchanged."""

    def run(sample: Sample) -> list[Probe]:
        image = sample.load_image()
        if image is None:
            return [Probe.for_sample(sample, text=sample.text)]
        if not sample.image_prompt:  # no pairing of its own: the sample's text
            return [Probe.for_sample(sample, text=sample.text, images=(image,))]
        return [Probe.for_sample(sample, text=sample.image_prompt, images=(image,),
                                 attack_params=paired_params(sample))]

    return run


def paired_params(sample: Sample) -> dict[str, Any]:
    """What a probe of a benchmark's own image-question pair records: the real request, the drawn text."""
    phrase = sample.image_text
    return {"question": sample.text, **({"phrase": phrase} if phrase else {})}
