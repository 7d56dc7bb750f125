"""The real thing: `streamlit run` on a fixture snapshot, every page photographed by headless Chromium.

Catches what AppTest cannot: the page must actually draw in a browser (front-end errors, a crash
at import under `streamlit run`, charts that fail to render), and the public board must not show
the Streamlit toolbar or Deploy button. MMWATCH_SCREENSHOT_OUT=DIR keeps the pictures.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pytest

from apptest_helpers import PAGES, PUBLIC_PAGES
from browser import STREAMLIT_READY, chromium, drawn, streamlit
from storage.store import DuckDBStore

pytestmark = pytest.mark.slow


def _keep(shot: Path) -> None:
    if out := os.environ.get("MMWATCH_SCREENSHOT_OUT"):
        Path(out).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(out) / shot.name)


def _path(name: str) -> str:
    return "" if name == "overview" else name  # the default page is served at the root


def test_every_page_draws_in_a_browser(tmp_path: Path, make_snapshot) -> None:
    if shutil.which("chromium") is None:
        pytest.skip("chromium is not installed (CI installs it with `apt-get install -y chromium`)")
    snapshot = make_snapshot(tmp_path / "leaderboard.duckdb", title="Screenshot leaderboard", show_responses=True)
    with DuckDBStore(tmp_path / "db.duckdb", tmp_path / "art"):  # the store the Label page writes to
        pass
    with duckdb.connect(str(snapshot)) as con:
        con.execute("INSERT INTO meta VALUES ('store', ?)", [str(tmp_path / "db.duckdb")])
    log = tmp_path / "streamlit.log"
    with streamlit(snapshot, log) as url, chromium(tmp_path / "profile") as browser:
        for name in PAGES:
            browser.open(f"{url}/{_path(name)}", ready=STREAMLIT_READY, timeout=90)
            shot = browser.screenshot(tmp_path / f"{name}.png")
            ok, why = drawn(shot)
            assert ok, f"page {name} did not draw: {why}\n{browser.text()[:800]}"
            assert "Traceback" not in browser.text() and "Error" not in browser.text().split("\n")[0]
            _keep(shot)
    assert "Traceback" not in log.read_text()


def test_public_board_has_no_toolbar_deploy_or_operator_pages(tmp_path: Path, make_snapshot) -> None:
    if shutil.which("chromium") is None:
        pytest.skip("chromium is not installed (CI installs it with `apt-get install -y chromium`)")
    snapshot = make_snapshot(tmp_path / "leaderboard.duckdb", title="Public leaderboard")
    with streamlit(snapshot, tmp_path / "streamlit.log") as url, chromium(tmp_path / "profile") as browser:
        browser.open(url, ready=STREAMLIT_READY, timeout=90)
        visible = browser.text()
        assert "Public leaderboard" in visible
        assert "Deploy" not in visible
        shown = browser.evaluate("""Array.from(document.querySelectorAll(
            '[data-testid="stAppDeployButton"], [data-testid="stMainMenu"], .stDeployButton'))
            .filter(e => getComputedStyle(e).display !== 'none' && e.offsetParent !== null).length""")
        assert shown == 0  # no main menu, no Deploy button
        links = browser.evaluate("""Array.from(document.querySelectorAll('[data-testid="stTopNav"] a'))
            .map(a => a.innerText.trim().split('\\n').pop().trim()).join('|')""").split("|")  # after its icon
        assert [n.capitalize() for n in PUBLIC_PAGES] == [link for link in links if link], links  # not Label, Runs
        shot = browser.screenshot(tmp_path / "public-overview.png")
        assert drawn(shot)[0]
