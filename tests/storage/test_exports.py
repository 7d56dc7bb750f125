from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from plans import ADAPTER

from mmwatch import plugins
from mmwatch.records import CellRecord
from mmwatch.types import ImageData, Probe, Response, Sample, SampleKind
from storage.exports import export_attack_images
from storage.store import DuckDBStore

PGD = {"name": "pgd", "version": 1, "params": {}}
NONE = {"name": "none", "version": 1, "params": {}}


def test_exported_images_are_what_transfer_replays(tmp_path: Path) -> None:
    samples = [Sample(benchmark="b", source_id=f"s/{i}", category="Fraud", kind=SampleKind.HARMFUL,
                      text=f"question {i}") for i in range(2)]
    images = [ImageData.from_pil(Image.new("RGB", (8, 8), colour)) for colour in ("red", "blue")]
    with DuckDBStore(tmp_path / "db.duckdb", tmp_path / "art") as store:
        store.upsert_samples(samples)
        cells = [
            CellRecord(cell_key=f"{i}-{d['name']}", run_id="r", model_id="src@1", sample_id=s.id, probe_index=0,
                       attack=PGD, attack_label="pgd", defense=d, defense_label=d["name"], adapter=ADAPTER,
                       generation={}, seed=0,
                       probe=Probe(sample_id=s.id, text=s.text, images=(img,)), response=Response(text="x"))
            for i, (s, img) in enumerate(zip(samples, images)) for d in (NONE, {**NONE, "name": "system-prompt"})
        ]
        store.write_cells(cells)
    out = tmp_path / "exported"
    assert export_attack_images(tmp_path / "db.duckdb", tmp_path / "art", "src@1", "pgd", out) == 2
    replay = plugins.attacks.build("transfer", {"images_dir": str(out)}).obj
    for sample, image in zip(samples, images):
        (probe,) = replay(sample)
        assert probe.images[0].to_pil().tobytes() == image.to_pil().tobytes() and probe.text == sample.text
    with pytest.raises(LookupError, match="no images stored"):
        export_attack_images(tmp_path / "db.duckdb", tmp_path / "art", "other@1", "pgd", out)
