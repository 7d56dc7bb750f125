"""`transfer`: replay adversarial images made on one model against any other (black-box).

Adversarial images transfer between models to some degree (Qi et al. 2023 report jailbreak
images made on open models also work on others), and transfer is the only way to test API
models, which give no gradients. The images come from a folder of PNGs named by the sample's
source id (`{source_id}.png`), e.g. exported from a source model's `pgd` run; each is sent with
the sample's own question, and an optional target string for the `target-string` judge.

The cell key holds the folder path, not its contents: treat a folder as immutable and give a
new set of images a new folder (e.g. named after the source model revision and attack hash).
The sha256 of each image replayed is recorded in the probe's parameters and in the store.
"""

from __future__ import annotations

from pathlib import Path

from mmwatch.plugins import AttackFn, attack
from mmwatch.types import ImageData, Probe, Sample, SampleImageError


def image_path(images_dir: Path, sample: Sample) -> Path:
    """Where the image for `sample` lives; a source id with a slash is not a file name."""
    name = sample.source_id.replace("/", "_").replace("\\", "_")
    return images_dir / f"{name}.png"


@attack("transfer", version=1, targeted=True)
def transfer(images_dir: str = "", target: str | None = None) -> AttackFn:
    """Replay `{images_dir}/{source_id}.png` (e.g. PGD images of another model) with the sample's text."""
    if not images_dir:
        raise ValueError("transfer: images_dir is required (a folder of PNGs named {source_id}.png)")
    folder = Path(images_dir).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(f"transfer: images_dir {folder} is not a folder")

    def run(sample: Sample) -> list[Probe]:
        path = image_path(folder, sample)
        if not path.is_file():
            raise SampleImageError(f"transfer: no image for sample {sample.id}: expected {path}")
        image = ImageData.from_file(path, sample.id)
        params = {"images_dir": str(folder), "file": path.name, "image_sha256": image.sha256}
        return [Probe.for_sample(sample, text=sample.text, images=(image,), target=target or None,
                                 attack_params=params)]

    return run
