from __future__ import annotations

import json
from pathlib import Path

import duckdb
from PIL import Image

from plans import ADAPTER, record_plan

from mmwatch.analysis.outcomes import JudgeRef
from mmwatch.records import CellRecord, ModelRecord, ModelSource, RunRecord, RunStatus, StoredAnswer
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
                      attack=ATTACK, attack_label="none", defense=DEFENSE, defense_label="none", adapter=ADAPTER,
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
        store.start_run(RunRecord(run_id="r1", config_name="demo", config_hash="abc123", config_json="{}",
                                  code_version="deadbeef", package_versions={"torch": "2.13.0"}))
        assert store.con.execute("SELECT status FROM runs").fetchone() == ("running",)
        store.finish_run("r1", RunStatus.COMPLETED, 10, 8, 1, "ok", plan_id="p1")
        row = store.con.execute("SELECT status, config_hash, code_version, package_versions, cells_new, plan_id "
                                "FROM runs").fetchone()
    assert row[:3] == ("completed", "abc123", "deadbeef")
    assert json.loads(row[3]) == {"torch": "2.13.0"} and row[4] == 8 and row[5] == "p1"


def test_models_keep_first_discovery(tmp_path: Path) -> None:
    m = ModelRecord(lineage="lin", revision="r1", label="ckpt-1", source=ModelSource.FOLDER, adapter="hf",
                    adapter_params={"path": "/x"}, order_key=1)
    with open_store(tmp_path) as store:
        store.upsert_models([m])
        first = store.models()[0].discovered_at
        store.upsert_models([m])
        assert len(store.models()) == 1 and store.models()[0].discovered_at == first
        assert store.models()[0].model_id == "lin@r1"


def _missing(store: DuckDBStore, plan_id: str, version: int = 1, kinds: list[SampleKind] | None = None,
             with_images: bool = False) -> list[StoredAnswer]:
    return store.cells_missing_verdict(plan_id, JudgeRef(name="j", version=version), kinds, False, with_images)


def test_cells_missing_verdict_skips_errors_scored_and_cells_outside_the_plan(tmp_path: Path) -> None:
    sample = Sample(benchmark="b", source_id="1", category="c", kind=SampleKind.HARMFUL, text="q")
    with open_store(tmp_path) as store:
        store.upsert_samples([sample])
        cells = [cell("k1"), cell("k2"), cell("k3", error="boom")]
        store.write_cells([*cells, cell("k-old")])
        plan = record_plan(store, cells)
        todo = _missing(store, plan.plan_id)
        assert [a.cell_key for a in todo] == ["k1", "k2"]  # k-old is stored but not in the plan
        assert todo[0].probe.kind is SampleKind.HARMFUL and todo[0].response.text == "ok"
        v = Verdict(**Judgement(label=Label.REFUSED).model_dump(), judge="j", judge_version=1)
        assert store.write_verdicts("run1", [("k1", v)]) == 1
        assert store.write_verdicts("run1", [("k1", v)]) == 0
        assert [a.cell_key for a in _missing(store, plan.plan_id)] == ["k2"]
        assert len(_missing(store, plan.plan_id, version=2)) == 2  # a new judge version re-scores
        assert _missing(store, plan.plan_id, kinds=[SampleKind.UTILITY]) == []


def test_image_aware_judges_get_the_stored_pixels_back(tmp_path: Path) -> None:
    red = image("red")
    with open_store(tmp_path) as store:
        store.upsert_samples([Sample(benchmark="b", source_id="1", category="c", kind=SampleKind.HARMFUL, text="q")])
        plan = record_plan(store, [cell("k1", images=(red,))])
        store.write_cells([cell("k1", images=(red,))])
        (blind,) = _missing(store, plan.plan_id)
        (seeing,) = _missing(store, plan.plan_id, with_images=True)
    assert blind.probe.images == () and seeing.probe.images == (red,)


def test_recording_the_same_plan_twice_keeps_one_copy(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        record_plan(store, [cell("k1"), cell("k2")])
        record_plan(store, [cell("k1"), cell("k2")])
        assert store.con.execute("SELECT count(*) FROM plan_cells").fetchone() == (2,)
        assert store.con.execute("SELECT count(*) FROM plan_specs").fetchone() == (2,)  # attack + defense none


def test_writer_lock_gives_a_clear_error(tmp_path: Path) -> None:
    import subprocess
    import sys

    with open_store(tmp_path):
        code = ("import sys; from storage.store import DuckDBStore\n"
                "try:\n DuckDBStore(sys.argv[1], sys.argv[2])\nexcept RuntimeError as e: print(e)")
        out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "db.duckdb"), str(tmp_path / "a")],
                             capture_output=True, text=True, timeout=60).stdout
    assert "held by another process" in out and "a cycle still running" in out
    assert duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True).execute("SELECT 1").fetchone() == (1,)
