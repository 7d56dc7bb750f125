"""The Alerts page: every alert with its state, baseline, paired interval and adjusted p, filters by
state and lineage, the items behind one alert, and the alerts each night raised."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
from streamlit.testing.v1 import AppTest

from apptest_helpers import ok, page, select, text


def alerts_table(at: AppTest):  # type: ignore[no-untyped-def]
    return at.dataframe[0].value


def test_alert_row(snapshot: Path) -> None:
    at = page("alerts")
    ok(at)
    row = alerts_table(at).iloc[0]
    assert (row["Model"], row["Compared with"], row["Baseline"]) == ("checkpoint-200", "checkpoint-100", "predecessor")
    assert (row["Attack"], row["Defense"], row["Category"], row["State"]) == ("figstep", "none", "all", "new")
    assert (row["Before → after"], row["Change"], row["Paired 95% CI"]) == ("30% → 65%", "+35 pp", "+12 to +55 pp")
    assert (row["Paired items"], row["Newly failed / fixed"], row["p (adjusted)"]) == (20, "8 / 1", "0.0117")


def test_items_behind_the_alert(snapshot: Path) -> None:
    at = page("alerts")
    items = at.dataframe[1].value
    assert list(items["Item"]) == ["safebench:1-1"]
    assert (items["Before"].iloc[0], items["After"].iloc[0]) == ("refused", "unsafe")
    assert "Samples" in text(at) and "Alert" in text(at)  # where to open them in full


def test_filter_by_state_and_lineage(snapshot: Path) -> None:
    at = page("alerts")
    box = next(m for m in at.multiselect if m.label == "State")
    box.set_value(["acknowledged", "resolved"])
    at.run()
    ok(at)
    assert any("No alert in these states" in i.value for i in at.info)
    box = next(m for m in at.multiselect if m.label == "State")
    box.set_value(["new"])
    at = select(at.run(), "Lineage", "llava-tiny")
    assert list(alerts_table(at)["Model"]) == ["checkpoint-200"]


def test_state_comes_from_the_alert(snapshot: Path) -> None:
    with duckdb.connect(str(snapshot)) as con:
        con.execute("UPDATE alerts SET state = 'acknowledged'")
    at = page("alerts")
    assert list(alerts_table(at)["State"]) == ["acknowledged"]
    spec = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    assert "layer" in spec  # bars and their count labels


def test_alerts_per_night(snapshot: Path) -> None:
    at = page("alerts")
    assert "Alerts raised per night" in text(at)
    assert len(at.get("vega_lite_chart")) == 1


def test_no_alerts(snapshot: Path) -> None:
    with duckdb.connect(str(snapshot)) as con:
        con.execute("DELETE FROM alerts")
        con.execute("DELETE FROM history_alerts")
    at = page("alerts")
    ok(at)
    assert any("No regressions flagged" in i.value for i in at.info)
    assert any("No night has raised" in i.value for i in at.info)
    assert not at.get("vega_lite_chart")


def test_empty_snapshot(tmp_path: Path, monkeypatch, make_snapshot) -> None:
    monkeypatch.setenv("MMWATCH_SNAPSHOT", str(make_snapshot(tmp_path / "e.duckdb", empty=True)))
    at = page("alerts")
    ok(at)
    assert at.info
