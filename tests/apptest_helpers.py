"""Running leaderboard pages under Streamlit's AppTest, and reading what a visitor would see."""

from __future__ import annotations

import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

from leaderboard.text import WORD_JOINER

APP = Path(__file__).resolve().parents[1] / "leaderboard" / "app.py"
PAGES = ("overview", "ranking", "frontier", "trends", "matrix", "benchmarks", "samples", "alerts", "label", "runs")
PUBLIC_PAGES = PAGES[:8]
TIMEOUT = 60  # charts make the first run slow on a loaded CI machine


def app() -> AppTest:
    return AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()


def page(name: str) -> AppTest:
    return AppTest.from_file(str(APP.parent / "pages" / f"{name}.py"), default_timeout=TIMEOUT).run()


def text(at: AppTest) -> str:
    """Everything a visitor could read: text elements and every table cell."""
    parts = [e.value for kind in ("title", "subheader", "header", "markdown", "caption", "info", "error",
                                  "warning", "success", "code") for e in getattr(at, kind)]
    parts += [df.value.to_string() for df in at.dataframe]
    parts += [str(m.value) + " " + str(m.label) for m in at.metric]
    return "\n".join(str(p) for p in parts)


def read(body: str) -> str:
    """What a markdown body escaped by leaderboard.text.md reads as: escapes and word joiners gone."""
    return re.sub(r"\\(.)", r"\1", body).replace(WORD_JOINER, "")


def ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def select(at: AppTest, label: str, value: object) -> AppTest:
    next(s for s in at.selectbox if s.label == label).set_value(value)
    return at.run()
