"""Tiny random checkpoints built once per session (a fraction of a second each, no network)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from adapters.tiny import make_tiny_model
from mmwatch.types import ImageData


@pytest.fixture(scope="session")
def tiny_llava(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """LLaVA lineage, checkpoint-100 (seed 1)."""
    return make_tiny_model(tmp_path_factory.mktemp("lineage") / "checkpoint-100", "llava", seed=1)


@pytest.fixture(scope="session")
def tiny_llava_2(tiny_llava: Path) -> Path:
    """Same lineage, checkpoint-200 (seed 2)."""
    return make_tiny_model(tiny_llava.parent / "checkpoint-200", "llava", seed=2)


@pytest.fixture(scope="session")
def tiny_idefics3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_model(tmp_path_factory.mktemp("idefics3") / "checkpoint-1", "idefics3", seed=0)


@pytest.fixture(scope="session")
def llava_adapter(tiny_llava: Path):
    """One loaded adapter shared by read-only tests (tests that patch the model build their own)."""
    from adapters.hf.adapter import hf

    adapter = hf(str(tiny_llava))
    yield adapter
    adapter.close()


@pytest.fixture(scope="session")
def red() -> ImageData:
    return ImageData.from_pil(Image.new("RGB", (64, 48), (230, 20, 20)))


@pytest.fixture(scope="session")
def checker() -> ImageData:
    img = Image.new("RGB", (40, 40), (255, 255, 255))
    for x in range(40):
        for y in range(40):
            if (x // 5 + y // 5) % 2:
                img.putpixel((x, y), (0, 0, 90))
    return ImageData.from_pil(img)
