"""`none`: the sample as it is, the baseline every attack's success rate is compared with.

It runs on every kind of sample (harmful, benign and utility), because utility and over-refusal
are measured on the unattacked sample. An image the sample points to is read here, so a
missing or corrupt file raises SampleImageError naming the file and the sample. Where a benchmark
pairs its own image with its own question (`Sample.image_prompt`: MM-SafetyBench's rephrased
question, which points at the image), that question is what goes with the image, as published.
"""

from __future__ import annotations

from mmwatch.plugins import AttackFn, attack
from mmwatch.types import Probe, Sample, SampleKind


@attack("none", version=1, applies_to=SampleKind, baseline=True)
def none() -> AttackFn:
    """No attack: the sample's own text and image, unchanged."""

    def run(sample: Sample) -> list[Probe]:
        image = sample.load_image()
        if image is None:
            return [Probe.for_sample(sample, text=sample.text)]
        return [Probe.for_sample(sample, text=sample.image_prompt or sample.text, images=(image,))]

    return run
