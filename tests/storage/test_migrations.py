"""Migrations on stores written by earlier schemas: answers are reused, not recomputed, and what judges read survives."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from mmwatch import plugins
from mmwatch.engine.identity import probe_key
from mmwatch.engine.plan import Matrix, plan
from mmwatch.records import ModelRecord, ModelSource
from mmwatch.types import GenerationParams, Sample, SampleKind
from storage.schema import available
from storage.store import DuckDBStore

GEN = GenerationParams(max_new_tokens=8)
SAMPLES = [Sample(benchmark="b", source_id=f"h{i}", category="Fraud", kind=SampleKind.HARMFUL, text=f"harm {i}")
           for i in range(3)]
MODEL = ModelRecord(lineage="reference/comply-all", revision="v1", label="comply-all", source=ModelSource.CONFIG,
                    adapter="reference", adapter_params={"behaviour": "comply-all"})


def _old_store(path: Path) -> list[str]:
    """A v3 store as the previous release wrote it: cells keyed without the adapter."""
    attack, defense = plugins.attacks.spec("none"), plugins.defenses.spec("none")
    keys = [probe_key(MODEL.model_id, s.id, s.content_hash, attack.key(), defense.key(), GEN, 0) for s in SAMPLES]
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMP)")
        for version, step in available()[:3]:
            step(con)
            con.execute("INSERT INTO schema_version VALUES (?, now())", [version])
        con.execute("INSERT INTO models VALUES (?, ?, ?, ?, ?, ?, ?, ?, now(), ?)",
                    [MODEL.model_id, MODEL.lineage, MODEL.revision, MODEL.label, "config", "reference",
                     json.dumps(MODEL.adapter_params), 0.0, "evaluated"])
        for key, s in zip(keys, SAMPLES, strict=True):
            con.execute("INSERT INTO samples VALUES (?, ?, ?, ?, ?, ?, NULL, NULL)",
                        [s.id, s.benchmark, s.source_id, s.category, s.kind.value, s.text])
            con.execute(
                "INSERT INTO cells VALUES (?, 'old-run', ?, ?, 0, 'none', 1, ?, 'none', 'none', 1, ?, 'none', '{}', 0, "
                "NULL, ?, [], NULL, '{}', 'Sure, here is an answer', NULL, 1, 1, 0.1, 0.0, now())",
                [key, MODEL.model_id, s.id, json.dumps(attack.key(), sort_keys=True),
                 json.dumps(defense.key(), sort_keys=True), s.text])
            con.execute("INSERT INTO verdicts VALUES (?, 'refusal-keywords', 1, 'complied', 1.0, '', 'old-run', now())",
                        [key])
        con.execute("INSERT INTO human_labels (id, prompt, response, label, source, created_at, cell_key) "
                    "VALUES ('l1', 'p', 'r', 'compliance', 'file.csv', now(), ?)", [keys[0]])
    return keys


def test_old_cells_are_rekeyed_and_reused_by_the_planner(tmp_path: Path) -> None:
    old_keys = _old_store(tmp_path / "db.duckdb")
    with DuckDBStore(tmp_path / "db.duckdb", tmp_path / "art") as store:
        matrix = Matrix(models=[MODEL], samples=SAMPLES, attacks=[plugins.attacks.build("none")],
                        defenses=[plugins.defenses.build("none")], generation=GEN, seed=0)
        planned = plan(matrix, store.existing_cell_keys)
        assert planned.total == 3 and planned.new == []  # every stored answer is found under its new key
        new_keys = set(planned.keys)
        assert new_keys.isdisjoint(old_keys)
        con = store.con
        assert {r[0] for r in con.execute("SELECT cell_key FROM verdicts").fetchall()} == new_keys
        assert con.execute("SELECT cell_key FROM human_labels").fetchone()[0] in new_keys
        hashes = con.execute("SELECT DISTINCT attack_hash, defense_hash FROM cells").fetchall()
        assert hashes == [(plugins.attacks.spec("none").hash, plugins.defenses.spec("none").hash)]
        adapter = json.loads(con.execute("SELECT any_value(adapter_spec) FROM cells").fetchone()[0])
        assert adapter["name"] == "reference" and adapter["params"]["behaviour"] == "comply-all"


def test_migration_11_moves_the_original_question_of_paired_probes_to_its_own_key(tmp_path: Path) -> None:
    """A `none` probe of MM-SafetyBench stored before the rename keeps telling judges what was asked;
    an indirect-injection probe's own `question` is not touched."""
    from storage.schema import migrate
    from mmwatch.records import CellRecord
    from mmwatch.types import Probe, Response

    none, injection = plugins.attacks.spec("none"), plugins.attacks.spec("indirect-injection")
    cells = [CellRecord(cell_key=f"k-{name}", run_id="r", model_id=MODEL.model_id, sample_id=SAMPLES[0].id,
                        probe_index=0, attack=spec.key(), attack_label=name, defense=plugins.defenses.spec("none").key(),
                        defense_label="none", adapter={"name": "reference", "version": 1, "params": {}}, generation={},
                        seed=0, probe=Probe(sample_id=SAMPLES[0].id, text="rephrased", attack_params={"question": q}),
                        response=Response(text="an answer"))
             for name, spec, q in (("none", none, "the original"), ("indirect-injection", injection, "a question"))]
    with DuckDBStore(tmp_path / "db.duckdb", tmp_path / "art") as store:
        store.upsert_samples(SAMPLES)
        store.upsert_models([MODEL])
        store.write_cells(cells)
        store.con.execute("DELETE FROM schema_version WHERE version >= 11")  # the store as 010 left it
        assert 11 in migrate(store.con)
        rows = dict(store.con.execute("SELECT cell_key, probe_params FROM cells ORDER BY cell_key").fetchall())
    assert json.loads(rows["k-none"]) == {"original_request": "the original"}
    assert json.loads(rows["k-indirect-injection"]) == {"question": "a question"}
