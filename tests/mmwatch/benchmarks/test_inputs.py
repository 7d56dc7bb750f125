"""Benchmark inputs are confined and bounded: image paths stay in the benchmark's folder (or an
allowed root), and a too-large image is refused from its header, by name, without being decoded."""

from __future__ import annotations

import json
import struct
import sys
import types
import warnings
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageFile, PngImagePlugin
from pydantic import ValidationError

from mmwatch import plugins
from mmwatch.benchmarks.inputs import ImageScreen
from mmwatch.config import RunConfig
from mmwatch.engine.samples import load_samples
from mmwatch.images import PIXEL_CEILING
from mmwatch.types import (
    ImageData,
    InputLimits,
    InputRefusal,
    InputRefusedError,
    Sample,
    SampleImageError,
    SampleKind,
)


def _config(*benchmarks: dict[str, Any], **inputs: Any) -> RunConfig:
    return RunConfig.model_validate({"benchmarks": list(benchmarks), "inputs": inputs,
                                     "judges": [{"name": "refusal-keywords"}, {"name": "exact-match"}]})


def _table(path: Path, **params: Any) -> dict[str, Any]:
    return {"name": "table", "params": {"path": str(path), "columns": {"image": "img"}, "kind": "harmful", **params}}


def _png_header(width: int, height: int) -> bytes:
    """A valid PNG of a few dozen bytes whose header declares width x height (no pixel data)."""
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


@pytest.fixture()
def no_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any decoding (or PNG verification) of an image fails the test: refusals must come from headers."""
    def decoded(self: Any, *args: Any) -> Any:
        raise AssertionError(f"decoded {getattr(self, 'filename', '') or 'an in-memory image'}")
    monkeypatch.setattr(ImageFile.ImageFile, "load", decoded)
    monkeypatch.setattr(PngImagePlugin.PngImageFile, "verify", decoded)


@pytest.fixture(scope="module")
def huge_png(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A real 12000 x 12000 PNG of under 20 KB: it would decode to 432 MB of RGB."""
    path = tmp_path_factory.mktemp("huge") / "huge.png"
    Image.new("1", (12000, 12000)).save(path)
    yield path


def test_image_paths_stay_in_the_benchmark_folder_or_an_allowed_root(tmp_path: Path) -> None:
    bench, shared = tmp_path / "bench", tmp_path / "shared"
    (bench / "pics").mkdir(parents=True)
    shared.mkdir()
    for path in (bench / "pics" / "ok.png", tmp_path / "outside.png", shared / "s.png"):
        Image.new("RGB", (4, 4), "red").save(path)
    (bench / "pics" / "link.png").symlink_to(tmp_path / "outside.png")
    (bench / "pics" / "inner.png").symlink_to(bench / "pics" / "ok.png")  # a link that stays inside is fine
    csv = bench / "set.csv"
    csv.write_text(
        "id,text,img\n"
        "a,What is shown?,pics/ok.png\n"
        "b,What is shown?,../outside.png\n"               # line 3: climbs out
        f"c,What is shown?,{tmp_path / 'outside.png'}\n"  # line 4: absolute, outside
        "d,What is shown?,pics/link.png\n"                # line 5: a symlink that leads out
        "e,What is shown?,pics/inner.png\n"
        f"f,What is shown?,{shared / 's.png'}\n"          # line 7: absolute, in an allowed root
        "g,What is shown?,../shared/s.png\n",             # line 8: relative, into an allowed root
        encoding="utf-8",
    )
    samples, problems = load_samples(_config(_table(csv)))
    assert [s.source_id for s in samples] == ["a", "e"]
    assert [p.split(": image: ")[0] for p in problems] == [f"{csv}:{n}" for n in (3, 4, 5, 7, 8)]
    outside = (tmp_path / "outside.png").resolve()
    assert problems[0].startswith(f"{csv}:3: image: {bench}/../outside.png (sample set:b) resolves to {outside}, "
                                  f"outside {bench.resolve()}")
    assert f"(sample set:d) resolves to {outside}" in problems[2]
    assert all("inputs.allowed_roots" in p for p in problems)

    samples, problems = load_samples(_config(_table(csv), allowed_roots=[str(shared)]))
    assert [s.source_id for s in samples] == ["a", "e", "f", "g"] and len(problems) == 3
    assert samples[3].load_image() is not None


