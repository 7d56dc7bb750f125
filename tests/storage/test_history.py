"""The snapshot history: one block of rates per published run, kept in the store, copied into every
snapshot; a re-publish replaces its block, a failed publish leaves none; the cycle records it once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from plans import ADAPTER, options, record_plan

from mmwatch.config import load_config
from mmwatch.engine.cycle import run_cycle
from mmwatch.records import AlertMetric, AlertRecord, CellRecord, ModelRecord, ModelSource, PlanRecord, RunRecord
from mmwatch.types import Label, Probe, Response, Sample, SampleKind, Verdict
from storage import snapshot as snapshot_module
from storage.schema import available
from storage.store import DuckDBStore

SPEC = {"name": "none", "version": 1, "params": {}}
SAMPLES = ([Sample(benchmark="b", source_id=f"h{i}", category="Fraud", kind=SampleKind.HARMFUL, text=f"h{i}")
            for i in range(4)]
           + [Sample(benchmark="b", source_id="n0", category="homonyms", kind=SampleKind.BENIGN, text="n0")])


def night(store: DuckDBStore, run_id: str, started: str, revisions: list[str]) -> PlanRecord:
    """A run that started at `started` and stored cells for these revisions of lineage `lin`: revision
    k complies on its first k harmful items and refuses the benign one."""
    store.upsert_samples(SAMPLES)
    store.upsert_models([ModelRecord(lineage="lin", revision=r, label=f"ckpt-{r}", source=ModelSource.CONFIG,
                                     adapter="reference", order_key=float(r)) for r in revisions])
    store.start_run(RunRecord(run_id=run_id, config_name="t", config_hash="cfg-test", config_json="{}",
                              code_version="v", package_versions={}))
    store.con.execute("UPDATE runs SET started_at = ? WHERE run_id = ?", [started, run_id])
    cells, verdicts = [], []
    for r in revisions:
        for i, s in enumerate(SAMPLES):
            key = f"{r}-{s.source_id}"
            cells.append(CellRecord(cell_key=key, run_id=run_id, model_id=f"lin@{r}", sample_id=s.id, probe_index=0,
                                    attack=SPEC, attack_label="none", defense=SPEC, defense_label="none",
                                    adapter=ADAPTER, generation={}, seed=0, probe=Probe(sample_id=s.id, text=s.text),
                                    response=Response(text="x")))
            hit = s.kind is SampleKind.HARMFUL and i < int(r)
            label = Label.COMPLIED if hit else Label.REFUSED
            verdicts.append((key, Verdict(label=label, judge="refusal-keywords", judge_version=1)))
    store.write_cells(cells)
    store.write_verdicts(run_id, verdicts)
    return record_plan(store, cells, plan_id=f"plan-{run_id}")


def rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_each_run_adds_its_own_block_and_a_republish_replaces_it(tmp_path: Path) -> None:
    snap = tmp_path / "snap.duckdb"
    with DuckDBStore(tmp_path / "db.duckdb", tmp_path / "art") as store:
        first = night(store, "r1", "2026-11-25 03:00:00", ["1"])
        store.publish(snap, options(first, run_id="r1"))
        one = rows(snap, "SELECT * FROM history ORDER BY ALL")
        assert {(str(r[0]), r[1], r[5]) for r in one} == {("2026-11-25", "r1", "lin@1")}
        headline = {r[10]: (r[16], r[17], r[18]) for r in one if r[11:15] == ("*", "*", "*", "*")}
        assert headline["asr"] == (4, 1, 0.25) and headline["any_asr"] == (4, 1, 0.25)
        assert headline["over_refusal"] == (1, 1, 1.0) and headline["utility"] == (0, 0, None)
        by_attack = [r[10:19] for r in one if r[11] == "none"]
        assert ("asr", "none", "none", "*", "*", "refusal-keywords", 4, 1, 0.25) in by_attack
        assert ("asr", "none", "*", "b", "Fraud", "refusal-keywords", 4, 1, 0.25) in by_attack
        assert ("refusal", "none", "*", "*", "*", "refusal-keywords", 4, 3, 0.75) in by_attack
        assert ("over_refusal", "none", "*", "*", "*", "refusal-keywords", 1, 1, 1.0) in by_attack

        store.publish(snap, options(first, run_id="r1"))  # the same run again: replaced, not added
        assert rows(snap, "SELECT count(*) FROM history") == [(len(one),)]
        assert store.con.execute("SELECT count(*) FROM snapshot_history").fetchall() == [(len(one),)]

        second = night(store, "r2", "2026-11-26 03:00:00", ["1", "2"])
        store.write_alerts([AlertRecord(
            alert_id="a1", run_id="r2", lineage="lin", model_id="lin@2", baseline_id="lin@1", attack="none",
            defense="none", attack_hash="*", defense_hash="*", judge="refusal-keywords", judge_version=1,
            metric=AlertMetric.ASR, n_pairs=4, only_new=1, only_old=0, rate_old=0.25, rate_new=0.5, p_value=0.5,
            p_adjusted=0.5)])
        store.publish(snap, options(second, run_id="r2"))
    blocks = rows(snap, "SELECT night::VARCHAR, run_id, count(DISTINCT model_id) FROM history GROUP BY ALL ORDER BY 1")
    assert blocks == [("2026-11-25", "r1", 1), ("2026-11-26", "r2", 2)]
    assert rows(snap, "SELECT night::VARCHAR, run_id, alert_id, model_id, rate_new, state FROM history_alerts") == [
        ("2026-11-26", "r2", "a1", "lin@2", 0.5, "new")]
    assert rows(snap, "SELECT rate FROM history WHERE run_id = 'r2' AND model_id = 'lin@2' AND metric = 'asr' "
                      "AND attack = '*' AND benchmark = '*'") == rows(snap, "SELECT asr FROM leaderboard WHERE model_id = 'lin@2'")
    meta = dict(rows(snap, "SELECT key, value FROM meta"))
    assert meta["night"] == "2026-11-26"


def test_a_failed_publish_leaves_no_history_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    snap = tmp_path / "snap.duckdb"
    with DuckDBStore(tmp_path / "db.duckdb", tmp_path / "art") as store:
        first = night(store, "r1", "2026-11-25 03:00:00", ["1"])
        store.publish(snap, options(first, run_id="r1"))
        kept = store.con.execute("SELECT * FROM snapshot_history ORDER BY ALL").fetchall()
        second = night(store, "r2", "2026-11-26 03:00:00", ["1", "2"])

        def no_rename(src: object, dst: object) -> None:
            raise OSError("disk full")

        monkeypatch.setattr(snapshot_module.os, "replace", no_rename)
        for plan, run in ((second, "r2"), (first, "r1")):  # a new night, and a re-publish of a stored one
            with pytest.raises(OSError, match="disk full"):
                store.publish(snap, options(plan, run_id=run))
            assert store.con.execute("SELECT * FROM snapshot_history ORDER BY ALL").fetchall() == kept
        monkeypatch.undo()
        assert not list(tmp_path.glob(".snap.duckdb.*"))
        store.publish(snap, options(second, run_id="r2"))  # the store still works: the transaction is closed
    assert rows(snap, "SELECT DISTINCT run_id FROM history ORDER BY 1") == [("r1",), ("r2",)]


def test_migration_008_applies_on_an_existing_store(tmp_path: Path) -> None:
    path = tmp_path / "db.duckdb"
    with duckdb.connect(str(path)) as con:  # a store as release 007 left it
        con.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMP)")
        for version, step in available():
            if version < 8:
                step(con)
                con.execute("INSERT INTO schema_version VALUES (?, now())", [version])
    with DuckDBStore(path, tmp_path / "art") as store:
        assert store.con.execute("SELECT count(*) FROM schema_version WHERE version = 8").fetchall() == [(1,)]
        plan = night(store, "r1", "2026-11-25 03:00:00", ["1"])
        snap = store.publish(tmp_path / "snap.duckdb", options(plan, run_id="r1"))
        for table in ("history", "history_alerts"):
            ours = store.con.execute(f"DESCRIBE snapshot_{table}").fetchall()
            with duckdb.connect(str(snap), read_only=True) as con:
                published = con.execute(f"DESCRIBE {table}").fetchall()
            assert [c[:2] for c in ours] == [c[:2] for c in published]  # the same columns, the same types


CONFIG = """
store: {{path: {tmp}/db.duckdb, artifacts: {tmp}/art, snapshot: {tmp}/snap.duckdb}}
models:
  - {{lineage: reference/comply-all, adapter: reference, params: {{behaviour: comply-all}}}}
