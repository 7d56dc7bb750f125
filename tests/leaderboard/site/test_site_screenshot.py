"""The static site in a real browser: headless Chromium opens index.html and a model page over file://
(no server, no network) and must draw them; its DOM must hold the frontier's points and paths."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from leaderboard.site import build_site, file_stem

pytestmark = pytest.mark.slow

SIZE = (1400, 1600)
# as tests/leaderboard/test_screenshot.py's CHROMIUM_FLAGS, taller, with the network cut off as well
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--disable-quic", "--hide-scrollbars", "--virtual-time-budget=5000",
    "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>", f"--window-size={SIZE[0]},{SIZE[1]}",
)


def _chromium() -> str:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("chromium is not installed (CI installs it with `apt-get install -y chromium`)")
    return chromium


def _run(chromium: str, profile: Path, *args: str) -> str:
    shutil.rmtree(profile, ignore_errors=True)
    profile.mkdir()
    done = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120, check=False)
    return done.stdout


def _drawn(png: Path) -> tuple[bool, str]:
    """A drawn page has text and colour (adapted from test_screenshot._drawn: no top bar to skip)."""
    if not png.is_file():
        return False, "no file"
    with Image.open(png) as im:
        size = im.size
        main = im.convert("RGB").crop((0, 40, im.width, im.height))  # below the navigation bar
        colours = len(main.getcolors(maxcolors=1 << 20) or [])
        grey = main.convert("L")
        dark = sum(grey.histogram()[:100])
        inked = sum(grey.histogram()[:235])
    pixels = main.width * main.height
    why = f"{size}, {colours} colours, {dark} dark px, {inked / pixels:.1%} non-white"
    return size == SIZE and colours > 100 and dark > 2000 and inked > 0.015 * pixels, why


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = importlib.util.spec_from_file_location("leaderboard_conftest", Path(__file__).parents[1] / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = sys.modules.setdefault("leaderboard_conftest", importlib.util.module_from_spec(spec))
    if not hasattr(module, "build_snapshot"):
        spec.loader.exec_module(module)
    folder = tmp_path_factory.mktemp("shot")
    build_site(folder / "site", path=module.build_snapshot(folder / "leaderboard.duckdb", title="Screenshot site"))
    return folder / "site"


@pytest.mark.parametrize("page", ["index.html", f"models/{file_stem('llava-tiny@e4f5a6b')}.html"])
def test_pages_draw_from_file_urls(site: Path, tmp_path: Path, page: str) -> None:
    chromium = _chromium()
    shot = tmp_path / "page.png"
    _run(chromium, tmp_path / "profile", f"--screenshot={shot}", (site / page).as_uri())
    drawn, why = _drawn(shot)
    assert drawn, f"{page} did not draw: {why}"
    if out := os.environ.get("MMWATCH_SCREENSHOT_OUT"):  # keep it, e.g. as a CI artifact
        shutil.copy(shot, Path(out).with_name(f"site-{Path(page).stem}.png"))


def test_dom_holds_the_frontier_and_the_charts(site: Path, tmp_path: Path) -> None:
    chromium = _chromium()
    dom = _run(chromium, tmp_path / "profile", "--dump-dom", (site / "index.html").as_uri())
    assert "Screenshot site" in dom
    frontier = re.search(r'<svg[^>]*class="chart frontier".*?</svg>', dom, re.S)
    assert frontier is not None, dom[:2000]
    svg = frontier.group()
    assert len(re.findall(r'<circle[^>]*class="point"', svg)) == 4
    assert re.search(r'<circle[^>]*class="on-front"', svg) and re.search(r'<polyline[^>]*class="lineage"', svg)
    assert re.search(r'<path[^>]*class="err"', svg)
    assert "<script" not in dom
    model = _run(chromium, tmp_path / "profile",
                 "--dump-dom", (site / "models" / f"{file_stem('llava-tiny@e4f5a6b')}.html").as_uri())
    for chart in ("heatmap", "bars", "trend"):
        assert f'class="chart {chart}"' in model, chart
    assert re.search(r'<img[^>]*src="\.\./images/sha-red-square\.png"', model)
