"""See what an attack sends before running it: `mmwatch preview figstep "Steps to ..."`.

The text becomes a throwaway harmful sample (as its question, instruction and key phrase at
once), the attack turns it into probes, and each probe's images are written out as PNG files
(`{attack}-{probe}-{image}.png`, so a probe with several images, like FigStep-Pro's, writes one
file each, in order). Attacks that need a setting (sd-typo's pictures) take `--param KEY=VALUE`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, cast

from mmwatch import plugins
from mmwatch.plugins import AttackFn
from mmwatch.types import Probe, Sample, SampleKind


def parse_params(items: list[str]) -> dict[str, Any]:
    """`["template=persona", "seed=3"]` -> {"template": "persona", "seed": 3} (values read as YAML scalars)."""
    import yaml

    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"preview: parameter {item!r} is not KEY=VALUE")
        out[key.strip()] = yaml.safe_load(value) if value.strip() else ""
    return out


def preview_sample(text: str) -> Sample:
    """A harmful sample whose every form is `text`, so any attack has what it needs."""
    clean = " ".join(text.split())
    if not clean:
        raise ValueError("preview: the text is empty")
    return Sample(benchmark="preview", source_id="1", category="preview", kind=SampleKind.HARMFUL,
                  text=clean, instruction=clean, key_phrase=clean)


def preview_probes(attack_name: str, text: str, params: dict[str, Any] | None = None) -> list[Probe]:
    """The probes `attack_name` (with `params`) makes for `text`; unknown names say "did you mean"."""
    built = plugins.attacks.build(attack_name, params)
    if built.traits.needs_gradients:
        raise ValueError(f"{attack_name} is a white-box attack: it needs a model's gradients, so it has no preview")
    return list(cast(AttackFn, built.obj)(preview_sample(text)))


def preview_prompts(attack_name: str, text: str, params: dict[str, Any] | None = None) -> list[str]:
    """The text prompt of each probe, in probe order."""
    return [probe.text for probe in preview_probes(attack_name, text, params)]


def preview(attack_name: str, text: str, out_dir: Path, params: dict[str, Any] | None = None) -> list[Path]:
    """Write every image of every probe as `{attack}-{probe}-{image}.png` in out_dir; return the paths."""
    return preview_with_prompts(attack_name, text, out_dir, params)[0]


def preview_with_prompts(
    attack_name: str, text: str, out_dir: Path, params: dict[str, Any] | None = None
) -> tuple[list[Path], list[str]]:
    """`preview` and `preview_prompts` from one run of the attack: (image paths, text prompts)."""
    probes = preview_probes(attack_name, text, params)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", attack_name)
    paths: list[Path] = []
    for probe in probes:
        for number, image in enumerate(probe.images):
            path = out_dir / f"{stem}-{probe.index}-{number}.png"
            path.write_bytes(image.png)
            paths.append(path)
    return paths, [probe.text for probe in probes]
