"""The Overview page: what changed since the previous night, on the fixture snapshot."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from apptest_helpers import ok, page, read, text


def _metrics(at) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {read(m.label): read(str(m.value)) for m in at.metric}


def _table(at, column: str):  # type: ignore[no-untyped-def]
    """The first table that has `column`."""
    return next(df.value for df in at.dataframe if column in df.value.columns)


def test_headline_numbers(snapshot: Path) -> None:
    at = page("overview")
    ok(at)
    assert at.title[0].value == "Test leaderboard"
    assert _metrics(at) == {"Model revisions": "4", "Lineages": "2", "New revisions": "2", "New alerts": "1",
                            "Safest now": "qwen2-vl-mini v2"}
    assert "plan-1 (1200 cells)" in read(at.caption[0].value)  # provenance first
    assert "2026-11-26 against 2026-11-25" in read(at.subheader[0].value)


def test_biggest_moves_between_nights(snapshot: Path) -> None:
    at = page("overview")
    moves = _table(at, "Slice").set_index("Model")
    # night 1 counted two successes fewer on each first revision: 10/60 -> 12/60 and 4/60 -> 6/60
    assert moves.loc["checkpoint-100", "Before → after"] == "17% → 20%"
    assert moves.loc["qwen2-vl-mini v1", "Before → after"] == "7% → 10%"
    assert set(moves["Change"]) == {"+3 pp"}
    assert set(moves["Metric"]) == {"ASR"} and set(moves["Slice"]) == {"all pooled"}
    assert set(moves["Reads as"]) == {"worse"} and moves["Plan changed"].all()
    assert set(moves["n"]) == {60}
    assert "may come from the plan" in text(at)


def test_new_revisions_and_their_predecessors(snapshot: Path) -> None:
    at = page("overview")
    fresh = _table(at, "Revision").set_index("Model")
    assert set(fresh.index) == {"checkpoint-200", "qwen2-vl-mini v2"}
    assert fresh.loc["checkpoint-200", "ASR (95% CI)"] == "45% (34–56%)"
    assert fresh.loc["qwen2-vl-mini v2", "Utility (95% CI)"] == "53% (36–70%)"
    steps = _table(at, "Predecessor").set_index("Newest")
    assert steps.loc["checkpoint-200", "Predecessor"] == "checkpoint-100"
    assert steps.loc["checkpoint-200", "ASR"] == "20% → 45% (+25 pp)"
    assert steps.loc["qwen2-vl-mini v2", "ASR"] == "10% → 5% (−5 pp)"


def test_the_nights_alerts(snapshot: Path) -> None:
    with duckdb.connect(str(snapshot)) as con:  # the state now, not the night's
        con.execute("UPDATE alerts SET state = 'acknowledged'")
    at = page("overview")
    ok(at)
    alerts = _table(at, "State")
    assert list(alerts["Model"]) == ["checkpoint-200"]
    assert list(alerts["Compared with"]) == ["checkpoint-100"]
    assert list(alerts["Before → after"]) == ["30% → 65%"]
    assert list(alerts["Slice"]) == ["attack figstep · defense none"]
    assert list(alerts["State"]) == ["acknowledged"]
    assert "See the Alerts page." in text(at)  # no navigation under AppTest: named, not linked


def test_no_alert_this_night(snapshot: Path) -> None:
    with duckdb.connect(str(snapshot)) as con:
        con.execute("DELETE FROM history_alerts")
    at = page("overview")
    ok(at)
    assert _metrics(at)["New alerts"] == "0"
    assert any("No regression was flagged" in s.value for s in at.success)


def test_one_night_of_history_calls_everything_new(snapshot: Path) -> None:
    with duckdb.connect(str(snapshot)) as con:
        con.execute("DELETE FROM history WHERE night = '2026-11-25'")
    at = page("overview")
    ok(at)
    assert _metrics(at)["New revisions"] == "4"
    assert any("every revision on the board is new" in i.value for i in at.info)
    assert all("Slice" not in df.value.columns or "State" in df.value.columns for df in at.dataframe)  # no moves
    assert len(_table(at, "Revision")) == 4


def test_no_history_at_all(snapshot: Path) -> None:
    with duckdb.connect(str(snapshot)) as con:
        con.execute("DELETE FROM history")
        con.execute("DELETE FROM history_alerts")
    at = page("overview")
    ok(at)
    assert any("every revision on the board is new" in i.value for i in at.info)
    assert _metrics(at)["New revisions"] == "4"


@pytest.mark.parametrize("demo", (False, True))
def test_demo_notice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_snapshot, demo: bool) -> None:
    monkeypatch.setenv("MMWATCH_SNAPSHOT", str(make_snapshot(tmp_path / "d.duckdb", demo=demo)))
    at = page("overview")
    ok(at)
    assert any("Demo snapshot" in i.value for i in at.info) is demo


def test_empty_snapshot_warns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_snapshot) -> None:
    monkeypatch.setenv("MMWATCH_SNAPSHOT", str(make_snapshot(tmp_path / "e.duckdb", empty=True)))
    at = page("overview")
    ok(at)
    assert "no evaluated models" in at.warning[0].value
    assert not at.metric


def test_missing_snapshot_is_one_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MMWATCH_SNAPSHOT", str(tmp_path / "absent.duckdb"))
    at = page("overview")
    assert not at.exception
    assert len(at.error) == 1 and "mmwatch run" in at.error[0].value
