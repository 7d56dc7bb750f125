from __future__ import annotations

import json
from pathlib import Path

import duckdb
from PIL import Image

from mmwatch.records import CellRecord, ModelRecord, ModelSource
from mmwatch.types import ImageData, Judgement, Label, Probe, Response, Sample, SampleKind, Verdict
from storage.schema import available, current_version
from storage.store import DuckDBStore

ATTACK = {"name": "none", "version": 1, "params": {}}
DEFENSE = {"name": "none", "version": 1, "params": {}}


def image(colour: str) -> ImageData:
    return ImageData.from_pil(Image.new("RGB", (8, 8), colour))


def cell(key: str, sample: str = "b:1", text: str = "ok", images: tuple[ImageData, ...] = (),
         error: str | None = None, model: str = "lin@r1") -> CellRecord:
    probe = Probe(sample_id=sample, text="q", images=images, attack_params={"font": "x"})
    return CellRecord(cell_key=key, run_id="run1", model_id=model, sample_id=sample, probe_index=0,
                      attack=ATTACK, attack_label="none", defense=DEFENSE, defense_label="none",
                      generation={"max_new_tokens": 8}, seed=0, probe=probe,
                      response=Response(text=text, error=error))


def open_store(tmp_path: Path) -> DuckDBStore:
    return DuckDBStore(tmp_path / "db.duckdb", tmp_path / "artifacts")


def test_migrations_apply_once_and_record_version(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        assert current_version(store.con) == max(v for v, _ in available())
    with open_store(tmp_path) as store:  # reopening applies nothing again
        rows = store.con.execute("SELECT count(*) FROM schema_version").fetchone()
        assert rows[0] == len(available())


def test_writing_a_cell_twice_is_a_no_op(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        assert store.write_cells([cell("k1"), cell("k2")]) == 2
        assert store.write_cells([cell("k1", text="different")]) == 0
        assert store.con.execute("SELECT response_text FROM cells WHERE cell_key='k1'").fetchone()[0] == "ok"
        assert store.existing_cell_keys(["k1", "k3"]) == {"k1"}


def test_images_are_stored_once_by_content(tmp_path: Path) -> None:
    red = image("red")
    with open_store(tmp_path) as store:
        store.write_cells([cell("k1", images=(red,)), cell("k2", images=(red, image("blue")))])
        files = sorted(p.name for p in (tmp_path / "artifacts").rglob("*.png"))
        assert files == sorted({f"{red.sha256}.png", f"{image('blue').sha256}.png"})
        shas = store.con.execute("SELECT probe_images FROM cells WHERE cell_key='k2'").fetchone()[0]
        assert shas[0] == red.sha256 and store.get_image(shas[0]).png == red.png


def test_run_row_records_provenance(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        store.start_run("r1", "demo", "abc123", "{}", "deadbeef", {"torch": "2.13.0"})
        store.finish_run("r1", "completed", 10, 8, 1, "ok")
        row = store.con.execute("SELECT status, config_hash, code_version, package_versions, cells_new "
                                "FROM runs").fetchone()
    assert row[:3] == ("completed", "abc123", "deadbeef")
    assert json.loads(row[3]) == {"torch": "2.13.0"} and row[4] == 8


def test_models_keep_first_discovery(tmp_path: Path) -> None:
    m = ModelRecord(lineage="lin", revision="r1", label="ckpt-1", source=ModelSource.FOLDER, adapter="hf",
                    adapter_params={"path": "/x"}, order_key=1)
    with open_store(tmp_path) as store:
        store.upsert_models([m])
        first = store.models()[0].discovered_at
        store.upsert_models([m])
        assert len(store.models()) == 1 and store.models()[0].discovered_at == first
        assert store.models()[0].model_id == "lin@r1"


def test_cells_missing_verdict_skips_errors_and_scored(tmp_path: Path) -> None:
    sample = Sample(benchmark="b", source_id="1", category="c", kind=SampleKind.HARMFUL, text="q")
    with open_store(tmp_path) as store:
        store.upsert_samples([sample])
        store.write_cells([cell("k1"), cell("k2"), cell("k3", error="boom")])
        todo = store.cells_missing_verdict("j", 1)
        assert [k for k, _, _ in todo] == ["k1", "k2"]
        assert todo[0][1].kind is SampleKind.HARMFUL and todo[0][2].text == "ok"
        v = Verdict(**Judgement(label=Label.REFUSED).model_dump(), judge="j", judge_version=1)
        assert store.write_verdicts("run1", [("k1", v)]) == 1
        assert store.write_verdicts("run1", [("k1", v)]) == 0
        assert [k for k, _, _ in store.cells_missing_verdict("j", 1)] == ["k2"]
        assert len(store.cells_missing_verdict("j", 2)) == 2  # a new judge version re-scores
        assert store.cells_missing_verdict("j", 1, kinds=["utility"]) == []


def test_writer_lock_gives_a_clear_error(tmp_path: Path) -> None:
    import subprocess
    import sys

    with open_store(tmp_path):
        code = ("import sys; from storage.store import DuckDBStore\n"
                "try:\n DuckDBStore(sys.argv[1], sys.argv[2])\nexcept RuntimeError as e: print(e)")
        out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "db.duckdb"), str(tmp_path / "a")],
                             capture_output=True, text=True, timeout=60).stdout
    assert "Another process holds it" in out
    assert duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True).execute("SELECT 1").fetchone() == (1,)
