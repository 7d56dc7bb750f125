"""Answer keys survive the store (migration 010): written with the samples, read back into the
probes that judges re-score, also for cells that came in through result shards; and a probe with
an answer key survives the JSON a work unit travels as."""

from __future__ import annotations

from pathlib import Path

import duckdb
from plans import ADAPTER, record_plan

from mmwatch.analysis.outcomes import JudgeRef
from mmwatch.engine.units import ReusedProbe
from mmwatch.records import CellRecord
from mmwatch.types import AnswerFormat, AnswerKey, Probe, Response, Sample, SampleKind
from storage.schema import available
from storage.shards import ShardWriter
from storage.store import DuckDBStore

NONE = {"name": "none", "version": 1, "params": {}}
CHOICE = AnswerKey(format=AnswerFormat.CHOICE, choices=("green", "blue", "red"), group="0")
VQA = AnswerKey(format=AnswerFormat.VQA, answers=("stop",) * 9 + ("halt",))
SAMPLES = [
    Sample(benchmark="mmbench", source_id="0/r1", category="color", kind=SampleKind.UTILITY, text="Which?",
           reference="B", answer_key=CHOICE),
    Sample(benchmark="textvqa", source_id="7", category="textvqa", kind=SampleKind.UTILITY, text="Says?",
           reference="stop", answer_key=VQA),
    Sample(benchmark="mini", source_id="u1", category="count", kind=SampleKind.UTILITY, text="How many?",
           reference="3"),
]


def _cell(key: str, sample: Sample) -> CellRecord:
    return CellRecord(cell_key=key, run_id="run1", model_id="lin@r1", sample_id=sample.id, probe_index=0, attack=NONE,
                      attack_label="none", defense=NONE, defense_label="none", adapter=ADAPTER,
                      generation={"max_new_tokens": 8}, seed=0, probe=Probe.for_sample(sample, text=sample.text),
                      response=Response(text="B"))


def _judged_keys(store: DuckDBStore, plan_id: str) -> dict[str, AnswerKey | None]:
    todo = store.cells_missing_verdict(plan_id, JudgeRef(name="j", version=1), [SampleKind.UTILITY], False, False)
    return {a.probe.sample_id: a.probe.answer_key for a in todo}


def test_answer_keys_are_stored_with_the_samples_and_read_back_into_probes(tmp_path: Path) -> None:
    cells = [_cell(f"k{i}", s) for i, s in enumerate(SAMPLES)]
    with DuckDBStore(tmp_path / "db.duckdb", tmp_path / "art") as store:
        store.upsert_samples(SAMPLES)
        store.write_cells(cells)
        plan = record_plan(store, cells)
        keys = _judged_keys(store, plan.plan_id)
    assert keys == {"mmbench:0/r1": CHOICE, "textvqa:7": VQA, "mini:u1": None}
    assert keys["mmbench:0/r1"].choices == ("green", "blue", "red")  # tuples again, in order


def test_cells_ingested_from_result_shards_are_judged_with_their_answer_keys(tmp_path: Path) -> None:
    cells = [_cell(f"k{i}", s) for i, s in enumerate(SAMPLES)]
    results = str(tmp_path / "results")
    ShardWriter(results, "unit-a", "run1").write(cells, [])  # a worker's part: cells hold no answer keys
    with DuckDBStore(tmp_path / "db.duckdb", tmp_path / "art") as store:
        store.upsert_samples(SAMPLES)  # the orchestrator records the plan's samples, keys included
        assert store.ingest_shards(results) == (3, 0)
        plan = record_plan(store, cells)
        assert _judged_keys(store, plan.plan_id)["textvqa:7"] == VQA


def test_a_probe_with_an_answer_key_survives_a_work_units_json() -> None:
    probe = Probe.for_sample(SAMPLES[0], text="Which?")
    travelled = ReusedProbe.model_validate_json(ReusedProbe(attack_hash="h", probe=probe).model_dump_json())
    assert travelled.probe == probe and travelled.probe.answer_key == CHOICE


def test_migration_010_adds_the_column_to_an_older_store(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMP)")
        for version, step in available():
            if version < 10:
                step(con)
                con.execute("INSERT INTO schema_version VALUES (?, now())", [version])
        con.execute("INSERT INTO samples VALUES ('b:1', 'b', '1', 'c', 'utility', 'q', NULL, 'yes')")
    with DuckDBStore(path, tmp_path / "art") as store:
        assert store.con.execute("SELECT reference, answer_key FROM samples").fetchall() == [("yes", None)]
        store.upsert_samples([SAMPLES[0]])
        stored = store.con.execute("SELECT answer_key FROM samples WHERE sample_id = 'mmbench:0/r1'").fetchone()
        assert stored is not None and AnswerKey.model_validate_json(stored[0]) == CHOICE
