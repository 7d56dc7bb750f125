"""Checkpoint completeness and content revision, on copies of a tiny checkpoint."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from adapters.checkpoint import PickleWeightsError, content_revision, is_complete, require_safe_weights


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
