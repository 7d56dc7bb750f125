"""Trends over nights and revisions, the Overview's changes, and collapsed revision names."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from leaderboard import data


def test_nights_and_latest_run_per_night(snapshot: Path) -> None:
    assert data.nights() == ["2026-11-25", "2026-11-26"]
    with duckdb.connect(str(snapshot)) as con:  # a second, later cycle the same night stands for it
        con.execute("""INSERT INTO history SELECT night, 'run-20261126b', published_at + INTERVAL 1 HOUR, config_hash,
            plan_id, model_id, lineage, revision, label, order_key, metric, attack, defense, benchmark, category, judge,
            n, k, 0.5, 0.4, 0.6 FROM history WHERE run_id = 'run-20261126'""")
    trend = data.trend_nights("llava-tiny")
    last = trend[trend["night"].astype(str).str.startswith("2026-11-26")]
    assert set(last["run_id"]) == {"run-20261126b"} and (last["rate"] == 0.5).all()


def test_trend_over_nights_follows_revisions(snapshot: Path) -> None:
    trend = data.trend_nights("llava-tiny")
    asr = trend[trend["metric"] == "ASR"]
    first = asr[asr["night"].astype(str).str.startswith("2026-11-25")]
    assert list(first["model"]) == ["checkpoint-100"]  # checkpoint-200 did not exist yet
    second = asr[asr["night"].astype(str).str.startswith("2026-11-26")].set_index("model")
    assert second.loc["checkpoint-200", "rate"] == pytest.approx(27 / 60)
    assert second.loc["checkpoint-100", "rate"] == pytest.approx(12 / 60)
    assert (asr["rate_lo"] <= asr["rate"]).all() and (asr["rate"] <= asr["rate_hi"]).all()
    assert set(trend["metric"]) == {"ASR", "Over-refusal", "Utility"}


def test_night_alerts_carry_current_state(snapshot: Path) -> None:
    with duckdb.connect(str(snapshot)) as con:
        con.execute("UPDATE alerts SET state = 'acknowledged'")
    marks = data.night_alerts("llava-tiny")
    assert list(marks["alert_id"]) == ["alert-1"]
    assert marks["state"].iloc[0] == "acknowledged"  # the night recorded 'new'; the alert moved on since
    assert marks["model"].iloc[0] == "checkpoint-200" and marks["baseline"].iloc[0] == "checkpoint-100"


def test_changes_since_the_previous_night(snapshot: Path) -> None:
    changes = data.changes()
    assert (changes.night, changes.previous) == ("2026-11-26", "2026-11-25")
    assert set(changes.new_revisions["model"]) == {"checkpoint-200", "qwen2-vl-mini v2"}
    assert list(changes.alerts["alert_id"]) == ["alert-1"]
    moved = changes.moves.set_index(["model", "metric", "attack"])
    assert moved.loc[("checkpoint-100", "asr", "*"), "delta"] == pytest.approx(2 / 60)
    assert (changes.moves["delta"].abs().diff().dropna() <= 1e-12).all()  # biggest first
    rev = changes.revision_moves.set_index("model")
    assert rev.loc["checkpoint-200", "predecessor"] == "checkpoint-100"
    assert rev.loc["checkpoint-200", "asr_delta"] == pytest.approx((27 - 12) / 60)


def test_changes_with_one_night_calls_everything_new(snapshot: Path) -> None:
    with duckdb.connect(str(snapshot)) as con:
        con.execute("DELETE FROM history WHERE night = '2026-11-25'")
    changes = data.changes()
    assert changes.previous is None and changes.moves.empty
    assert len(changes.new_revisions) == 4


def test_revisions_sharing_a_label_get_their_revision_in_the_name(snapshot: Path) -> None:
    with duckdb.connect(str(snapshot)) as con:  # config-named revisions: every label is the lineage's tail
        con.execute("UPDATE leaderboard SET label = 'guard' WHERE lineage = 'qwen2-vl-mini'")
        con.execute("UPDATE history SET label = 'guard' WHERE lineage = 'qwen2-vl-mini'")
    names = set(data.ranking()["model"])
    assert {"guard @v1", "guard @v2"} <= names
    trend = data.trend("qwen2-vl-mini")
    assert trend["model"].nunique() == 2  # two points, not one
    assert set(data.trend_nights("qwen2-vl-mini")["model"]) == {"guard @v1", "guard @v2"}
