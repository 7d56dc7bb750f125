"""A headless Chromium driven over the DevTools protocol: open pages, wait until drawn, photograph.

One browser serves many pages (a page costs a navigation, not a browser start), which keeps the
screenshot tests of every leaderboard page and the static site quick. Only the few protocol
commands the tests need: navigate, evaluate, capture.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path
from typing import Any

from PIL import Image
from websockets.sync.client import ClientConnection, connect

from prefect_servers import free_port, wait_healthy

REPO = Path(__file__).resolve().parents[1]

SIZE = (1400, 1000)
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--disable-quic", "--hide-scrollbars", "--remote-debugging-port=0",
    "--remote-allow-origins=*", f"--window-size={SIZE[0]},{SIZE[1]}",
)
# Streamlit has drawn: a title, no script running, no skeletons, every chart embedded
STREAMLIT_READY = """(() => {
  const main = document.querySelector('[data-testid="stMain"]');
  if (!main || !main.querySelector('h1')) return false;
  if (document.querySelector('[data-testid="stStatusWidget"] [data-testid="stStatusWidgetRunningIcon"]')) return false;
  if (main.querySelector('[data-testid="stSkeleton"]')) return false;
  const charts = main.querySelectorAll('[data-testid="stVegaLiteChart"]');
  for (const c of charts) { if (!c.querySelector('canvas, svg')) return false; }
  return true;
})()"""


class Page:
    """One tab: commands go out with an id, events in between are skipped."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self._ids = itertools.count(1)

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        msg_id = next(self._ids)
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        while True:
            reply = json.loads(self.ws.recv(timeout=60))
            if reply.get("id") == msg_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return dict(reply.get("result", {}))

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def open(self, url: str, ready: str = "document.readyState === 'complete'", timeout: float = 60) -> None:
        """Navigate and wait until `ready` holds and the text stopped changing (two polls alike)."""
        self.send("Page.navigate", url=url)
        deadline, last = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            time.sleep(0.5)
            if not self.evaluate(ready):
                last = None
                continue
            now = self.evaluate("document.body.innerText.length")
            if now == last:
                time.sleep(0.5)  # let the last paint land
                return
            last = now
        raise TimeoutError(f"{url} did not draw in {timeout:.0f} s: {self.text()[:500]!r}")

    def text(self) -> str:
        return str(self.evaluate("document.body ? document.body.innerText : ''") or "")

    def html(self) -> str:
        return str(self.evaluate("document.documentElement.outerHTML") or "")

    def screenshot(self, out: Path) -> Path:
        data = self.send("Page.captureScreenshot", format="png")["data"]
        out.write_bytes(base64.b64decode(data))
        return out


@contextmanager
def chromium(profile: Path) -> Iterator[Page]:
    """A fresh headless Chromium with its own profile; stopped (by PID) on exit."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        raise FileNotFoundError("chromium is not installed (CI installs it with `apt-get install -y chromium`)")
    shutil.rmtree(profile, ignore_errors=True)
    profile.mkdir(parents=True)
    proc = subprocess.Popen([exe, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        port_file, deadline = profile / "DevToolsActivePort", time.monotonic() + 30
        while not port_file.is_file() or not port_file.read_text().strip():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"chromium did not start (exit {proc.poll()})")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        request = urllib.request.Request(f"http://127.0.0.1:{port}/json/new?about:blank", method="PUT")
        with urllib.request.urlopen(request, timeout=10) as response:
            target = json.load(response)
        with connect(target["webSocketDebuggerUrl"], max_size=None, open_timeout=10) as ws:
            page = Page(ws)
            page.send("Emulation.setDeviceMetricsOverride", width=SIZE[0], height=SIZE[1], deviceScaleFactor=1,
                      mobile=False)
            yield page
    finally:
        stop(proc, 10)


def stop(proc: subprocess.Popen[Any], timeout: float) -> None:
    """Stop a process we started, by its PID: terminate, then kill if it does not go in `timeout` s."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def drawn(png: Path | bytes, top: int = 100) -> tuple[bool, str]:
    """A drawn page has text and colour; a loading skeleton is a few pale greys."""
    source = BytesIO(png) if isinstance(png, bytes) else png
    with Image.open(source) as im:
        main = im.convert("RGB").crop((0, top, im.width, im.height))
        colours = len(main.getcolors(maxcolors=1 << 20) or [])
        grey = main.convert("L")
        dark = sum(grey.histogram()[:100])  # text and chart marks
        inked = sum(grey.histogram()[:235])
    pixels = main.width * main.height
    why = f"{colours} colours, {dark} dark px, {inked / pixels:.1%} non-white"
    return colours > 300 and dark > 2000 and inked > 0.015 * pixels, why


@contextmanager
def streamlit(snapshot: Path, log: Path) -> Iterator[str]:
    """`streamlit run leaderboard/app.py` from the repository root (its .streamlit/config.toml) on
    loopback, reading `snapshot`; yields the URL; stopped by PID."""
    port = free_port()
    env = {**os.environ, "MMWATCH_SNAPSHOT": str(snapshot)}
    with log.open("w") as sink:
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "leaderboard/app.py", "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1"],
            cwd=REPO, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(f"{url}/_stcore/health", server, log, 90, "streamlit")
        yield url
    finally:
        stop(server, 15)


def photograph(snapshot: Path, out: Path, pages: tuple[str, ...]) -> list[Path]:
    """Screenshots of leaderboard pages ("" is the default page) on `snapshot`, as out/<page>.png:
    `python tests/browser.py SNAPSHOT OUT_DIR overview samples` makes the README's pictures."""
    out.mkdir(parents=True, exist_ok=True)
    shots = []
    with streamlit(snapshot, out / "streamlit.log") as url, chromium(out / ".profile") as browser:
        for name in pages:
            browser.open(f"{url}/{'' if name == 'overview' else name}", ready=STREAMLIT_READY, timeout=90)
            shots.append(browser.screenshot(out / f"{name}.png"))
    shutil.rmtree(out / ".profile", ignore_errors=True)
    (out / "streamlit.log").unlink(missing_ok=True)
    return shots


if __name__ == "__main__":
    print(*photograph(Path(sys.argv[1]), Path(sys.argv[2]), tuple(sys.argv[3:]) or ("overview",)), sep="\n")
