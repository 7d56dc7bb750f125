"""Checkpoint completeness and content revision, on copies of a tiny checkpoint."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from adapters.checkpoint import (
    PickleWeightsError,
    content_revision,
    is_complete,
    loadable_pickle_files,
    require_safe_weights,
)
from adapters.sources import hub


@pytest.fixture
def ckpt(tiny_llava: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(tiny_llava, tmp_path / "ckpt"))


def _shard(folder: Path) -> None:
    """Turn the single file into a sharded layout with an index (both shards present)."""
    (folder / "model.safetensors").rename(folder / "model-00001-of-00002.safetensors")
    shutil.copy(folder / "model-00001-of-00002.safetensors", folder / "model-00002-of-00002.safetensors")
    index = {"metadata": {}, "weight_map": {"a.weight": "model-00001-of-00002.safetensors", "b.weight": "model-00002-of-00002.safetensors"}}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))


def test_complete_checkpoint(ckpt: Path) -> None:
    assert is_complete(ckpt) == (True, "ok")
    _shard(ckpt)
    assert is_complete(ckpt) == (True, "ok")


def test_index_naming_missing_shard_is_incomplete(ckpt: Path) -> None:
    _shard(ckpt)
    (ckpt / "model-00002-of-00002.safetensors").unlink()
    ok, why = is_complete(ckpt)
    assert not ok
    assert "model-00002-of-00002.safetensors" in why and "missing shard" in why


def test_missing_or_broken_config_is_incomplete(ckpt: Path) -> None:
    (ckpt / "config.json").write_text('{"model_type": "lla')  # cut off mid-write
    ok, why = is_complete(ckpt)
    assert not ok and "config.json" in why and "JSON" in why
    (ckpt / "config.json").unlink()
    assert is_complete(ckpt) == (False, f"{ckpt}: no config.json")
    assert is_complete(ckpt / "nope")[0] is False


def test_truncated_safetensors_is_incomplete(ckpt: Path) -> None:
    weights = ckpt / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-100])
    ok, why = is_complete(ckpt)
    assert not ok and "truncated" in why
    weights.write_bytes(b"\x01")
    assert not is_complete(ckpt)[0]


def test_no_weights_and_pickle_only(ckpt: Path) -> None:
    (ckpt / "model.safetensors").unlink()
    ok, why = is_complete(ckpt)
    assert not ok and "no weights" in why
    (ckpt / "pytorch_model.bin").write_bytes(b"pickle")
    ok, why = is_complete(ckpt)
    assert not ok and "allow_pickle" in why
    assert is_complete(ckpt, allow_pickle=True) == (True, "ok (pickle weights)")
    with pytest.raises(PickleWeightsError, match="pytorch_model.bin"):
        require_safe_weights(ckpt, allow_pickle=False)
    require_safe_weights(ckpt, allow_pickle=True)


def test_content_revision_tracks_config_and_weights_only(ckpt: Path, tiny_llava: Path) -> None:
    rev = content_revision(ckpt)
    assert len(rev) == 12 and int(rev, 16) >= 0
    assert rev == content_revision(tiny_llava)  # a copy elsewhere is the same revision
    (ckpt / "tokenizer_config.json").write_text("{}")
    (ckpt / "README.md").write_text("notes")
    assert content_revision(ckpt) == rev
    config = json.loads((ckpt / "config.json").read_text())
    config["tie_word_embeddings"] = not config.get("tie_word_embeddings", False)
    (ckpt / "config.json").write_text(json.dumps(config))
    changed = content_revision(ckpt)
    assert changed != rev
    weights = bytearray((ckpt / "model.safetensors").read_bytes())
    weights[-1] ^= 0xFF
    (ckpt / "model.safetensors").write_bytes(bytes(weights))
    assert content_revision(ckpt) not in (rev, changed)


def test_ckpt_only_folder_is_pickle_not_missing_weights(ckpt: Path) -> None:
    (ckpt / "model.safetensors").rename(ckpt / "model.ckpt")
    ok, why = is_complete(ckpt)
    assert not ok and "no weights" not in why
    assert "only pickle weights (model.ckpt)" in why and "allow_pickle=True" in why
    assert is_complete(ckpt, allow_pickle=True) == (True, "ok (pickle weights)")
    with pytest.raises(PickleWeightsError, match=r"only pickle weights \(model\.ckpt\)"):
        require_safe_weights(ckpt, allow_pickle=False)
    require_safe_weights(ckpt, allow_pickle=True)
    assert hub.intake_problem([_Sibling("model.ckpt")], allow_pickle=False) is not None  # the hub agrees


class _Sibling:
    def __init__(self, rfilename: str) -> None:
        self.rfilename = rfilename


def _pickle_only(folder: Path, name: str, payload: bytes) -> Path:
    (folder / "model.safetensors").unlink()
    (folder / name).write_bytes(payload)
    return folder


@pytest.mark.parametrize("name", ["pytorch_model.bin", "model.pt", "model.pth", "model.ckpt"])
def test_pickle_checkpoints_differing_only_in_weights_get_different_revisions(
        tiny_llava: Path, tmp_path: Path, name: str) -> None:
    a = _pickle_only(Path(shutil.copytree(tiny_llava, tmp_path / "a")), name, b"weights one")
    b = _pickle_only(Path(shutil.copytree(tiny_llava, tmp_path / "b")), name, b"weights two")
    assert content_revision(a) != content_revision(b)
    (b / name).write_bytes(b"weights one")
    assert content_revision(a) == content_revision(b)


def test_pickle_index_is_part_of_the_revision(ckpt: Path) -> None:
    _pickle_only(ckpt, "pytorch_model-00001-of-00001.bin", b"shard")
    index = ckpt / "pytorch_model.bin.index.json"
    index.write_text(json.dumps({"weight_map": {"a": "pytorch_model-00001-of-00001.bin"}}))
    rev = content_revision(ckpt)
    index.write_text(json.dumps({"weight_map": {"b": "pytorch_model-00001-of-00001.bin"}}))
    assert content_revision(ckpt) != rev


def _revision_before_pickle_was_hashed(folder: Path) -> str:
    """The algorithm the stored revisions of safetensors checkpoints were computed with."""
    digest = hashlib.sha256()
    for path in [folder / "config.json", *sorted(folder.glob("*.safetensors"))]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def test_safetensors_revisions_stay_what_they_were(ckpt: Path) -> None:
    assert content_revision(ckpt) == _revision_before_pickle_was_hashed(ckpt)
    (ckpt / "optimizer.pt").write_bytes(b"a trainer's optimizer state")  # beside safetensors: not weights
    (ckpt / "training_args.bin").write_bytes(b"pickled arguments")
    assert content_revision(ckpt) == _revision_before_pickle_was_hashed(ckpt)
    _shard(ckpt)
    assert content_revision(ckpt) == _revision_before_pickle_was_hashed(ckpt)


def test_loadable_pickle_files_are_what_from_pretrained_opens(ckpt: Path) -> None:
    for name in ("optimizer.pt", "training_args.bin", "rng_state.pth", "pytorch_model.bin", "other.ckpt"):
        (ckpt / name).write_bytes(b"x")
    assert [p.name for p in loadable_pickle_files(ckpt)] == ["pytorch_model.bin"]
    index = {"weight_map": {"a": "pytorch_model-00001-of-00002.bin", "b": "pytorch_model-00002-of-00002.bin"}}
    (ckpt / "pytorch_model.bin.index.json").write_text(json.dumps(index))
    assert [p.name for p in loadable_pickle_files(ckpt)] == [
        "pytorch_model-00001-of-00002.bin", "pytorch_model-00002-of-00002.bin", "pytorch_model.bin"]
