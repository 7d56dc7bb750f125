"""The snapshot's lookups as the board reads them: one connection per answer, and answers that are
the same as the read-time queries they replaced (storage/metrics.py ordered and derived)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest import mock

import duckdb
import pytest

from leaderboard import data
from leaderboard.data import export, source
from storage import metrics


def _connections(call: Any) -> int:
    seen = [0]
    real = duckdb.connect

    def counted(*args: Any, **kwargs: Any) -> Any:
        seen[0] += 1
        return real(*args, **kwargs)

    with mock.patch.object(source.duckdb, "connect", counted):
        call()
    return seen[0]


def test_every_answer_opens_the_snapshot_once(snapshot: Path) -> None:
    key = str(data.sample_items(disagree=True)["cell_key"].iloc[0])
    view = data.sample_detail(key)
    assert view is not None and view.predecessor is not None and len(view.verdicts) == 2
    for call in (lambda: data.sample_detail(key), data.changes, lambda: data.ranking(attack="figstep"),
                 data.frontier, data.defense_deltas, lambda: data.verdicts(key), data.nights, data.label_queue):
        assert _connections(call) == 1


def test_an_edited_snapshot_is_read_on_its_one_connection(snapshot: Path) -> None:
    with data.opened() as con:
        assert len(data.query("SELECT * FROM leaderboard", con=con)) == 4
        assert data.query("SELECT count(*) AS n FROM examples", con=con)["n"].iloc[0] == 9
    with pytest.raises(data.SnapshotError, match="snapshot.sql"), data.opened() as con:
        data.query("SELECT * FROM no_such_table", con=con)


def test_label_queue_is_the_order_it_had_when_counted_at_read_time(tmp_path: Path, make_snapshot) -> None:
    operator = make_snapshot(tmp_path / "operator.duckdb", show_responses=True)
    with duckdb.connect(str(operator), read_only=True) as con:  # the read-time query that label_rank replaced
        before = [k for (k,) in con.execute("""WITH spread AS (SELECT cell_key,
                count(DISTINCT outcome) FILTER (outcome <> 'unscored') AS outcomes FROM verdicts GROUP BY cell_key)
            SELECT e.cell_key FROM examples e LEFT JOIN spread s USING (cell_key)
            WHERE e.response_text IS NOT NULL AND e.error IS NULL AND e.kind IN ('harmful', 'benign')
            ORDER BY coalesce(e.disagree, false) DESC, coalesce(s.outcomes, 0) DESC, e.outcome = 'unscored' DESC,
                e.sample_id, e.model_id""").fetchall()]
    queue = data.label_queue(path=operator)
    assert list(queue["cell_key"]) == before and len(before) == 6
    assert list(queue.columns[:2]) == ["model", "sample_id"] and queue.columns[-1] == "outcomes"
    assert list(data.label_queue(limit=2, exclude=(before[0],), path=operator)["cell_key"]) == before[1:3]


def test_items_come_in_item_order(snapshot: Path) -> None:
    items = data.sample_items()
    keys = list(zip(items["kind"], items["category"], items["sample_id"], items["defense"], items["model_id"],
                    strict=True))
    assert keys == sorted(keys) and len(items) == 9
    assert set(data.sample_items(search="VQA:7")["sample_id"]) == {"vqa:7"}  # the item id matches too
    assert data.sample_items(search="no such text").empty


def test_example_index_counts_as_the_rows_do(snapshot: Path) -> None:
    index = data.example_index().set_index(["model_id", "attack", "defense"])
    assert index.loc[("llava-tiny@e4f5a6b", "figstep", "none"), ["n", "disagreements"]].tolist() == [3, 1]
    assert int(index["n"].sum()) == 9 and index.loc[("qwen2-vl-mini@v2", "none", "none"), "model"] == \
        "qwen2-vl-mini v2"


def test_paired_defense_delta_from_the_published_pairs(snapshot: Path) -> None:
    row = data.defense_deltas("llava-tiny@e4f5a6b").set_index("attack").loc["figstep"]
    assert (row["n_pairs"], row["only_defended"], row["only_none"]) == (1, 0, 1)  # safebench:1-1: success, refused
    assert row["delta_paired"] == pytest.approx(-1.0)
    assert data.defense_deltas("qwen2-vl-mini@v1")["n_pairs"].tolist() == [0, 0, 0]


def test_verdicts_of_an_unknown_cell(snapshot: Path) -> None:
    found = data.verdicts("no-such-cell")
    assert found.empty and "primary_judge" in found.columns


def test_export_leaves_out_exactly_the_lookup_tables() -> None:
    assert set(metrics.derived()) == export._DERIVED  # noqa: SLF001 - the two lists must not drift