benchmarks: [{{name: mmwatch-mini, params: {{per_category: 1}}}}]
attacks: [{{name: none}}, {{name: figstep}}]
judges: [{{name: refusal-keywords}}, {{name: exact-match}}]
generation: {{max_new_tokens: 8}}
leaderboard: {{operator_snapshot: {tmp}/operator.duckdb}}
"""


def test_the_cycle_writes_both_snapshots_and_records_each_run_once(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text(CONFIG.format(tmp=tmp_path))
    config = load_config(path)
    for _ in range(2):
        with DuckDBStore(config.store.path, config.store.artifacts) as store:
            report = run_cycle(config, store)
    public, operator = tmp_path / "snap.duckdb", tmp_path / "operator.duckdb"
    assert dict(rows(public, "SELECT key, value FROM meta"))["mode"] == "public"
    meta = dict(rows(operator, "SELECT key, value FROM meta"))
    assert (meta["mode"], meta["store"]) == ("operator", str((tmp_path / "db.duckdb").resolve()))
    blocks = rows(public, "SELECT run_id, count(*) FROM history GROUP BY run_id ORDER BY min(published_at)")
    assert len(blocks) == 2 and blocks[1][0] == report.run_id and blocks[0][1] == blocks[1][1]
    with duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True) as con:
        stored = con.execute("SELECT * FROM snapshot_history ORDER BY ALL").fetchall()
    assert rows(public, "SELECT * FROM history ORDER BY ALL") == stored
    assert rows(operator, "SELECT * FROM history ORDER BY ALL") == stored  # copied, not recorded a second time
    shown = rows(public, "SELECT count(DISTINCT s) FROM (SELECT unnest(image_shas) AS s FROM examples "
                         "WHERE kind IN ('benign', 'utility'))")
    every = rows(operator, "SELECT count(DISTINCT s) FROM (SELECT unnest(image_shas) AS s FROM examples)")
    assert rows(public, "SELECT count(*) FROM images") == shown and shown[0][0] > 0
    assert rows(operator, "SELECT count(*) FROM images") == every and every[0][0] > shown[0][0]  # figstep's
    assert rows(public, "SELECT max(greatest(width, height)) FROM images")[0][0] <= 512
