"""mmbench: VLMEvalKit's TSV, one sample per rotation of the options (CircularEval), groups,
prompts, and bad rows that cost their row only."""

from __future__ import annotations

from pathlib import Path

import pytest
from utility_files import b64, write_tsv

from mmwatch import plugins
from mmwatch.benchmarks.rows import LoadedBenchmark
from mmwatch.types import AnswerFormat, SampleKind

HEADER = ["index", "question", "hint", "A", "B", "C", "D", "answer", "category", "image", "l2-category", "split"]
ROWS = [
    ["0", "What colour is the square?", "Look closely.", "red", "green", "blue", "black", "C", "color", b64("blue"),
     "perception", "dev"],
    ["1", "Which is bigger?", None, "the cat", "the dog", "the car", None, "A", "size", "0", "reasoning", "dev"],
    ["2", "Is it day?", "nan", "yes", "no", None, None, "B", "scene", b64("black"), "perception", "dev"],
    ["1000000", "What colour is the square?", "Look closely.", "green", "blue", "black", "red", "B", "color", "0",
     "perception", "dev"],  # VLMEvalKit's own rotated copy of question 0: skipped, rotations are made here
]


def _load(tmp_path: Path, rows: list[list[str | None]], **params: object) -> LoadedBenchmark:
    path = write_tsv(tmp_path / "MMBench_DEV_EN.tsv", HEADER, rows)
    loaded = plugins.benchmarks.build("mmbench", {"path": str(path), **params}).obj
    assert isinstance(loaded, LoadedBenchmark)
    return loaded


def test_circular_eval_gives_one_sample_per_rotation_with_choices_and_reference_rotated(tmp_path: Path) -> None:
    loaded = _load(tmp_path, ROWS)
    samples = {s.source_id: s for s in loaded}
    assert loaded.problems == []
    assert sorted(samples) == ["0/r0", "0/r1", "0/r2", "0/r3", "1/r0", "1/r1", "1/r2", "2/r0", "2/r1"]  # 4+3+2
    want = {"0/r0": (("red", "green", "blue", "black"), "C"), "0/r1": (("green", "blue", "black", "red"), "B"),
            "0/r2": (("blue", "black", "red", "green"), "A"), "0/r3": (("black", "red", "green", "blue"), "D"),
            "1/r1": (("the dog", "the car", "the cat"), "C"), "2/r1": (("no", "yes"), "A")}
    for sid, (choices, letter) in want.items():
        key = samples[sid].answer_key
        assert key is not None and key.format is AnswerFormat.CHOICE
        assert key.choices == choices and samples[sid].reference == letter
        assert key.choices["ABCD".index(letter)] == {"0": "blue", "1": "the cat", "2": "no"}[sid.split("/")[0]]
    assert {s.answer_key.group for s in samples.values() if s.answer_key} == {"0", "1", "2"}
    assert all(s.answer_key and s.answer_key.group == s.source_id.split("/")[0] for s in samples.values())
    assert all(s.kind is SampleKind.UTILITY and s.image is not None for s in samples.values())
    assert samples["1/r0"].image == samples["0/r0"].image  # row 1 names row 0's image by its index
    assert samples["0/r0"].category == "color" and samples["2/r0"].category == "scene"


def test_the_prompt_shows_hint_question_lettered_options_and_the_instruction(tmp_path: Path) -> None:
    samples = {s.source_id: s for s in _load(tmp_path, ROWS)}
    assert samples["0/r1"].text == ("Look closely.\nWhat colour is the square?\nA. green\nB. blue\nC. black\nD. red\n"
                                    "Answer with the option's letter from the given choices directly.")
    assert samples["2/r0"].text.startswith("Is it day?\nA. yes\nB. no\n")  # `nan` is no hint


def test_without_circular_each_question_is_asked_once_as_rotation_zero(tmp_path: Path) -> None:
    circular = {s.source_id: s for s in _load(tmp_path, ROWS)}
    (tmp_path / "plain").mkdir()
    plain = list(_load(tmp_path / "plain", ROWS, circular=False))
    assert [s.source_id for s in plain] == ["0/r0", "1/r0", "2/r0"]
    assert all(s.content_hash == circular[s.source_id].content_hash for s in plain)  # stored answers serve both


@pytest.mark.parametrize("bad, message", [
    (["5", "Q?", None, "a", "b", None, None, "B", "c", "!!not base64!!" * 8, "p", "dev"], "image: not valid base64"),
    (["5", "Q?", None, "a", "b", None, None, "", "c", "0", "p", "dev"], "answer: missing required value"),
    (["5", "Q?", None, "a", "b", None, None, "C", "c", "0", "p", "dev"], "answer: 'C' is not one of the option"),
    (["5", "Q?", None, "a", None, "c", None, "A", "c", "0", "p", "dev"], "B: option missing"),
    (["5", "Q?", None, "a", None, None, None, "A", "c", "0", "p", "dev"], "at least two options"),
    (["5", "Q?", None, "a", "b", None, None, "A", "c", "0", "p"], "expected 12 fields, got 11"),
], ids=["bad-base64", "no-answer", "answer-not-an-option", "gap", "one-option", "short-row"])
def test_a_bad_row_is_one_named_problem_and_the_rest_loads(tmp_path: Path, bad: list[str | None], message: str) -> None:
    loaded = _load(tmp_path, [*ROWS[:3], bad])
    assert len(loaded) == 9
    (problem,) = loaded.problems
    assert problem.startswith(f"{tmp_path / 'MMBench_DEV_EN.tsv'}:5: ") and message in problem


def test_a_file_without_the_answer_column_fails_naming_it(tmp_path: Path) -> None:
    path = write_tsv(tmp_path / "test.tsv", [h for h in HEADER if h != "answer"], [r[:7] + r[8:] for r in ROWS[:1]])
    with pytest.raises(ValueError, match="missing column.*answer"):
        plugins.benchmarks.build("mmbench", {"path": str(path)})


def test_name_tells_apart_editions_with_the_same_indices(tmp_path: Path) -> None:
    loaded = _load(tmp_path, ROWS[:1], name="mmbench-cn")
    assert {s.id for s in loaded} == {f"mmbench-cn:0/r{k}" for k in range(4)}
