"""scienceqa: ScienceQA-IMG from problems.json: image problems of one split, lettered choices."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from utility_files import draw, write_json

from mmwatch import plugins
from mmwatch.benchmarks.rows import LoadedBenchmark
from mmwatch.registry import PluginParamsError
from mmwatch.types import AnswerFormat


def _problem(split: str = "test", image: str | None = "image.png", answer: Any = 1, hint: str = "",
             choices: Any = ("Asia", "Africa", "Europe")) -> dict[str, Any]:
    return {"question": "Which continent is highlighted?", "choices": list(choices) if isinstance(choices, tuple)
            else choices, "answer": answer, "hint": hint, "image": image, "task": "closed choice", "grade": "grade5",
            "subject": "social science", "topic": "geography", "category": "Geography", "skill": "Identify continents",
            "lecture": "", "solution": "", "split": split}


PROBLEMS = {"1": _problem(hint="The map shows one continent."), "2": _problem(image=None),
            "3": _problem(split="train"), "4": _problem(answer=0, choices=("yes", "no")),
            "5": _problem(split="val")}


def _load(tmp_path: Path, problems: dict[str, Any], **params: object) -> LoadedBenchmark:
    path = write_json(tmp_path / "problems.json", problems)
    images = tmp_path / "images"
    for pid, p in problems.items():
        if isinstance(p, dict) and p.get("image") and isinstance(p.get("split"), str):
            draw(images / p["split"] / pid / "image.png")
    images.mkdir(exist_ok=True)
    loaded = plugins.benchmarks.build("scienceqa", {"path": str(path), "images": str(images), **params}).obj
    assert isinstance(loaded, LoadedBenchmark)
    return loaded


def test_image_problems_of_the_test_split_load_as_lettered_choices(tmp_path: Path) -> None:
    loaded = _load(tmp_path, PROBLEMS)
    samples = {s.source_id: s for s in loaded}
    assert loaded.problems == [] and list(samples) == ["1", "4"]  # 2 has no image, 3 and 5 are other splits
    key = samples["1"].answer_key
    assert key is not None and key.format is AnswerFormat.CHOICE and key.choices == ("Asia", "Africa", "Europe")
    assert samples["1"].reference == "B" and samples["4"].reference == "A"
    assert samples["1"].text == ("Context: The map shows one continent.\nWhich continent is highlighted?\n"
                                 "A. Asia\nB. Africa\nC. Europe\n"
                                 "Answer with the option's letter from the given choices directly.")
    assert samples["4"].text.startswith("Which continent is highlighted?\nA. yes")  # no hint, no context line
    assert samples["1"].image_path == tmp_path / "images" / "test" / "1" / "image.png"
    assert samples["1"].category == "social science" and samples["1"].load_image() is not None


def test_split_selects_another_split_and_an_unknown_one_fails(tmp_path: Path) -> None:
    assert [s.source_id for s in _load(tmp_path, PROBLEMS, split="val")] == ["5"]
    with pytest.raises(PluginParamsError, match="split"):
        _load(tmp_path, PROBLEMS, split="dev")


@pytest.mark.parametrize("bad, message", [
    (_problem(answer=3), "answer: expected the index of one of the 3 choices"),
    (_problem(choices=["only"]), "choices: expected a list of at least two strings"),
    (_problem(image="../../secret.png"), "image: must be a path inside the images folder"),
    ("not a problem", "(record): expected a JSON object"),
], ids=["answer-out-of-range", "one-choice", "image-outside", "not-an-object"])
def test_a_bad_problem_is_one_named_problem_and_the_rest_loads(tmp_path: Path, bad: Any, message: str) -> None:
    loaded = _load(tmp_path, {"1": PROBLEMS["1"], "9": bad})
    assert len(loaded) == 1
    (problem,) = loaded.problems
    assert problem.startswith(f"{tmp_path / 'problems.json'}:id 9: ") and message in problem
