"""`transfer`: a folder of adversarial PNGs replayed, by sample source id, against any model."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import ScriptedAdapter
from PIL import Image

from mmwatch import plugins
from mmwatch.engine.evaluate import evaluate_model
from mmwatch.engine.plan import Matrix, plan
from mmwatch.records import ModelRecord, ModelSource
from mmwatch.types import GenerationParams, ImageData, Sample, SampleImageError, SampleKind
from storage.store import DuckDBStore


def _sample(source_id: str) -> Sample:
    return Sample(benchmark="t", source_id=source_id, category="c", kind=SampleKind.HARMFUL,
                  text=f"What does picture {source_id} show?")


@pytest.fixture()
def images_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "pgd-images"
    folder.mkdir()
    for i, colour in enumerate(["red", "blue"]):
        Image.new("RGB", (28, 28), colour).save(folder / f"s{i}.png")
    return folder


def test_images_are_replayed_with_the_sample_text(images_dir: Path) -> None:
    attack = plugins.attacks.build("transfer", {"images_dir": str(images_dir), "target": "Sure"})
    (probe,) = attack.obj(_sample("s1"))
    expected = ImageData.from_file(images_dir / "s1.png")
    assert probe.images == (expected,) and probe.text == "What does picture s1 show?" and probe.target == "Sure"
    assert probe.attack_params == {"images_dir": str(images_dir), "file": "s1.png", "image_sha256": expected.sha256}
    (red,) = attack.obj(_sample("s0"))
    assert red.images[0].to_pil().getpixel((0, 0)) == (255, 0, 0)
    no_target = plugins.attacks.build("transfer", {"images_dir": str(images_dir)})
    assert no_target.obj(_sample("s0"))[0].target is None


def test_a_missing_image_names_the_sample(images_dir: Path) -> None:
    attack = plugins.attacks.build("transfer", {"images_dir": str(images_dir)})
    with pytest.raises(SampleImageError, match=r"t:s7.*s7\.png"):
        attack.obj(_sample("s7"))


def test_a_missing_folder_fails_at_build(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nowhere"):
        plugins.attacks.build("transfer", {"images_dir": str(tmp_path / "nowhere")})
    with pytest.raises(ValueError, match="images_dir"):
        plugins.attacks.build("transfer")


def test_engine_replays_against_a_model_without_gradients(images_dir: Path, tmp_path: Path) -> None:
    model = ModelRecord(lineage="api", revision="1", label="api", source=ModelSource.CONFIG, adapter="reference")
    gen = GenerationParams(max_new_tokens=8)
    matrix = Matrix(models=[model], samples=[_sample("s0"), _sample("s1"), _sample("s9")],
                    attacks=[plugins.attacks.build("transfer", {"images_dir": str(images_dir)})],
                    defenses=[plugins.defenses.build("none")], generation=gen, seed=0)
    seen: list[int] = []
    fake = ScriptedAdapter(lambda p: seen.append(len(p.images)) or "ok")
    with DuckDBStore(tmp_path / "db.duckdb", tmp_path / "art") as store:
        planned = plan(matrix, store.existing_cell_keys)
        assert planned.skipped_no_gradients == 0 and len(planned.new) == 3
        stats = evaluate_model(planned.new, fake, store, "r1", gen, 0)
        rows = store.con.execute("SELECT sample_id, error FROM cells ORDER BY sample_id").fetchall()
    assert stats.written == 3 and stats.failed == 1 and seen == [1, 1]
    assert rows[2][0] == "t:s9" and "t:s9" in rows[2][1] and rows[0][1] is None
