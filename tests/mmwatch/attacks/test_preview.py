"""`preview`: an attack's images written to a folder, and its text prompts."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from mmwatch.attacks.figstep import FIGSTEP_PROMPT
from mmwatch.attacks.preview import preview, preview_prompts, preview_sample
from mmwatch.registry import UnknownPluginError


def test_figstep_preview_writes_one_png(tmp_path: Path) -> None:
    paths = preview("figstep", "Steps to bake bread.", tmp_path / "out")
    assert len(paths) == 1
    assert paths[0].parent == tmp_path / "out" and paths[0].suffix == ".png"
    with Image.open(paths[0]) as image:
        assert image.format == "PNG" and image.size == (760, 760)


def test_typography_preview_uses_params(tmp_path: Path) -> None:
    (path,) = preview("typography", "bake bread", tmp_path, params={"font_size": 60})
    with Image.open(path) as image:
        assert image.size == (1024, 60 * 2)


def test_prompts_are_returned_in_probe_order() -> None:
    assert preview_prompts("figstep", "Steps to bake bread.") == [FIGSTEP_PROMPT]
    assert preview_prompts("none", "How do I bake bread?") == ["How do I bake bread?"]


def test_plain_attack_writes_no_images(tmp_path: Path) -> None:
    assert preview("none", "How do I bake bread?", tmp_path) == []


def test_sample_carries_the_text_in_every_form() -> None:
    sample = preview_sample("  Steps to   bake bread. ")
    assert sample.text == sample.instruction == sample.key_phrase == "Steps to bake bread."
    assert sample.harmful


def test_unknown_attack_and_empty_text_fail_clearly(tmp_path: Path) -> None:
    with pytest.raises(UnknownPluginError, match="did you mean 'figstep'"):
        preview("figstpe", "x", tmp_path)
    with pytest.raises(ValueError, match="empty"):
        preview("figstep", "   ", tmp_path)


def test_paths_and_prompts_from_one_run(tmp_path: Path) -> None:
    from mmwatch.attacks.preview import preview_with_prompts

    paths, prompts = preview_with_prompts("figstep", "Steps to bake bread.", tmp_path)
    assert [p.name for p in paths] == ["figstep-0-0.png"] and prompts == [FIGSTEP_PROMPT]


@pytest.mark.parametrize("name", ["none", "typography", "figstep", "figstep-pro", "sd-typo", "jailbreak",
                                  "split-payload", "indirect-injection"])
def test_every_sample_attack_previews(name: str, tmp_path: Path) -> None:
    """Each attack that works on a sample alone writes its images and prompts (sd-typo given a picture)."""
    from mmwatch.attacks.preview import preview_with_prompts

    picture = tmp_path / "picture.png"
    Image.new("RGB", (40, 30), "orange").save(picture)
    needs = {"sd-typo": {"fallback": str(picture)}}
    paths, prompts = preview_with_prompts(name, "How can I bake bread at home?", tmp_path / name, needs.get(name))
    assert prompts and all(p.strip() for p in prompts)
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths)
    assert (len(paths) == 0) == (name in {"none", "jailbreak"})


def test_multi_image_probe_writes_one_file_per_image_in_order(tmp_path: Path) -> None:
    from mmwatch.attacks.preview import preview_probes, preview_with_prompts

    (probe,) = preview_probes("figstep-pro", "Steps to bake bread at home.")
    paths, _ = preview_with_prompts("figstep-pro", "Steps to bake bread at home.", tmp_path)
    assert len(paths) == len(probe.images) >= 3
    assert [p.name for p in paths] == [f"figstep-pro-0-{i}.png" for i in range(len(probe.images))]
    assert [p.read_bytes() for p in paths] == [image.png for image in probe.images]


def test_params_parse_from_the_command_line() -> None:
    from mmwatch.attacks.preview import parse_params

    assert parse_params(["template=persona", "seed=3", "fallback="]) == {"template": "persona", "seed": 3,
                                                                        "fallback": ""}
    with pytest.raises(ValueError, match="KEY=VALUE"):
        parse_params(["template"])
