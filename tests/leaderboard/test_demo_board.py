"""Every page on a board built by real cycles (tests/demo_board.py): two nights, a new revision that
regressed, real images and verdicts of four judges. The hand-made fixture checks exact numbers;
this checks that what the publisher really writes draws on every page, in both modes."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from apptest_helpers import PAGES, PUBLIC_PAGES, ok, page, text
from demo_board import build_demo_board
from leaderboard import data


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return build_demo_board(tmp_path_factory.mktemp("demo-board"))


def test_the_board_holds_two_nights_and_the_regression(board: tuple[Path, Path]) -> None:
    public, operator = board
    assert len(data.nights(path=public)) == 2
    changes = data.changes(path=public)
    assert set(changes.new_revisions["revision"]) == {"v2"}
    assert set(changes.alerts["model_id"]) == {"acme/guard@v2"}
    assert not changes.moves.empty or not changes.revision_moves.empty
    assert data.meta(path=public).mode.value == "public" and data.meta(path=operator).operator
    with duckdb.connect(str(public), read_only=True) as con:
        kinds = dict(con.execute("SELECT kind, count(*) FILTER (response_text IS NOT NULL) FROM examples "
                                 "GROUP BY kind").fetchall())
        images = con.execute("SELECT count(*) FROM images").fetchone()
    assert kinds["harmful"] == 0 and kinds["benign"] > 0
    assert images and images[0] > 0  # the benign items' attack images


@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_every_public_page_draws(board: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(data.SNAPSHOT_ENV, str(board[0]))
    at = page(name)
    ok(at)
    assert at.title and (at.dataframe or at.get("vega_lite_chart") or at.metric)
    assert "Traceback" not in text(at)


@pytest.mark.parametrize("name", PAGES)
def test_every_operator_page_draws(board: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(data.SNAPSHOT_ENV, str(board[1]))
    at = page(name)
    ok(at)
    assert at.title and (at.dataframe or at.get("vega_lite_chart") or at.metric)


def test_samples_show_the_image_sent_and_every_judge(board: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(data.SNAPSHOT_ENV, str(board[0]))
    items = data.sample_items(kind="benign", attack="figstep", path=board[0])
    view = data.sample_detail(str(items["cell_key"].iloc[0]), path=board[0])
    assert view is not None and view.images and all(png is not None for png in view.images)
    assert {"refusal-keywords", "refusal-rules"} <= set(view.verdicts["judge"])
