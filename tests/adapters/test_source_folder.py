from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import save_file

from adapters.sources.folder import scan_folder, step_number
from mmwatch.config import WatchFolder


def checkpoint(folder: Path, value: float, complete: bool = True) -> Path:
    folder.mkdir(parents=True)
    save_file({"w": torch.full((2,), value)}, str(folder / "model-00001-of-00002.safetensors"))
    index = {"weight_map": {"w": "model-00001-of-00002.safetensors", "v": "model-00002-of-00002.safetensors"}}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))
    if complete:
        save_file({"v": torch.zeros(1)}, str(folder / "model-00002-of-00002.safetensors"))
        (folder / "config.json").write_text("{}")
    return folder


def test_step_numbers_from_common_names() -> None:
    assert step_number("checkpoint-1200") == 1200
    assert step_number("step_300") == 300
    assert step_number("global_step40") is None or step_number("global_step40") == 40
    assert step_number("final") is None


def test_lineage_ordered_by_step_and_half_written_checkpoint_waits(tmp_path: Path) -> None:
    root = tmp_path / "my-model"
    checkpoint(root / "checkpoint-1200", 2.0)
    checkpoint(root / "checkpoint-300", 1.0)
    checkpoint(root / "checkpoint-2000", 3.0, complete=False)
    found = scan_folder(WatchFolder(path=root))
    assert [m.label for m in found.models] == ["checkpoint-300", "checkpoint-1200"]
    assert {m.lineage for m in found.models} == {"my-model"}
    assert found.models[0].adapter_params["path"].endswith("checkpoint-300")
    assert len(found.skipped) == 1 and "checkpoint-2000" in found.skipped[0]
    # the writer finishes: the checkpoint is taken, with a content revision of its own
    save_file({"v": torch.zeros(1)}, str(root / "checkpoint-2000" / "model-00002-of-00002.safetensors"))
    (root / "checkpoint-2000" / "config.json").write_text("{}")
    again = scan_folder(WatchFolder(path=root))
    assert [m.label for m in again.models][-1] == "checkpoint-2000" and again.skipped == []
    assert len({m.revision for m in again.models}) == 3
    assert again.models[0].model_id == found.models[0].model_id  # unchanged folder, same revision


def test_missing_watch_folder_is_reported_not_fatal(tmp_path: Path) -> None:
    found = scan_folder(WatchFolder(path=tmp_path / "nope", lineage="x"))
    assert found.models == [] and "does not exist" in found.skipped[0]


def test_pickle_checkpoints_are_told_apart_by_their_weights(tmp_path: Path) -> None:
    root = tmp_path / "pickled"
    for name, value in (("checkpoint-1", 1.0), ("checkpoint-2", 2.0), ("checkpoint-3", 3.0)):
        (root / name).mkdir(parents=True)
        (root / name / "config.json").write_text("{}")
        suffix = ".ckpt" if name == "checkpoint-3" else ".bin"
        torch.save({"w": torch.full((2,), value)}, str(root / name / f"pytorch_model{suffix}"))
    assert scan_folder(WatchFolder(path=root)).models == []  # pickle is refused unless allowed
    found = scan_folder(WatchFolder(path=root, allow_pickle=True))
    assert [m.label for m in found.models] == ["checkpoint-1", "checkpoint-2", "checkpoint-3"]
    assert len({m.revision for m in found.models}) == 3  # same config, different weights
    assert all(m.adapter_params["allow_pickle"] is True for m in found.models)
