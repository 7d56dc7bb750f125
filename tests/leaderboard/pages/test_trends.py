"""The Trends page: a lineage over nights and over revisions, with its alerts marked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from apptest_helpers import ok, page, select, text

Layers = list[tuple[dict[str, Any], pd.DataFrame]]


def _charts(at: AppTest) -> list[Layers]:
    """Each chart's layers (spec, data), flattened, as the browser would get them."""
    charts = []
    for chart in at.get("vega_lite_chart"):
        spec = json.loads(chart.proto.spec)
        datasets = {d.name: pa.ipc.open_stream(d.data.data).read_pandas() for d in chart.proto.datasets}

        def flat(node: dict[str, Any], data: str | None) -> list[tuple[dict[str, Any], str | None]]:
            data = node.get("data", {}).get("name", data)  # a layer without data inherits its parent's
            if "layer" not in node:
                return [(node, data)]
            return [leaf for child in node["layer"] for leaf in flat(child, data)]

        charts.append([(layer, datasets[str(name)]) for layer, name in flat(spec, None)])
    return charts


def _mark(layer: dict[str, Any]) -> str:
    return layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"]


def _line(layers: Layers) -> pd.DataFrame:
    return next(df for layer, df in layers if _mark(layer) == "line")


def _flags(layers: Layers) -> pd.DataFrame | None:
    """The alert markers (filled triangles), if the chart has any."""
    return next((df for layer, df in layers if _mark(layer) == "point"
                 and layer["mark"].get("shape") == "triangle-down"), None)


def test_two_charts_on_the_first_lineage(snapshot: Path) -> None:
    at = page("trends")
    ok(at)
    assert next(s for s in at.selectbox if s.label == "Lineage").value == "llava-tiny"
    nights, revisions = _charts(at)
    assert all(not df.empty for layers in (nights, revisions) for _, df in layers)
    asr = _line(nights).set_index(["night", "model"])["rate"]
    assert asr[("2026-11-25", "checkpoint-100")] == pytest.approx(10 / 60)
    assert asr[("2026-11-26", "checkpoint-100")] == pytest.approx(12 / 60)
    assert asr[("2026-11-26", "checkpoint-200")] == pytest.approx(27 / 60)
    assert ("2026-11-25", "checkpoint-200") not in asr.index  # it did not exist yet
    by_revision = _line(revisions).set_index(["model", "metric"])["rate"]
    assert by_revision[("checkpoint-200", "ASR")] == pytest.approx(0.45)
    assert by_revision[("checkpoint-100", "Utility")] == pytest.approx(0.6)
    assert {_mark(layer) for layer, _ in revisions} >= {"area", "line"}  # interval bands


def test_alerts_are_marked_on_their_night_and_revision(snapshot: Path) -> None:
    nights, revisions = _charts(page("trends"))
    on_night, on_revision = _flags(nights), _flags(revisions)
    assert on_night is not None and list(on_night["night"]) == ["2026-11-26"]
    assert list(on_night["change"]) == ["30% → 65%"]
    assert on_revision is not None and list(on_revision["model"]) == ["checkpoint-200"]
    assert list(on_revision["baseline"]) == ["checkpoint-100"]


def test_metric_selector_changes_the_nightly_lines(snapshot: Path) -> None:
    at = page("trends")
    next(r for r in at.radio if r.label == "Metric").set_value("Utility").run()
    ok(at)
    utility = _line(_charts(at)[0]).set_index(["night", "model"])["rate"]
    assert utility[("2026-11-26", "checkpoint-200")] == pytest.approx(21 / 30)
    assert "Utility (higher is better)" in json.dumps(_charts(at)[0][-1][0]["encoding"])  # the y title


def test_other_lineage_has_no_alerts(snapshot: Path) -> None:
    at = select(page("trends"), "Lineage", "qwen2-vl-mini")
    ok(at)
    nights, revisions = _charts(at)
    assert _flags(nights) is None and _flags(revisions) is None
    assert set(_line(revisions)["model"]) == {"qwen2-vl-mini v1", "qwen2-vl-mini v2"}
    assert set(_line(nights)["model"]) == {"qwen2-vl-mini v1", "qwen2-vl-mini v2"}


def test_zero_rates_still_draw_points(snapshot: Path) -> None:
    with duckdb.connect(str(snapshot)) as con:
        con.execute("UPDATE history SET rate = 0, rate_lo = 0, rate_hi = 0.05")
    at = page("trends")
    ok(at)
    line_layer, line = next((layer, df) for layer, df in _charts(at)[0] if _mark(layer) == "line")
    assert (line["rate"] == 0).all() and len(line) == 3
    assert line_layer["mark"]["point"], "a line at 0 % needs its points to be seen"


def test_no_history_is_an_info(snapshot: Path) -> None:
    with duckdb.connect(str(snapshot)) as con:
        con.execute("DELETE FROM history")
        con.execute("DELETE FROM history_alerts")
    at = page("trends")
    ok(at)
    assert any("no night" in i.value for i in at.info)
    assert len(at.get("vega_lite_chart")) == 1  # the revisions still have their chart


def test_no_alerts_table_or_runs_here(snapshot: Path) -> None:
    at = page("trends")
    assert not at.dataframe and not at.expander
    assert "Alerts page" in text(at)


def test_empty_snapshot_warns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_snapshot) -> None:
    monkeypatch.setenv("MMWATCH_SNAPSHOT", str(make_snapshot(tmp_path / "e.duckdb", empty=True)))
    at = page("trends")
    ok(at)
    assert "no evaluated models" in at.warning[0].value