def test_jsonl_and_json_loaders_name_the_line_or_record(tmp_path: Path) -> None:
    (tmp_path / "data" / "img").mkdir(parents=True)
    Image.new("RGB", (4, 4), "blue").save(tmp_path / "data" / "img" / "ok.png")
    Image.new("RGB", (4, 4), "blue").save(tmp_path / "private.png")
    jsonl = tmp_path / "data" / "mine.jsonl"
    rows = [{"id": 1, "text": "t", "kind": "harmful", "category": "c", "image": "img/ok.png"},
            {"id": 2, "text": "t", "kind": "harmful", "category": "c", "image": "../private.png"}]
    jsonl.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    siuo = tmp_path / "data" / "siuo.json"
    siuo.write_text(json.dumps([{"question_id": q, "image": image, "question": "q", "category": "c"}
                                for q, image in ((1, "ok.png"), (2, "../../private.png"))]), encoding="utf-8")
    samples, problems = load_samples(_config(
        {"name": "jsonl", "params": {"path": str(jsonl)}},
        {"name": "siuo", "params": {"path": str(siuo), "images": str(tmp_path / "data" / "img")}},
    ))
    assert [s.id for s in samples] == ["mine:1", "siuo:1"]
    assert problems[0].startswith(f"{jsonl}:2: image: {jsonl.parent}/../private.png (sample mine:2)")
    assert problems[1].startswith(f"{siuo}:record 2: image: {tmp_path}/data/img/../../private.png (sample siuo:2)")


def test_a_huge_image_is_refused_from_its_header(tmp_path: Path, huge_png: Path, no_decoding: None) -> None:
    (tmp_path / "big.png").symlink_to(huge_png)  # inside the folder by its link, outside by its target
    csv = tmp_path / "set.csv"
    csv.write_text(f"id,text,img\nhuge,What is shown?,big.png\nfine,What is shown?,\n", encoding="utf-8")
    with pytest.warns(Image.DecompressionBombWarning):  # PIL only warns at 144 MP; it is refused here
        samples, problems = load_samples(_config(_table(csv), allowed_roots=[str(huge_png.parent)]))
    assert [s.source_id for s in samples] == ["fine"]
    assert problems == [f"{csv}:2: image: {tmp_path / 'big.png'} (sample set:huge) is 12000x12000 = "
                        "144,000,000 pixels, over the limit of 40,000,000"]
    with warnings.catch_warnings():  # where warnings are errors, PIL's warning is a named refusal too
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        _, problems = load_samples(_config(_table(csv), allowed_roots=[str(huge_png.parent)]))
    assert problems[0].startswith(f"{csv}:2: image: {tmp_path / 'big.png'} (sample set:huge) refused as a "
                                  "decompression bomb")


def test_load_image_refuses_what_no_config_allows(huge_png: Path, tmp_path: Path, no_decoding: None) -> None:
    sample = Sample(benchmark="t", source_id="huge", category="c", kind=SampleKind.HARMFUL, text="t",
                    image_path=huge_png)
    with pytest.warns(Image.DecompressionBombWarning), pytest.raises(InputRefusedError) as refused:
        sample.load_image()
    assert refused.value.refusal is InputRefusal.PIXELS
    assert str(refused.value) == (f"image {huge_png} is 12000x12000 = 144,000,000 pixels, over the limit of "
                                  f"{PIXEL_CEILING:,} (sample t:huge)")
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png_header(20000, 20000))  # 400 MP: PIL refuses to open it at all
    with pytest.raises(SampleImageError, match=rf"image {bomb} \(sample t:bomb\) refused as a decompression bomb"):
        ImageData.from_file(bomb, "t:bomb")
    bombed = sample.model_copy(update={"source_id": "bomb", "image_path": bomb})
    screen = ImageScreen([bombed], InputLimits(allowed_roots=(tmp_path,)), "t")
    assert list(screen) == [] and "refused as a decompression bomb" in screen.problems[0]


