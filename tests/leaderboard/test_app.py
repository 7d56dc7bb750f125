"""The Streamlit app as a whole: routing, public vs operator mode, and every page's frame.

Each page's content has its own tests under tests/leaderboard/pages/.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from apptest_helpers import PAGES, PUBLIC_PAGES, app, ok, page, read


def _titles(at) -> list[str]:  # type: ignore[no-untyped-def]
    return [t.value for t in at.title]


def test_app_opens_on_the_overview(snapshot: Path) -> None:
    at = app()
    ok(at)
    assert _titles(at)[0] == "Test leaderboard"
    assert at.metric, "the overview's headline numbers are missing"


@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_every_public_page_through_navigation(snapshot: Path, name: str) -> None:
    at = app()
    at.switch_page(f"pages/{name}.py").run()
    ok(at)
    assert at.title


@pytest.mark.parametrize("name", ("label", "runs"))
def test_operator_pages_are_not_routed_in_public_mode(snapshot: Path, name: str) -> None:
    at = app()
    with pytest.raises(Exception):  # noqa: B017 - AppTest raises a bare KeyError/ValueError for an unknown page
        at.switch_page(f"pages/{name}.py").run()
        ok(at)
        assert name != name  # unreachable when the page is not routed


@pytest.mark.parametrize("name", ("label", "runs"))
def test_operator_pages_are_routed_on_an_operator_snapshot(tmp_path: Path, monkeypatch, make_snapshot,
                                                           name: str) -> None:
    monkeypatch.setenv("MMWATCH_SNAPSHOT", str(make_snapshot(tmp_path / "op.duckdb", show_responses=True)))
    at = app()
    at.switch_page(f"pages/{name}.py").run()
    ok(at)
    assert at.title


def test_public_mode_hides_the_menu_and_deploy_button(snapshot: Path) -> None:
    at = app()
    html = " ".join(str(getattr(e, "proto", "")) for e in at.get("html"))
    assert "stAppDeployButton" in html and "stMainMenu" in html and "display: none" in html


def test_operator_mode_keeps_the_toolbar(tmp_path: Path, monkeypatch, make_snapshot) -> None:
    monkeypatch.setenv("MMWATCH_SNAPSHOT", str(make_snapshot(tmp_path / "op.duckdb", show_responses=True)))
    at = app()
    assert not at.get("html")


@pytest.mark.parametrize("name", PAGES)
def test_every_page_on_its_own(snapshot: Path, name: str) -> None:
    at = page(name)
    ok(at)
    assert at.title


@pytest.mark.parametrize("name", (None, *PAGES))
def test_missing_snapshot_is_a_friendly_message(tmp_path: Path, monkeypatch, name) -> None:
    monkeypatch.setenv("MMWATCH_SNAPSHOT", str(tmp_path / "absent.duckdb"))
    at = app() if name is None else page(name)
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.error) == 1
    assert "mmwatch run" in at.error[0].value
    assert str(tmp_path / "absent.duckdb") in read(at.error[0].value)


@pytest.mark.parametrize("name", PAGES)
def test_pages_cope_with_an_empty_snapshot(tmp_path: Path, monkeypatch, make_snapshot, name) -> None:
    monkeypatch.setenv("MMWATCH_SNAPSHOT", str(make_snapshot(tmp_path / "e.duckdb", empty=True)))
    at = page(name)
    ok(at)
    assert at.warning or at.info


def test_demo_snapshot_says_so(tmp_path: Path, monkeypatch, make_snapshot) -> None:
    monkeypatch.setenv("MMWATCH_SNAPSHOT", str(make_snapshot(tmp_path / "d.duckdb", demo=True)))
    at = app()
    ok(at)
    assert any("Demo snapshot" in i.value for i in at.info)
