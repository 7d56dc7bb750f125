"""Three config-named revisions of one lineage: three points on the board, alerts that name both.

Config-named revisions all get their lineage's name as label ("guard"); before, the board drew
them as one point and an alert read "acme/guard · guard vs acme/guard · guard".
"""

from __future__ import annotations

from pathlib import Path

import pytest

from apptest_helpers import ok, page, select, text
from leaderboard import data
from mmwatch.config import load_config
from mmwatch.engine.cycle import run_cycle
from storage.store import DuckDBStore

CONFIG = """
name: collapsed
store: {{path: {tmp}/db.duckdb, artifacts: {tmp}/art, snapshot: {tmp}/snap.duckdb}}
models:
  - {{lineage: acme/guard, revision: v1, adapter: reference, params: {{behaviour: refuse-all}}}}
  - {{lineage: acme/guard, revision: v2, adapter: reference, params: {{behaviour: refuse-all}}}}
  - {{lineage: acme/guard, revision: v3, adapter: reference, params: {{behaviour: comply-all}}}}
  - {{lineage: other/guard, revision: v1, adapter: reference, params: {{behaviour: refuse-all}}}}
benchmarks: [{{name: mmwatch-mini, limit: 24, params: {{kinds: [harmful]}}}}]
attacks: [{{name: none}}]
judges: [{{name: refusal-keywords}}, {{name: exact-match}}]
generation: {{max_new_tokens: 12}}
regression: {{min_pairs: 5}}
"""


@pytest.fixture(scope="module")
def guard_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("collapsed")
    (tmp / "run.yaml").write_text(CONFIG.format(tmp=tmp))
    config = load_config(tmp / "run.yaml")
    with DuckDBStore(config.store.path, config.store.artifacts) as store:
        run_cycle(config, store)
    return config.store.snapshot


def test_three_revisions_are_three_named_points(guard_snapshot: Path) -> None:
    board = data.ranking(path=guard_snapshot)
    assert set(board["model"]) == {"acme/guard · guard @v1", "acme/guard · guard @v2", "acme/guard · guard @v3",
                                   "other/guard · guard"}
    trend = data.trend("acme/guard", path=guard_snapshot)
    asr = trend[trend["metric"] == "ASR"]
    assert list(asr["model"]) == ["acme/guard · guard @v1", "acme/guard · guard @v2", "acme/guard · guard @v3"]
    assert list(asr["rate"]) == [0.0, 0.0, 1.0]


def test_alert_names_both_revisions(guard_snapshot: Path) -> None:
    alerts = data.alerts(path=guard_snapshot)
    assert not alerts.empty
    assert set(alerts["model"]) == {"acme/guard · guard @v3"}
    assert set(alerts["baseline"]) <= {"acme/guard · guard @v2", "acme/guard · guard @v1"}
    assert "acme/guard · guard @v2" in set(alerts["baseline"])  # the predecessor


def test_trends_and_alerts_pages_draw_three_points(guard_snapshot: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(data.SNAPSHOT_ENV, str(guard_snapshot))
    at = select(page("trends"), "Lineage", "acme/guard")
    ok(at)
    charts = at.get("vega_lite_chart")
    assert charts
    at = page("alerts")
    ok(at)
    shown = text(at)
    assert "guard @v3" in shown and "guard @v2" in shown
