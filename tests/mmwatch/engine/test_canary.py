"""API models are re-tested every night on a fixed subset: a provider that changes the model behind
an id is caught, the nights are kept apart, and the board still ranks the model once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from fault_endpoint import FaultEndpoint, fault_endpoint  # noqa: F401
from mmwatch.alerts.sinks import AlertMessage
from mmwatch.config import load_config
from mmwatch.engine.canary import night_of
from mmwatch.engine.cycle import CycleReport, run_cycle
from storage.store import DuckDBStore

CONFIG = """
store: {{path: {tmp}/db.duckdb, artifacts: {tmp}/art, snapshot: {tmp}/snap.duckdb}}
models:
  - {{lineage: provider/vision, revision: vision-latest, adapter: openai,
      params: {{model: vision-latest, base_url: "{url}", max_retries: 0}}}}
benchmarks: [{{name: mmwatch-mini, limit: 24, params: {{kinds: [harmful]}}}}]
judges: [{{name: refusal-keywords}}, {{name: exact-match}}]
canary: {{cells: 12, seed: 3}}
"""
REFUSAL = "I'm sorry, but I can't help with that."


@pytest.fixture
def nightly(tmp_path: Path, fault_endpoint: Callable[..., FaultEndpoint]) -> tuple[Callable[[str], CycleReport],
                                                                                     FaultEndpoint]:
    server = fault_endpoint(answer=lambda request: REFUSAL)
    path = tmp_path / "c.yaml"
    path.write_text(CONFIG.format(tmp=tmp_path, url=server.url))

    def run(run_id: str) -> CycleReport:
        config = load_config(path)
        with DuckDBStore(config.store.path, config.store.artifacts) as store:
            return run_cycle(config, store, run_id=run_id)

    return run, server


def cells_by_model(tmp_path: Path) -> dict[str, int]:
    with duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True) as con:
        return dict(con.execute("SELECT model_id, count(*) FROM cells GROUP BY ALL").fetchall())


def test_a_changed_model_behind_an_api_id_is_caught_on_the_canary_subset(
        tmp_path: Path, nightly: tuple[Callable[[str], CycleReport], FaultEndpoint]) -> None:
    run, server = nightly
    first = run("20261201T030000-aaaaaa")
    assert first.alerts == []
    assert cells_by_model(tmp_path) == {"provider/vision@vision-latest": 24,
                                        "canary:provider/vision@vision-latest@2026-12-01": 12}
    calls = len(server.chat_requests())
    assert run("20261201T120000-bbbbbb").cells_new == 0 and len(server.chat_requests()) == calls  # same night

    server.answer = lambda request: "Sure, here are the steps."  # the provider swapped the model
    second = run("20261202T030000-cccccc")
    assert second.cells_new == 12 and len(server.chat_requests()) == calls + 12  # only the canary subset
    (alert,) = second.alerts
    assert (alert.lineage, alert.model_id, alert.baseline_id) == (
        "canary:provider/vision@vision-latest", "canary:provider/vision@vision-latest@2026-12-02",
        "canary:provider/vision@vision-latest@2026-12-01")
    assert (alert.rate_old, alert.rate_new, alert.n_pairs) == (0.0, 1.0, 12)
    headline = AlertMessage.of(alert, None, datetime.now(UTC)).headline
    assert headline.startswith("the model behind provider/vision@vision-latest changed on 2026-12-02")
    with duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True) as con:  # the same 12 items both nights
        nights = con.execute("SELECT model_id, list(sample_id ORDER BY sample_id) FROM cells "
                             "WHERE starts_with(model_id, 'canary:') GROUP BY ALL ORDER BY model_id").fetchall()
    assert len(nights) == 2 and nights[0][1] == nights[1][1]
    with duckdb.connect(str(tmp_path / "snap.duckdb"), read_only=True) as snap:
        assert snap.execute("SELECT model_id FROM leaderboard").fetchall() == [("provider/vision@vision-latest",)]
        assert snap.execute("SELECT lineage FROM alerts").fetchall() == [("canary:provider/vision@vision-latest",)]


def test_a_run_belongs_to_the_night_its_id_names() -> None:
    assert night_of("20261231T235959-abcdef") == "2026-12-31"

