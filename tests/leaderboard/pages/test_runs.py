"""The Runs page: operator snapshots only; durations, cells, cost, config and code per run, and a chart."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from apptest_helpers import ok, page


@pytest.fixture
def operator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_snapshot) -> Path:  # type: ignore[no-untyped-def]
    path = make_snapshot(tmp_path / "op.duckdb", show_responses=True)
    monkeypatch.setenv("MMWATCH_SNAPSHOT", str(path))
    return path


def test_runs_table(operator: Path) -> None:
    at = page("runs")
    ok(at)
    table = at.dataframe[0].value.set_index("Run")
    assert list(table.index) == ["run-20261126", "run-20261125"]  # newest first
    assert list(table["Duration"]) == ["38 min", "31 min"]
    assert list(table["Cost (USD)"]) == ["$0.31", "$0.42"]
    new = table.loc["run-20261126"]
    assert (new["Cells planned"], new["New cells"], new["Failed cells"]) == ("1,200", "240", "2")
    assert (new["Status"], new["Config"], new["Code"], new["Message"]) == ("completed", "cfg1", "0.1.0+g3c4d",
                                                                          "2 cells failed")


def test_duration_chart(operator: Path) -> None:
    (chart,) = page("runs").get("vega_lite_chart")
    spec = json.loads(chart.proto.spec)
    assert {layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"]
            for layer in spec["layer"]} == {"bar", "text"}
    assert spec["layer"][0]["encoding"]["x"]["sort"] == ["run-20261125", "run-20261126"]


def test_duration_from_timestamps_and_a_running_run(operator: Path) -> None:
    with duckdb.connect(str(operator)) as con:
        con.execute("UPDATE runs SET duration_s = NULL")
        con.execute("""INSERT INTO runs (run_id, started_at, status) VALUES ('run-now', '2026-11-27 03:00:00',
            'running')""")
    at = page("runs")
    ok(at)
    table = at.dataframe[0].value.set_index("Run")
    assert table.loc["run-20261125", "Duration"] == "31 min"
    assert table.loc["run-now", "Duration"] == "—" and table.loc["run-now", "Cost (USD)"] == "—"


def test_hidden_in_public_mode(snapshot: Path) -> None:
    at = page("runs")
    ok(at)
    assert any("operator snapshot" in i.value for i in at.info)
    assert not at.dataframe and not at.get("vega_lite_chart")
