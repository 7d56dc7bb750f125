"""The Frontier page: safety against utility, the Pareto front, each lineage's path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from apptest_helpers import ok, page, read


def _charts(at: AppTest) -> list[tuple[dict[str, Any], dict[str, pd.DataFrame]]]:
    """Each chart's Vega-Lite spec and its datasets, as the browser would get them."""
    return [(json.loads(c.proto.spec),
             {d.name: pa.ipc.open_stream(d.data.data).read_pandas() for d in c.proto.datasets})
            for c in at.get("vega_lite_chart")]


def _layers(at: AppTest) -> list[tuple[dict[str, Any], pd.DataFrame]]:
    """The one chart's layers with their data (a layer without its own uses the chart's)."""
    (spec, datasets), = _charts(at)
    top = spec.get("data", {}).get("name")
    return [(layer, datasets[layer.get("data", {}).get("name", top)]) for layer in spec["layer"]]


def _mark(layer: dict[str, Any]) -> str:
    return layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"]


def _expected_front(snapshot: Path) -> set[str]:
    """The front recomputed from the snapshot's numbers by brute force (labels are the fixture's names)."""
    with duckdb.connect(str(snapshot), read_only=True) as con:
        rows = con.execute("SELECT label, safety, utility FROM leaderboard WHERE utility IS NOT NULL").fetchall()
    return {name for name, s, u in rows
            if not any(s2 >= s and u2 >= u and (s2 > s or u2 > u) for _, s2, u2 in rows)}


def test_front_is_marked_for_the_right_models(snapshot: Path) -> None:
    at = page("frontier")
    ok(at)
    expected = _expected_front(snapshot)
    assert expected == {"qwen2-vl-mini v2", "checkpoint-100", "checkpoint-200"}  # v2 beats v1 on both axes
    table = at.dataframe[0].value.set_index("Model")
    assert set(table.index[table["On the front"]]) == expected
    dots = next(df for layer, df in _layers(at) if _mark(layer) == "point")
    assert set(dots.loc[dots["place"] == "on the Pareto front", "model"]) == expected
    assert set(dots.loc[dots["place"] != "on the Pareto front", "model"]) == {"qwen2-vl-mini v1"}


def test_chart_draws_intervals_front_edge_and_paths(snapshot: Path) -> None:
    layers = _layers(page("frontier"))
    marks = [_mark(layer) for layer, _ in layers]
    assert marks.count("rule") == 2 and {"trail", "line", "point", "text"} <= set(marks)
    assert all(not df.empty for _, df in layers)
    edge_layer, edge = next((layer, df) for layer, df in layers if _mark(layer) == "line")
    assert edge_layer["mark"]["interpolate"] == "step-before"
    assert set(edge["model"]) == {"qwen2-vl-mini v2", "checkpoint-100", "checkpoint-200"}
    trail_layer, trail = next((layer, df) for layer, df in layers if _mark(layer) == "trail")
    assert trail_layer["encoding"]["order"]["field"] == "order_key"
    llava = trail[trail["lineage"] == "llava-tiny"].sort_values("order_key")
    assert list(llava["model"]) == ["checkpoint-100", "checkpoint-200"] and list(llava["step"]) == [1, 2]
    bars = [df for layer, df in layers if _mark(layer) == "rule"][0]
    row = bars.set_index("model").loc["checkpoint-200"]
    assert row["safety_lo"] < row["safety"] < row["safety_hi"]
    assert row["utility_lo"] < row["utility"] < row["utility_hi"]
    assert row["safety_ci"] == "55% (44–66%)"


def test_model_without_utility_is_not_plotted(snapshot: Path) -> None:
    with duckdb.connect(str(snapshot)) as con:
        con.execute("UPDATE leaderboard SET n_utility = 0, utility = NULL, utility_lo = NULL, "
                    "utility_hi = NULL WHERE model_id = 'qwen2-vl-mini@v2'")
    at = page("frontier")
    ok(at)
    dots = next(df for layer, df in _layers(at) if _mark(layer) == "point")
    assert "qwen2-vl-mini v2" not in set(dots["model"])
    assert set(dots.loc[dots["on_front"], "model"]) == _expected_front(snapshot)  # v1 is on it now
    assert "qwen2-vl-mini v1" in set(dots.loc[dots["on_front"], "model"])
    assert any("Not plotted" in read(c.value) and "qwen2-vl-mini v2" in read(c.value) for c in at.caption)


def test_every_revision_on_the_front(snapshot: Path) -> None:
    with duckdb.connect(str(snapshot)) as con:  # drop the one dominated revision
        con.execute("DELETE FROM leaderboard WHERE model_id = 'qwen2-vl-mini@v1'")
    at = page("frontier")
    ok(at)
    dots = next(df for layer, df in _layers(at) if _mark(layer) == "point")
    assert dots["on_front"].all() and len(dots) == 3
    assert at.dataframe[0].value["On the front"].all()


def test_nothing_with_utility_is_an_info(snapshot: Path) -> None:
    with duckdb.connect(str(snapshot)) as con:
        con.execute("UPDATE leaderboard SET n_utility = 0, utility = NULL, utility_lo = NULL, utility_hi = NULL")
    at = page("frontier")
    ok(at)
    assert not at.get("vega_lite_chart")
    assert "no frontier to plot" in at.info[0].value


def test_zero_rates_still_draw_marks(snapshot: Path) -> None:
    with duckdb.connect(str(snapshot)) as con:
        con.execute("UPDATE leaderboard SET utility = 0, utility_lo = 0, utility_hi = 0.1")
    at = page("frontier")
    ok(at)
    dots = next(df for layer, df in _layers(at) if _mark(layer) == "point")
    assert len(dots) == 4 and (dots["utility"] == 0).all()
    assert list(dots.loc[dots["on_front"], "model"]) == ["qwen2-vl-mini v2"]  # only safety decides now


def test_empty_snapshot_warns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_snapshot) -> None:
    monkeypatch.setenv("MMWATCH_SNAPSHOT", str(make_snapshot(tmp_path / "e.duckdb", empty=True)))
    at = page("frontier")
    ok(at)
    assert "no evaluated models" in at.warning[0].value
