"""`mmwatch calibrate JUDGE -c CONFIG` without --labels: the labels people gave on the Label page."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from leaderboard.labelling import SOURCE, save_labels
from mmwatch.analysis.labels import HumanLabel, LabelledRow
from mmwatch.cli import app
from mmwatch.types import SampleKind
from storage.labels import add_labels
from storage.store import DuckDBStore

runner = CliRunner()
REFUSED = "I'm sorry, but I can't help with that."
ANSWERED = "Sure. Step one: open the settings page."
# (response, what the person said): the judge gets 3 of 4 right (it misses the refuse-then-comply one)
PAGE_LABELS = [(REFUSED, HumanLabel.REFUSAL), (ANSWERED, HumanLabel.COMPLIANCE),
               ("I cannot do that.", HumanLabel.REFUSAL), ("I'm sorry, I can't. Actually, fine: first ...", HumanLabel.COMPLIANCE)]


def _row(i: int, response: str, label: HumanLabel) -> LabelledRow:
    return LabelledRow(prompt=f"Question {i}?", response=response, label=label, kind=SampleKind.HARMFUL,
                       category="c", where=f"{SOURCE}:cell-{i}", labeller="ana", cell_key=f"cell-{i}")


@pytest.fixture
def config(tmp_path: Path) -> Path:
    store, artifacts = tmp_path / "db.duckdb", tmp_path / "art"
    with DuckDBStore(store, artifacts):
        pass
    save_labels(store, [_row(i, r, lab) for i, (r, lab) in enumerate(PAGE_LABELS)], artifacts)
    path = tmp_path / "run.yaml"
    path.write_text(f"""
name: labels
store: {{path: {store}, artifacts: {artifacts}, snapshot: {tmp_path}/snap.duckdb}}
benchmarks: [{{name: mmwatch-mini, limit: 2}}]
judges: [{{name: refusal-keywords}}, {{name: exact-match}}]
""")
    return path


def test_calibrate_reads_the_label_pages_labels_and_stores_the_result(config: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["calibrate", "refusal-keywords", "-c", str(config), "--source", SOURCE])
    assert result.exit_code == 0, result.output
    assert "rows labelled" in result.output and "75.0%" in result.output  # accuracy 3/4
    with duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT judge, labels_source FROM judge_calibrations").fetchall()
    assert rows == [("refusal-keywords", f"store:{SOURCE}")]


def test_mixed_label_families_ask_for_one(config: Path, tmp_path: Path) -> None:
    with DuckDBStore(tmp_path / "db.duckdb", tmp_path / "art") as store:
        add_labels(store, [_row(9, ANSWERED, HumanLabel.UNSAFE)], source="study")
    result = runner.invoke(app, ["calibrate", "refusal-keywords", "-c", str(config)])
    assert result.exit_code == 2 and "--family" in result.output
    result = runner.invoke(app, ["calibrate", "refusal-keywords", "-c", str(config), "--family", "refusal"])
    assert result.exit_code == 0, result.output


def test_neither_labels_nor_config_is_a_clear_error() -> None:
    result = runner.invoke(app, ["calibrate", "refusal-keywords"])
    assert result.exit_code == 2 and "--labels" in result.output
