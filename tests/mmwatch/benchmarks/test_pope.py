"""pope: yes / no hallucination questions, one sample per (question, split), splits selectable."""

from __future__ import annotations

from pathlib import Path

import pytest
from utility_files import b64, write_tsv

from mmwatch import plugins
from mmwatch.benchmarks.rows import LoadedBenchmark
from mmwatch.registry import PluginParamsError
from mmwatch.types import AnswerFormat

HEADER = ["index", "image", "question", "answer", "category"]
ROWS = [
    ["1", b64("red"), "Is there a dog in the image?", "yes", "random"],
    ["2", "1", "Is there a bench in the image?", "no", "popular"],
    ["3", "1", "Is there a leash in the image?", "No", "adversarial"],
    ["4", "1", "Is there a person in the image?", "Yes", "random,popular,adversarial"],
]


def _load(tmp_path: Path, rows: list[list[str]], **params: object) -> LoadedBenchmark:
    path = write_tsv(tmp_path / "POPE.tsv", HEADER, rows)
    loaded = plugins.benchmarks.build("pope", {"path": str(path), **params}).obj
    assert isinstance(loaded, LoadedBenchmark)
    return loaded


def test_every_split_by_default_and_a_shared_question_once_per_split(tmp_path: Path) -> None:
    loaded = _load(tmp_path, ROWS)
    samples = {s.source_id: s for s in loaded}
    assert loaded.problems == []
    assert sorted(samples) == ["1/random", "2/popular", "3/adversarial", "4/adversarial", "4/popular", "4/random"]
    assert {samples[f"4/{split}"].category for split in ("random", "popular", "adversarial")} == {
        "random", "popular", "adversarial"}
    assert [samples[i].reference for i in ("1/random", "2/popular", "3/adversarial", "4/random")] == [
        "yes", "no", "no", "yes"]
    assert all(s.answer_key and s.answer_key.format is AnswerFormat.YES_NO and s.answer_key.group is None
               for s in samples.values())
    assert samples["1/random"].text == "Is there a dog in the image?\nPlease answer yes or no."
    assert len({s.image for s in samples.values()}) == 1


def test_splits_select_which_are_loaded(tmp_path: Path) -> None:
    loaded = _load(tmp_path, ROWS, splits=["adversarial"])
    assert sorted(s.source_id for s in loaded) == ["3/adversarial", "4/adversarial"]
    loaded = _load(tmp_path, ROWS, splits="random,popular")  # as the command line gives it
    assert sorted(s.source_id for s in loaded) == ["1/random", "2/popular", "4/popular", "4/random"]


def test_an_unknown_split_parameter_fails_before_loading(tmp_path: Path) -> None:
    with pytest.raises(PluginParamsError, match="splits.*random"):
        _load(tmp_path, ROWS, splits=["hard"])


def test_bad_rows_are_named_problems_and_the_rest_loads(tmp_path: Path) -> None:
    bad = [["5", "1", "Is there a cat?", "yes", "random,hardest"], ["6", "!" * 70, "Is there a cup?", "no", "random"]]
    loaded = _load(tmp_path, [*ROWS, *bad])
    assert len(loaded) == 6
    file = tmp_path / "POPE.tsv"
    assert loaded.problems[0] == f"{file}:6: category: hardest is not a split (random, popular, adversarial)"
    assert loaded.problems[1].startswith(f"{file}:7: image: not valid base64")
