"""The cycle in the core, run directly on a real DuckDB store: what the published numbers count."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import duckdb
import pytest

from mmwatch import plugins
from mmwatch.config import load_config
from mmwatch.engine.cycle import CycleReport, run_cycle
from storage.store import DuckDBStore

CONFIG = """
name: one-truth
store: {{path: {tmp}/db.duckdb, artifacts: {tmp}/art, snapshot: {tmp}/snap.duckdb}}
models:
{models}
benchmarks: [{{name: mmwatch-mini, limit: 20, params: {{kinds: [harmful]}}}}]
attacks: {attacks}
judges: [{{name: refusal-keywords}}, {{name: exact-match}}]
generation: {{max_new_tokens: {tokens}}}
"""
COMPLY = "  - {lineage: reference/comply-all, adapter: reference, params: {behaviour: comply-all}}"


def cycle(tmp_path: Path, tokens: int = 24, attacks: str = "[{name: none}]", models: str = COMPLY) -> CycleReport:
    path = tmp_path / "run.yaml"
    path.write_text(CONFIG.format(tmp=tmp_path, models=models, attacks=attacks, tokens=tokens))
    config = load_config(path)
    with DuckDBStore(config.store.path, config.store.artifacts) as store:
        return run_cycle(config, store)


def snap(tmp_path: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(tmp_path / "snap.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_changed_generation_settings_replace_the_counted_cells_not_add_to_them(tmp_path: Path) -> None:
    """The issue's case: 20 harmful items, then max_new_tokens changed: still 20, not 40."""
    first = cycle(tmp_path, tokens=24)
    assert snap(tmp_path, "SELECT n_harmful FROM leaderboard") == [(20,)]
    second = cycle(tmp_path, tokens=12)
    assert second.cells_new == 20 and second.plan_id != first.plan_id
    assert snap(tmp_path, "SELECT n_harmful FROM leaderboard") == [(20,)]
    assert snap(tmp_path, "SELECT count(*) FROM examples") == [(20,)]
    meta = dict(snap(tmp_path, "SELECT key, value FROM meta"))
    assert meta["plan_id"] == second.plan_id and meta["config_hash"] == second.config_hash
    with duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM cells").fetchone() == (40,)  # the older cells stay stored


def test_a_new_attack_version_shows_only_its_own_cells(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cycle(tmp_path, attacks="[{name: none}, {name: jailbreak}]")
    v1_hash = plugins.attacks.spec("jailbreak").hash
    info = plugins.attacks.info("jailbreak")
    monkeypatch.setitem(plugins.attacks._entries, "jailbreak", dataclasses.replace(info, version=info.version + 1))
    v2_hash = plugins.attacks.spec("jailbreak").hash
    second = cycle(tmp_path, attacks="[{name: none}, {name: jailbreak}]")
    assert v1_hash != v2_hash and second.cells_new == 20  # only the new version's cells are computed
    rows = snap(tmp_path, "SELECT attack_hash, n FROM asr_by_attack WHERE attack = 'jailbreak'")
    assert rows == [(v2_hash, 20)]
    assert snap(tmp_path, "SELECT DISTINCT attack_hash FROM examples WHERE attack = 'jailbreak'") == [(v2_hash,)]
    assert snap(tmp_path, "SELECT n_harmful FROM leaderboard") == [(40,)]  # none + jailbreak v2, not v1


def test_an_earlier_revision_that_left_the_config_is_still_compared(tmp_path: Path) -> None:
    """A hub branch moves on: the old commit is no longer discovered, but its stored cells still count."""
    old = "  - {lineage: acme/guard, revision: v1, adapter: reference, params: {behaviour: refuse-all}}"
    new = "  - {lineage: acme/guard, revision: v2, adapter: reference, params: {behaviour: comply-all}}"
    cycle(tmp_path, models=old)
    report = cycle(tmp_path, models=new)
    assert report.cells_new == 20 and report.models == 1
    (alert,) = report.alerts
    assert (alert.baseline_id, alert.model_id, alert.rate_old, alert.rate_new) == ("acme/guard@v1", "acme/guard@v2",
                                                                                   0.0, 1.0)
    assert sorted(snap(tmp_path, "SELECT model_id, asr FROM leaderboard")) == [("acme/guard@v1", 0.0),
                                                                               ("acme/guard@v2", 1.0)]


def test_a_model_with_an_unknown_parameter_is_a_config_error_before_any_work(tmp_path: Path) -> None:
    from mmwatch.config import ConfigError

    broken = "  - {lineage: acme/broken, adapter: reference, params: {behavior: comply-all}}"
    with pytest.raises(ConfigError, match=r"models\[1\]\.params: adapter 'reference' takes no parameter behavior "
                                          r"\(allowed: behaviour"):
        cycle(tmp_path, models=f"{COMPLY}\n{broken}")
    assert not (tmp_path / "db.duckdb").exists()  # nothing was opened, nothing evaluated


def test_a_model_that_cannot_load_is_reported_as_such_not_as_error_rows(tmp_path: Path) -> None:
    missing = "  - {lineage: acme/gone, revision: r1, adapter: hf, params: {path: " + str(tmp_path / "gone") + "}}"
    report = cycle(tmp_path, models=f"{COMPLY}\n{missing}")
    assert list(report.failed_models) == ["acme/gone@r1"] and "cannot load" in report.failed_models["acme/gone@r1"]
    assert report.cells_new == 20 and report.cells_failed == 0  # the other model's cells; none for the lost one
    with duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True) as con:
        assert con.execute("SELECT status FROM models WHERE lineage = 'acme/gone'").fetchall() == [("failed",)]
