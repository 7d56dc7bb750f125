"""The tiny checkpoints: real HF layout, safetensors only, offline, seeded, small."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from safetensors.torch import load_file

from adapters.checkpoint import content_revision, is_complete
from adapters.tiny import make_tiny_model


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.iterdir())


@pytest.mark.parametrize("fixture", ["tiny_llava", "tiny_idefics3"])
def test_layout_is_a_small_safetensors_checkpoint(fixture: str, request: pytest.FixtureRequest) -> None:
    folder: Path = request.getfixturevalue(fixture)
    names = {p.name for p in folder.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "processor_config.json"} <= names
    assert not [n for n in names if n.endswith((".bin", ".pt", ".pth"))]
    assert _size(folder) < 2_000_000
    assert is_complete(folder) == (True, "ok")
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")], "temp build folder left behind"


@pytest.mark.parametrize(
    ("fixture", "processor_cls", "model_cls"),
    [
        ("tiny_llava", "LlavaProcessor", "LlavaForConditionalGeneration"),
        ("tiny_idefics3", "Idefics3Processor", "Idefics3ForConditionalGeneration"),
    ],
)
def test_loads_with_auto_classes_without_network(
    fixture: str, processor_cls: str, model_cls: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    from transformers import AutoModelForImageTextToText, AutoProcessor

    folder: Path = request.getfixturevalue(fixture)

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    processor = AutoProcessor.from_pretrained(folder)
    model = AutoModelForImageTextToText.from_pretrained(folder, use_safetensors=True)
    assert type(processor).__name__ == processor_cls
    assert type(model).__name__ == model_cls
    assert type(processor.image_processor).__name__.endswith("Pil")  # no torchvision needed
    assert processor.chat_template and "<image>" in processor.tokenizer.get_vocab()
    assert model.config.text_config.initializer_range == 0.2
    assert sum(p.numel() for p in model.parameters()) < 300_000


def test_seeds_give_different_weights_same_seed_same_bytes(tiny_llava: Path, tiny_llava_2: Path, tmp_path: Path) -> None:
    a, b = load_file(tiny_llava / "model.safetensors"), load_file(tiny_llava_2 / "model.safetensors")
    assert a.keys() == b.keys()
    assert any(not (a[k] == b[k]).all() for k in a)
    assert content_revision(tiny_llava) != content_revision(tiny_llava_2)
    # Same lineage: configs and tokenizer are identical, only the weights differ.
    for name in ("config.json", "tokenizer.json"):
        assert (tiny_llava / name).read_bytes() == (tiny_llava_2 / name).read_bytes()
    again = make_tiny_model(tmp_path / "again", "llava", seed=1)
    assert content_revision(again) == content_revision(tiny_llava)


def test_seeding_leaves_global_rng_alone(tmp_path: Path) -> None:
    import torch

    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    make_tiny_model(tmp_path / "m", "llava", seed=7)
    assert torch.equal(torch.rand(3), expected)


def test_refuses_unknown_arch_and_non_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown tiny arch 'qwen'.*llava"):
        make_tiny_model(tmp_path / "q", "qwen")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="full"):
        make_tiny_model(tmp_path / "full")
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"
    (tmp_path / "empty").mkdir()
    assert make_tiny_model(tmp_path / "empty").joinpath("config.json").is_file()