def test_byte_limit_and_in_memory_images(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Image.effect_noise((64, 64), 80).convert("RGB").save(tmp_path / "noisy.png")
    size = (tmp_path / "noisy.png").stat().st_size
    csv = tmp_path / "set.csv"
    csv.write_text("id,text,img\nn,What is shown?,noisy.png\n", encoding="utf-8")
    _, problems = load_samples(_config(_table(csv), max_image_bytes=2000))
    assert problems == [f"{csv}:2: image: {tmp_path / 'noisy.png'} (sample set:n) has {size:,} bytes, "
                        "over the limit of 2,000", f"{csv}: no samples (1 bad row(s))"]
    with pytest.raises(InputRefusedError, match=rf"image {tmp_path / 'noisy.png'} \(sample s\) has"):
        ImageData.from_file(tmp_path / "noisy.png", "s", InputLimits(max_image_bytes=2000))

    rows = [{"prompt": "Describe it.", "image": Image.new("RGB", (50, 50))},
            {"prompt": "Describe it.", "image": {"bytes": _png_header(20000, 20000)}}]
    monkeypatch.setitem(sys.modules, "datasets", types.SimpleNamespace(load_dataset=lambda *a, **k: rows))
    ref = {"name": "hf-dataset", "params": {"dataset": "org/set", "columns": {"text": "prompt"}, "kind": "benign"}}
    samples, problems = load_samples(_config(ref, max_image_pixels=100))
    assert samples == []
    assert problems[0].startswith("hf://org/set[test]:row 2: image: the image refused as a decompression bomb")
    assert problems[1] == ("hf://org/set[test]:row 1: image: the image held in memory (sample org/set:1) is "
                           "50x50 = 2,500 pixels, over the limit of 100")


def test_a_benchmark_without_a_folder_needs_an_allowed_root(tmp_path: Path) -> None:
    Image.new("RGB", (4, 4)).save(tmp_path / "x.png")
    (tmp_path / "loop.png").symlink_to(tmp_path / "loop.png")
    plain = [Sample(benchmark="p", source_id=name, category="c", kind=SampleKind.HARMFUL, text="t",
                    image_path=tmp_path / name) for name in ("x.png", "loop.png")]
    screen = ImageScreen(plain, InputLimits(), "plugin-bench")
    assert list(screen) == [] and screen.problems[0].startswith(
        f"plugin-bench: image: {tmp_path / 'x.png'} (sample p:x.png) resolves to")
    assert "outside any folder: the benchmark names none" in screen.problems[0]
    allowed = ImageScreen(plain, InputLimits(allowed_roots=(tmp_path,)), "plugin-bench")
    assert [s.source_id for s in allowed] == ["x.png"]
    assert allowed.problems and "loop.png" in allowed.problems[0]  # a symlink loop is refused, not followed


def test_a_limit_takes_the_first_good_rows(tmp_path: Path) -> None:
    Image.new("RGB", (4, 4)).save(tmp_path / "ok.png")
    csv = tmp_path / "set.csv"
    csv.write_text("id,text,img\nout,t,/etc/hostname\nin,t,ok.png\nlater,t,ok.png\n", encoding="utf-8")
    samples, problems = load_samples(_config({**_table(csv), "limit": 1}))
    assert [s.source_id for s in samples] == ["in"] and len(problems) == 1 and f"{csv}:2:" in problems[0]


def test_input_limits_are_validated() -> None:
    assert _config({"name": "mmwatch-mini"}).inputs == InputLimits()
    with pytest.raises(ValidationError, match="less than or equal"):
        InputLimits(max_image_pixels=PIXEL_CEILING + 1)
    with pytest.raises(ValidationError, match="Extra inputs"):
        _config({"name": "mmwatch-mini"}, max_pixels=5)
    mini, problems = load_samples(_config({"name": "mmwatch-mini"}))
    assert mini and problems == []  # drawn images are small and need no folder
    assert plugins.benchmarks.info("mmwatch-mini")
