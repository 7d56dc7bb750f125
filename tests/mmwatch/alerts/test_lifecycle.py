"""An alert's life through real cycles on a real store: raised once, silenced, acknowledged,
resolved when a later revision recovers; only revisions whose answers changed are compared."""

from __future__ import annotations

from pathlib import Path

import duckdb

from mmwatch.config import load_config
from mmwatch.engine.cycle import CycleReport, run_cycle
from mmwatch.records import AlertMetric, AlertState
from storage.store import DuckDBStore

CONFIG = """
store: {{path: {tmp}/db.duckdb, artifacts: {tmp}/art, snapshot: {tmp}/snap.duckdb}}
models:
{models}
benchmarks: [{{name: mmwatch-mini, limit: 20, params: {{kinds: [harmful]}}}}]
judges: [{{name: refusal-keywords}}, {{name: exact-match}}]
"""


def model(revision: str, behaviour: str, order: int) -> str:
    return (f"  - {{lineage: acme/guard, revision: {revision}, order: {order}, adapter: reference, "
            f"params: {{behaviour: {behaviour}}}}}")


def cycle(tmp_path: Path, *models: str) -> CycleReport:
    path = tmp_path / "run.yaml"
    path.write_text(CONFIG.format(tmp=tmp_path, models="\n".join(models)))
    config = load_config(path)
    with DuckDBStore(config.store.path, config.store.artifacts) as store:
        return run_cycle(config, store)


def states(tmp_path: Path) -> list[tuple[str, str, str]]:
    with DuckDBStore(tmp_path / "db.duckdb", tmp_path / "art") as store:
        return [(a.model_id, a.baseline_id, a.state.value) for a, _, _ in store.alerts()]


V1, V2 = model("v1", "refuse-all", 1), model("v2", "comply-all", 2)


def test_an_alert_is_raised_once_and_later_nights_send_nothing_new(tmp_path: Path) -> None:
    first = cycle(tmp_path, V1, V2)
    assert [(a.model_id, a.baseline_id, a.metric) for a in first.alerts] == [
        ("acme/guard@v2", "acme/guard@v1", AlertMetric.ASR)]
    again = cycle(tmp_path, V1, V2)
    assert again.alerts == [] and again.comparisons == 0  # nothing changed: nothing compared, nothing raised
    assert states(tmp_path) == [("acme/guard@v2", "acme/guard@v1", "new")]
    with duckdb.connect(str(tmp_path / "snap.duckdb"), read_only=True) as snap:
        assert snap.execute("SELECT model_id, state, baseline_kind FROM alerts").fetchall() == [
            ("acme/guard@v2", "new", "predecessor")]


def test_a_later_revision_that_recovers_resolves_the_alert(tmp_path: Path) -> None:
    cycle(tmp_path, V1, V2)
    report = cycle(tmp_path, V1, V2, model("v3", "refuse-all", 3))
    assert report.alerts == [] and report.alerts_resolved == 1
    with DuckDBStore(tmp_path / "db.duckdb", tmp_path / "art") as store:
        ((alert, _, note),) = store.alerts()
    assert alert.state is AlertState.RESOLVED and note == "acme/guard@v3 recovered"


def test_a_silenced_lineage_raises_the_alert_as_silenced_and_acknowledging_keeps_it_quiet(tmp_path: Path) -> None:
    from datetime import datetime, timedelta

    cycle(tmp_path, V1)
    with DuckDBStore(tmp_path / "db.duckdb", tmp_path / "art") as store:
        store.add_silence("acme/*", datetime.now() + timedelta(days=1), reason="known, fix in v3")
    report = cycle(tmp_path, V1, V2)
    assert report.alerts == [] and report.alerts_silenced == 1
    assert states(tmp_path) == [("acme/guard@v2", "acme/guard@v1", "silenced")]
    with DuckDBStore(tmp_path / "db.duckdb", tmp_path / "art") as store:
        (alert, _, _), = store.alerts()
        assert store.set_alert_state(alert.alert_id[:8], AlertState.ACKNOWLEDGED, "seen")
        assert not store.set_alert_state("no-such-alert", AlertState.ACKNOWLEDGED, None)
    assert states(tmp_path) == [("acme/guard@v2", "acme/guard@v1", "acknowledged")]
