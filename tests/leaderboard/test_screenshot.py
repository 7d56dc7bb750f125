"""The real thing: `streamlit run` on a fixture snapshot, photographed by headless Chromium.

Catches what AppTest cannot: the page must actually draw in a browser (front-end errors,
a crash at import under `streamlit run`, charts that fail to render).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from prefect_servers import free_port, wait_healthy

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SIZE = (1400, 1000)
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--disable-quic", "--hide-scrollbars", "--virtual-time-budget=15000",
    f"--window-size={SIZE[0]},{SIZE[1]}",
)


def _screenshot(chromium: str, url: str, out: Path, profile: Path) -> None:
    shutil.rmtree(profile, ignore_errors=True)
    profile.mkdir()
    out.unlink(missing_ok=True)
    subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--screenshot={out}", url],
        capture_output=True, timeout=120, check=False,
    )


def _drawn(png: Path) -> tuple[bool, str]:
    """A drawn page has text and colour; the loading skeleton is a few pale greys."""
    if not png.is_file():
        return False, "no file"
    with Image.open(png) as im:
        main = im.convert("RGB").crop((0, 100, im.width, im.height))  # below the top bar
        colours = len(main.getcolors(maxcolors=1 << 20) or [])
        grey = main.convert("L")
        dark = sum(grey.histogram()[:100])  # text and chart marks
        inked = sum(grey.histogram()[:235])
    pixels = main.width * main.height
    why = f"{colours} colours, {dark} dark px, {inked / pixels:.1%} non-white"
    return colours > 300 and dark > 2000 and inked > 0.015 * pixels, why


def test_leaderboard_renders_in_a_browser(tmp_path: Path, make_snapshot) -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("chromium is not installed (CI installs it with `apt-get install -y chromium`)")
    snapshot = make_snapshot(tmp_path / "leaderboard.duckdb", title="Screenshot leaderboard")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "streamlit.log"
    env = {**os.environ, "MMWATCH_SNAPSHOT": str(snapshot)}
    with log.open("w") as sink:
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "leaderboard/app.py",
             "--server.headless", "true", "--browser.gatherUsageStats", "false",
             "--server.port", str(port), "--server.address", "127.0.0.1"],
            cwd=REPO, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        wait_healthy(f"{url}/_stcore/health", server, log, 90, "streamlit")
        shot = tmp_path / "leaderboard.png"
        why = ""
        for _ in range(6):  # the first load after a start often shows only placeholders
            _screenshot(chromium, url, shot, tmp_path / "profile")
            drawn, why = _drawn(shot)
            if drawn:
                break
            time.sleep(1)
        else:
            pytest.fail(f"page never drew: {why}\n{log.read_text()}")
        with Image.open(shot) as im:
            assert im.size == SIZE
        if out := os.environ.get("MMWATCH_SCREENSHOT_OUT"):  # keep it, e.g. as a CI artifact
            shutil.copy(shot, out)
        assert "Traceback" not in log.read_text()
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
