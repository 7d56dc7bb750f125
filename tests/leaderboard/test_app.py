"""The Streamlit app and each page, run headless with AppTest against a fixture snapshot."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from leaderboard.text import WORD_JOINER

APP = Path(__file__).resolve().parents[2] / "leaderboard" / "app.py"
PAGES = ("ranking", "attacks", "history", "samples")
MODELS = {"qwen2-vl-mini v2", "qwen2-vl-mini v1", "checkpoint-100", "checkpoint-200"}
TIMEOUT = 60  # charts make the first run slow on a loaded CI machine


def _app() -> AppTest:
    return AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()


def _page(name: str) -> AppTest:
    return AppTest.from_file(str(APP.parent / "pages" / f"{name}.py"), default_timeout=TIMEOUT).run()


def _text(at: AppTest) -> str:
    """Everything a visitor could read: text elements and every table cell."""
    parts = [e.value for kind in ("title", "subheader", "markdown", "caption", "info", "error",
                                  "warning", "success") for e in getattr(at, kind)]
    parts += [df.value.to_string() for df in at.dataframe]
    return "\n".join(str(p) for p in parts)


def _read(body: str) -> str:
    """What a markdown body escaped by leaderboard.text.md reads as: escapes and word joiners gone."""
    return re.sub(r"\\(.)", r"\1", body).replace(WORD_JOINER, "")


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _select(at: AppTest, label: str, value: str) -> AppTest:
    next(s for s in at.selectbox if s.label == label).set_value(value)
    return at.run()


def test_app_opens_on_ranking(snapshot: Path) -> None:
    at = _app()
    _ok(at)
    assert at.title[0].value == "Test leaderboard"
    table = at.dataframe[0].value
    assert set(table["Model"]) == MODELS
    assert "45% (33–58%)" in set(table["ASR (95% CI)"])
    assert list(table["Model"])[0] == "qwen2-vl-mini v2"  # safest first
    assert at.get("vega_lite_chart"), "safety-vs-utility scatter missing"
    assert "safety = 1 − ASR" in _text(at)
    assert not at.info  # not a demo snapshot


def test_latest_only_toggle(snapshot: Path) -> None:
    at = _app()
    at.toggle[0].set_value(True).run()
    _ok(at)
    assert list(at.dataframe[0].value["Model"]) == ["qwen2-vl-mini v2", "checkpoint-200"]


def test_demo_snapshot_says_so(tmp_path: Path, monkeypatch, make_snapshot) -> None:
    monkeypatch.setenv("MMWATCH_SNAPSHOT", str(make_snapshot(tmp_path / "d.duckdb", demo=True)))
    at = _app()
    _ok(at)
    assert "Demo snapshot" in at.info[0].value


@pytest.mark.parametrize("name", PAGES)
def test_every_page_through_navigation(snapshot: Path, name: str) -> None:
    at = _app()
    at.switch_page(f"pages/{name}.py").run()
    _ok(at)
    assert at.title


@pytest.mark.parametrize("name", PAGES)
def test_every_page_on_its_own(snapshot: Path, name: str) -> None:
    at = _page(name)
    _ok(at)
    assert at.title


def test_attacks_page_content(snapshot: Path) -> None:
    at = _page("attacks")
    _ok(at)
    assert [s.label for s in at.selectbox] == ["Defense", "Model"]
    assert len(at.get("vega_lite_chart")) == 3  # heatmap, categories, defense deltas
    text = _text(at)
    assert "Do defenses help?" in text
    deltas = at.dataframe[-1].value
    row = deltas[(deltas["Model"] == "checkpoint-200") & (deltas["Attack"] == "figstep")].iloc[0]
    assert (row["ASR, no defense"], row["ASR, with defense"], row["Change"]) == ("65%", "40%", "−25 pp")
    at = _select(at, "Model", "checkpoint-200")
    _ok(at)
    refusals = at.dataframe[0].value
    assert "35% (18–57%)" in set(refusals["Refusal rate (95% CI)"])  # RtA figstep: 7/20


def test_history_page_shows_alert(snapshot: Path) -> None:
    at = _page("history")
    _ok(at)
    alerts = at.dataframe[0].value
    assert list(alerts["Model"]) == ["checkpoint-200"]
    assert list(alerts["Before → after"]) == ["30% → 65%"]
    assert at.get("vega_lite_chart")
    at = _select(at, "Lineage", "qwen2-vl-mini")
    _ok(at)


def test_samples_redact_harmful_responses(snapshot: Path, texts) -> None:
    at = _page("samples")
    _ok(at)
    assert "leaderboard.show_responses" in at.caption[0].value
    at = _select(at, "Model", "checkpoint-200")
    assert texts.benign in _text(at)  # attack 'none' first: benign + utility items
    at = _select(at, "Attack", "figstep")
    _ok(at)
    table = at.dataframe[0].value
    assert len(table) == 3
    assert texts.harmful not in _text(at)
    assert table["Response"].str.startswith("🔒").all()
    assert set(table["Verdict"]) == {"unsafe", "refused", "—"}
    assert set(table["Counts as"]) == {"success", "refused", "error"}


def test_samples_show_harmful_when_published(tmp_path: Path, monkeypatch, make_snapshot, texts) -> None:
    path = make_snapshot(tmp_path / "open.duckdb", show_responses=True)
    monkeypatch.setenv("MMWATCH_SNAPSHOT", str(path))
    at = _select(_select(_page("samples"), "Model", "checkpoint-200"), "Attack", "figstep")
    _ok(at)
    assert texts.harmful in _text(at)


@pytest.mark.parametrize("name", (None, *PAGES))
def test_missing_snapshot_is_a_friendly_message(tmp_path: Path, monkeypatch, name) -> None:
    monkeypatch.setenv("MMWATCH_SNAPSHOT", str(tmp_path / "absent.duckdb"))
    at = _app() if name is None else _page(name)
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.error) == 1
    assert "mmwatch run" in at.error[0].value
    assert str(tmp_path / "absent.duckdb") in _read(at.error[0].value)


@pytest.mark.parametrize("name", PAGES)
def test_pages_cope_with_an_empty_snapshot(tmp_path: Path, monkeypatch, make_snapshot, name) -> None:
    monkeypatch.setenv("MMWATCH_SNAPSHOT", str(make_snapshot(tmp_path / "e.duckdb", empty=True)))
    at = _page(name)
    _ok(at)
    assert at.warning or at.info


def test_model_without_utility_is_ranked_but_not_plotted(snapshot: Path) -> None:
    with duckdb.connect(str(snapshot)) as con:
        con.execute("UPDATE leaderboard SET n_utility = 0, utility = NULL, utility_lo = NULL, "
                    "utility_hi = NULL WHERE model_id = 'qwen2-vl-mini@v1'")
    at = _app()
    _ok(at)
    table = at.dataframe[0].value.set_index("Model")
    assert table.loc["qwen2-vl-mini v1", "Utility (95% CI)"] == "—"
    assert at.get("vega_lite_chart")


def test_judge_corrected_asr_column_appears_once_calibrated(snapshot: Path) -> None:
    assert "ASR judge-corrected" not in _app().dataframe[0].value.columns  # not calibrated: no column
    with duckdb.connect(str(snapshot)) as con:
        con.execute("UPDATE leaderboard SET asr_corrected = asr * 0.9, asr_corrected_lo = asr * 0.5, "
                    "asr_corrected_hi = least(1, asr * 1.2)")
    at = _app()
    _ok(at)
    column = at.dataframe[0].value["ASR judge-corrected"]
    assert column.str.match(r"^\d+% \(").all()
