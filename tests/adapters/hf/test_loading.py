"""Pickle weights load only through torch's weights-only unpickler, checked by mmwatch itself."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from adapters.checkpoint import PickleWeightsError
from adapters.hf import loading
from adapters.hf.adapter import hf
from adapters.hf.loading import HFOptions, load, require_safe_unpickler, verify_pickle_weights


class Payload:
    """Unpickling this runs code: it creates `marker` (what a hostile checkpoint would do worse)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return exec, (f"open({str(self.marker)!r}, 'w').close()",)


def _state(folder: Path) -> dict[str, Any]:
    from safetensors.torch import load_file

    return load_file(folder / "model.safetensors")


def _pickled(tiny: Path, dest: Path, extra: dict[str, Any] | None = None) -> Path:
    """A copy of the tiny checkpoint whose weights are pytorch_model.bin (plus `extra` entries)."""
    import torch

    folder = Path(shutil.copytree(tiny, dest))
    torch.save({**_state(folder), **(extra or {})}, folder / "pytorch_model.bin")
    (folder / "model.safetensors").unlink()
    return folder


def _sharded(tiny: Path, dest: Path, extra: dict[str, Any] | None = None) -> Path:
    """Two pickle shards and their index; `extra` entries go into the second shard."""
    import torch

    folder = Path(shutil.copytree(tiny, dest))
    state = _state(folder)
    names = sorted(state)
    half = len(names) // 2
    shards = {"pytorch_model-00001-of-00002.bin": names[:half], "pytorch_model-00002-of-00002.bin": names[half:]}
    for n, (shard, keys) in enumerate(shards.items()):
        torch.save({k: state[k] for k in keys} | (extra if n and extra else {}), folder / shard)
    weight_map = {k: shard for shard, keys in shards.items() for k in keys}
    (folder / "pytorch_model.bin.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    (folder / "model.safetensors").unlink()
    return folder


def _same_weights(model: Any, tiny: Path) -> bool:
    import torch

    loaded = model.state_dict()
    return all(torch.equal(loaded[k], v) for k, v in _state(tiny).items() if k in loaded)


def test_legitimate_pickle_checkpoints_load(tiny_llava: Path, tmp_path: Path) -> None:
    for folder in (_pickled(tiny_llava, tmp_path / "single"), _sharded(tiny_llava, tmp_path / "sharded")):
        verify_pickle_weights(folder)
        state = load(HFOptions(str(folder), device="cpu", allow_pickle=True))
        assert _same_weights(state.model, tiny_llava), folder.name


def test_code_payload_is_refused_naming_the_file_and_never_runs(tiny_llava: Path, tmp_path: Path) -> None:
    import torch

    marker = tmp_path / "pwned"
    folder = _pickled(tiny_llava, tmp_path / "evil", {"extra": Payload(marker)})
    adapter = hf(str(folder), allow_pickle=True)  # looks like any pickle checkpoint from outside
    with pytest.raises(PickleWeightsError, match=r"evil/pytorch_model\.bin: refused: .*could run code.*exec"):
        adapter.load()
    assert not marker.exists()
    torch.load(folder / "pytorch_model.bin", weights_only=False)  # the payload is real: unsafe loading runs it
    assert marker.exists()


def test_payload_in_a_shard_is_refused_naming_the_shard(tiny_llava: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    folder = _sharded(tiny_llava, tmp_path / "evil", {"extra": Payload(marker)})
    with pytest.raises(PickleWeightsError, match=r"pytorch_model-00002-of-00002\.bin: refused"):
        load(HFOptions(str(folder), device="cpu", allow_pickle=True))
    assert not marker.exists()


def _unsafe_transformers(monkeypatch: pytest.MonkeyPatch) -> None:
    """A transformers that unpickles .bin files without weights_only."""
    import torch
    import transformers.modeling_utils as modeling_utils

    def unsafe(checkpoint_file: Any, map_location: Any = "cpu", **_: Any) -> Any:
        return torch.load(checkpoint_file, map_location=map_location, weights_only=False)

    monkeypatch.setattr(modeling_utils, "load_state_dict", unsafe)


def test_the_check_does_not_rely_on_transformers(tiny_llava: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    marker = tmp_path / "pwned"
    folder = _pickled(tiny_llava, tmp_path / "evil", {"extra": Payload(marker)})
    _unsafe_transformers(monkeypatch)
    with pytest.raises(PickleWeightsError, match="pytorch_model.bin"):
        load(HFOptions(str(folder), device="cpu", allow_pickle=True))
    assert not marker.exists()
    monkeypatch.setattr(loading, "verify_pickle_weights", lambda folder: None)
    with contextlib.suppress(Exception):  # without mmwatch's check, that transformers runs the payload
        load(HFOptions(str(folder), device="cpu", allow_pickle=True))
    assert marker.exists()


def test_from_pretrained_is_told_weights_only_too(tiny_llava: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A file swapped after the check (or a hub download) meets weights_only in transformers."""
    marker = tmp_path / "pwned"
    folder = _pickled(tiny_llava, tmp_path / "evil", {"extra": Payload(marker)})
    monkeypatch.setattr(loading, "verify_pickle_weights", lambda folder: None)
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")  # cannot override an explicit weights_only
    with pytest.raises(PickleWeightsError, match=rf"{re.escape(str(folder))}: pickle weights refused: .*exec"):
        load(HFOptions(str(folder), device="cpu", allow_pickle=True))
    assert not marker.exists()


def test_pickles_from_pretrained_never_opens_are_left_alone(tiny_llava: Path, tmp_path: Path) -> None:
    """A trainer's training_args.bin holds objects, not tensors: not vetted, and never unpickled."""
    import torch

    marker = tmp_path / "pwned"
    folder = _pickled(tiny_llava, tmp_path / "trainer")
    torch.save(Payload(marker), folder / "training_args.bin")
    torch.save({"state": {}, "param_groups": []}, folder / "optimizer.pt")
    state = load(HFOptions(str(folder), device="cpu", allow_pickle=True))
    assert _same_weights(state.model, tiny_llava) and not marker.exists()


def test_unreadable_pickle_weights_name_the_file(tiny_llava: Path, tmp_path: Path) -> None:
    folder = _pickled(tiny_llava, tmp_path / "cut")
    weights = folder / "pytorch_model.bin"
    weights.write_bytes(weights.read_bytes()[:200])
    with pytest.raises(ValueError, match=r"cut/pytorch_model\.bin: unreadable pickle weights"):
        verify_pickle_weights(folder)


def test_old_torch_is_refused_pickle_weights(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import torch

    require_safe_unpickler()
    monkeypatch.setattr(torch, "__version__", "2.5.1")
    with pytest.raises(PickleWeightsError, match=r"torch 2\.5\.1 cannot load pickle weights safely"):
        require_safe_unpickler()
    with pytest.raises(PickleWeightsError, match="torch 2.5.1"):
        verify_pickle_weights(tmp_path)
