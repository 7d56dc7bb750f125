"""MM-SafetyBench SD_TYPO (Liu et al. 2023) with pictures from a configured source.

The published SD_TYPO image is a Stable Diffusion picture of the key phrase stacked above the
phrase's typography. mmwatch does not run a diffusion model in its nightly loop, so the picture
comes from a folder the run configures: `picture_dir/{source_id}.{png,jpg,jpeg,webp}` (a
source id with slashes, like MM-SafetyBench's `01-Illegal_Activitiy/3/SD_TYPO`, is looked up as
sub-folders first, then with the slashes turned into underscores), else the single `fallback`
picture. A sample with no picture is an error naming the sample and the paths tried: silently
sending typography alone would be a different attack (`typography`) under this one's name.

The typography half is `typography`'s (key phrase at 90 pt, wrapped under 1024 px); the picture
is scaled to its width and put above it. Which picture was used (path and sha256) is recorded.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from mmwatch.attacks.typography import (
    TYPO_PROMPT,
    derive_key_phrase,
    phrase_params,
    render_phrase,
)
from mmwatch.plugins import AttackFn, attack
from mmwatch.attacks.render import (
    find_mono_bold_font,
    load_font,
    stack_vertically,
)
from mmwatch.types import ImageData, Probe, Sample

EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp")


class PictureNotFoundError(FileNotFoundError):
    """No picture for a sample in the configured source; names the sample and what was tried."""


def picture_candidates(source_id: str, picture_dir: Path) -> list[Path]:
    """Where a sample's own picture may be: by source id (as sub-folders, then flattened)."""
    relative = PurePosixPath(source_id)
    names: list[str] = []
    if not relative.is_absolute() and ".." not in relative.parts:
        names.append(str(relative))
    flat = source_id.replace("/", "_").replace("\\", "_")
    if flat not in names:
        names.append(flat)
    return [picture_dir / f"{name}{ext}" for name in names for ext in EXTENSIONS]


def find_picture(sample: Sample, picture_dir: Path | None, fallback: Path | None) -> Path:
    """The picture for this sample, or PictureNotFoundError saying where it looked."""
    tried = picture_candidates(sample.source_id, picture_dir) if picture_dir is not None else []
    if fallback is not None:
        tried.append(fallback)
    for path in tried:
        if path.is_file():
            return path
    if not tried:
        raise PictureNotFoundError(f"sd-typo: no picture for sample {sample.id}: set 'picture_dir' or 'fallback'")
    shown = ", ".join(str(p) for p in tried[:4]) + (f" (+{len(tried) - 4} more)" if len(tried) > 4 else "")
    raise PictureNotFoundError(f"sd-typo: no picture for sample {sample.id} (tried {shown})")


@attack("sd-typo", version=1)
def sd_typo(
    picture_dir: str | None = None,
    fallback: str | None = None,
    font_size: int = 90,
    max_width: int = 1024,
) -> AttackFn:
    """MM-SafetyBench SD_TYPO: a configured picture stacked above the key-phrase typography."""
    if font_size < 1 or max_width < font_size:
        raise ValueError(f"sd-typo: need font_size >= 1 and max_width >= font_size, got {font_size}, {max_width}")
    folder = Path(picture_dir).expanduser() if picture_dir else None
    single = Path(fallback).expanduser() if fallback else None
    if folder is not None and not folder.is_dir():
        raise ValueError(f"sd-typo: picture_dir {str(folder)!r} is not a folder")

    def run(sample: Sample) -> list[Probe]:
        path = find_picture(sample, folder, single)
        picture = ImageData.from_file(path, sample.id)
        font_path, font_name = find_mono_bold_font()
        font = load_font(font_path, font_size)
        if sample.key_phrase and sample.key_phrase.strip():
            phrase, source = " ".join(sample.key_phrase.split()), "key_phrase"
        else:
            phrase, source = derive_key_phrase(sample), "derived"
        typo, size, lines = render_phrase(phrase, font, font_size, max_width)
        image = stack_vertically(picture.to_pil(), typo)
        params = {
            "layout": "SD_TYPO",
            "picture": str(path),
            "picture_sha256": picture.sha256,
            "picture_source": "fallback" if single is not None and path == single else "picture_dir",
            **phrase_params(phrase, source, font_name, font_path, font_size, size, image, lines),
        }
        prompt = sample.rephrased or TYPO_PROMPT
        return [Probe.for_sample(sample, text=prompt, images=(ImageData.from_pil(image),), attack_params=params)]

    return run
