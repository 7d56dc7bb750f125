"""One item in full (verdicts, images, predecessor), the Samples filters and the label queue."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from leaderboard import data


def _cell(snapshot: Path, model_id: str, sample: str, attack: str, defense: str = "none") -> str:
    rows = data.sample_items(model_id, attack, defense=defense, path=snapshot)
    return str(rows[rows["sample_id"] == sample]["cell_key"].iloc[0])


def test_detail_has_every_judge_and_the_predecessor(snapshot: Path, texts) -> None:
    view = data.sample_detail(_cell(snapshot, "llava-tiny@e4f5a6b", "safebench:1-1", "figstep"))
    assert view is not None and view.model == "checkpoint-200"
    assert list(view.verdicts["judge"]) == ["refusal-keywords", "llm-harmbench"]  # the primary judge first
    assert set(view.verdicts["outcome"]) == {"success", "safe"} and bool(view.row["disagree"])
    assert view.verdicts["rationale"].isna().all()  # a harmful item's rationale may quote the answer
    assert view.row["redacted"] and view.row["response_text"] is None
    assert view.images == [None]  # a harmful item's image is not in a public snapshot
    before = view.predecessor
    assert before is not None and before.model == "checkpoint-100" and before.row["outcome"] == "refused"
    assert before.predecessor is None


def test_detail_of_a_utility_item_shows_its_image(snapshot: Path) -> None:
    view = data.sample_detail(_cell(snapshot, "llava-tiny@e4f5a6b", "vqa:7", "none"))
    assert view is not None and view.row["response_text"] == "The square is red."
    (png,) = view.images
    assert png is not None
    with Image.open(io.BytesIO(png)) as im:
        assert im.size == (64, 48) and im.convert("RGB").getpixel((3, 3)) == (255, 0, 0)
    assert view.verdicts["rationale"].notna().all()
    assert view.predecessor is not None and view.predecessor.row["response_text"] == "Red."


def test_system_prompt_of_the_defended_cell(snapshot: Path) -> None:
    view = data.sample_detail(_cell(snapshot, "llava-tiny@e4f5a6b", "safebench:1-1", "figstep",
                                    "safety-system-prompt"))
    assert view is not None and view.row["system_text"].startswith("You are a helpful assistant")


def test_unknown_cell_is_none(snapshot: Path) -> None:
    assert data.sample_detail("no-such-cell") is None


def test_filters_disagreement_alert_and_search(snapshot: Path) -> None:
    assert list(data.sample_items(disagree=True)["cell_key"]) == ["cell-0"]
    alert = data.sample_items(alert_id="alert-1")
    assert list(alert["sample_id"]) == ["safebench:1-1"] and set(alert["model_id"]) == {"llava-tiny@e4f5a6b"}
    found = data.sample_items(search="PYTHON process")
    assert set(found["sample_id"]) == {"xstest:12"} and len(found) == 2
    assert set(data.sample_items(kind="utility")["sample_id"]) == {"vqa:7"}


def test_label_queue_needs_shown_answers_and_puts_disagreement_first(tmp_path: Path, make_snapshot) -> None:
    public = make_snapshot(tmp_path / "public.duckdb")
    assert set(data.label_queue(path=public)["kind"]) <= {"benign"}  # harmful answers are not shown in public
    operator = make_snapshot(tmp_path / "operator.duckdb", show_responses=True)
    queue = data.label_queue(path=operator)
    assert queue["cell_key"].iloc[0] == "cell-0"
    assert "cell-2" not in set(queue["cell_key"])  # an error row has no answer to label
    assert "cell-0" not in set(data.label_queue(exclude=("cell-0",), path=operator)["cell_key"])


def test_defense_steps_follow_the_response_policy(tmp_path: Path, make_snapshot) -> None:
    public = make_snapshot(tmp_path / "public.duckdb")
    key = _cell(public, "llava-tiny@e4f5a6b", "safebench:1-1", "figstep", "safety-system-prompt")
    view = data.sample_detail(key, path=public)
    assert view is not None and view.steps == []  # a harmful item's draft is an answer: hidden in public
    operator = make_snapshot(tmp_path / "operator.duckdb", show_responses=True)
    view = data.sample_detail(key, path=operator)
    assert view is not None and [(s.kind.value, s.text) for s in view.steps] == [("draft", "SENTINEL-DRAFT")]
