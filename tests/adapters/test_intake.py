from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from adapters.intake import InsufficientDiskError, check_free_disk, check_hub_download, is_cached

HUGE = 10**18  # an exabyte: no test machine has it


def test_huge_download_is_refused_with_needed_free_and_folder(tmp_path: Path) -> None:
    with pytest.raises(InsufficientDiskError) as err:
        check_free_disk(HUGE, tmp_path, min_free_gb=1.0)
    message = str(err.value)
    free_gb = shutil.disk_usage(tmp_path).free / 1e9
    numbers = [float(x) for x in re.findall(r"(\d+\.\d+) GB", message)]
    assert str(tmp_path) in message and "need" in message and "free" in message
    assert numbers[0] == pytest.approx(HUGE / 1e9 + 1.0)  # needed: download plus the margin
    assert any(abs(n - free_gb) < 1.0 for n in numbers[1:])  # free


def test_unknown_size_checks_the_margin_only(tmp_path: Path) -> None:
    check_free_disk(None, tmp_path, min_free_gb=0.0)
    check_free_disk(1000, tmp_path, min_free_gb=0.0)
    with pytest.raises(InsufficientDiskError, match="unknown size"):
        check_free_disk(None, tmp_path, min_free_gb=1e12)


def test_missing_folder_is_measured_at_its_nearest_parent(tmp_path: Path) -> None:
    check_free_disk(None, tmp_path / "not" / "yet", min_free_gb=0.0)
    with pytest.raises(InsufficientDiskError, match=re.escape(str(tmp_path))):
        check_free_disk(HUGE, tmp_path / "not" / "yet", min_free_gb=0.0)
    with pytest.raises(ValueError):
        check_free_disk(-1, tmp_path, min_free_gb=0.0)


def test_a_cached_snapshot_needs_no_room(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants as hf_constants

    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(tmp_path))
    repo = tmp_path / "models--org--vlm"
    (repo / "snapshots" / "abc123").mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("abc123")
    assert is_cached("org/vlm", "abc123") and is_cached("org/vlm", "main") and is_cached("org/vlm", None)
    assert not is_cached("org/vlm", "def456") and not is_cached("org/other", "abc123")
    check_hub_download("org/vlm", "abc123", HUGE, min_free_gb=1.0)  # already on disk: passes
    with pytest.raises(InsufficientDiskError):
        check_hub_download("org/vlm", "def456", HUGE, min_free_gb=1.0)


def test_hf_adapter_refuses_the_download_before_loading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants as hf_constants

    from adapters.hf.adapter import hf

    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    model = hf("org/vlm", revision="abc123", expected_bytes=HUGE, min_free_gb=0.5)
    with pytest.raises(InsufficientDiskError, match=re.escape(str(tmp_path))):
        model.model_and_processor()
    with pytest.raises(ValueError, match="min_free_gb"):
        hf("org/vlm", min_free_gb=-1)
