"""Utility benchmarks through a real cycle: published formats in, each benchmark's own number out.

POPE and MMBench files in VLMEvalKit's TSV format and MM-Vet's JSON (images drawn here), a model
served over HTTP on 127.0.0.1 that answers in free text as real models do ("Yes, there is a dog.",
"The square is blue."), the `utility-answers` judge reading each answer by its format, MM-Vet's own
judge (`mmvet-grader`, a second served model grading the open answers), and the published
snapshot: POPE's F1, MMBench's circular accuracy, MM-Vet's mean grade, and a utility score
weighing the three the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from judge_stand_in import StandIn, stand_in
from utility_files import b64, draw, write_json, write_tsv

from mmwatch.config import load_config
from mmwatch.engine.cycle import run_cycle
from storage.store import DuckDBStore

POPE = (["index", "image", "question", "answer", "category"], [
    ["1", b64("red"), "Is there a dog in the image? [m:yes]", "yes", "random"],  # said yes: true positive
    ["2", "1", "Is there a bench in the image? [m:yes]", "no", "random"],  # false positive
    ["3", "1", "Is there a leash in the image? [m:no]", "no", "random"],  # true negative
    ["4", "1", "Is there a person in the image? [m:no]", "yes", "random"],  # false negative
])
MMBENCH = (["index", "question", "hint", "A", "B", "C", "D", "answer", "category", "image"], [
    # named by its option text: right in all four rotations of the options
    ["0", "What colour is the square? [m:blue]", None, "red", "green", "blue", "black", "C", "color", b64("blue")],
    # always "B": right only in the rotation where the answer is B
    ["1", "Which is bigger? [m:b]", None, "the cat", "the dog", None, None, "A", "size", "0"],
])
MMVET = {"v1_0": {"imagename": "v1_0.png", "question": "What does the sign say? [m:sign]", "answer": "STOP",
                   "capability": ["ocr"]},
         "v1_1": {"imagename": "v1_1.png", "question": "What colour is the car? [m:car]", "answer": "red <OR> dark red",
                   "capability": ["rec"]}}
REPLIES = {"yes": "Yes, there is one in the picture.", "no": "No, I do not see one.",
           "blue": "The square is blue.", "b": "B", "sign": "It says STOP.", "car": "It looks red."}
GRADES = {"sign": "1.0", "car": "0.6"}  # the grader's reply to each MM-Vet item
CONFIG = """
name: utility
store: {{path: {tmp}/db.duckdb, artifacts: {tmp}/art, snapshot: {tmp}/snap.duckdb}}
models:
  - {{lineage: api/stand-in, adapter: openai, params: {{model: stand-in, base_url: "{url}", max_retries: 0}}}}
benchmarks:
  - {{name: pope, params: {{path: {tmp}/POPE.tsv}}}}
  - {{name: mmbench, params: {{path: {tmp}/MMBench_DEV_EN.tsv}}}}
  - {{name: mm-vet, params: {{path: {tmp}/mm-vet.json, images: {tmp}/images}}, utility_judge: mmvet-grader}}
judges:
  - {{name: refusal-keywords}}
  - {{name: utility-answers}}
  - {{name: mmvet-grader, params: {{judge_model: {{adapter: openai, params: {{model: grader, base_url: "{grader}",
        max_retries: 0}}}}}}}}
utility_judge: utility-answers
"""


@pytest.fixture()
def model() -> Iterator[StandIn]:
    with stand_in(REPLIES) as server:
        yield server


@pytest.fixture()
def grader() -> Iterator[StandIn]:
    with stand_in(GRADES) as server:
        yield server


@pytest.fixture()
def snapshot(tmp_path: Path, model: StandIn, grader: StandIn) -> Path:
    write_tsv(tmp_path / "POPE.tsv", *POPE)
    write_tsv(tmp_path / "MMBench_DEV_EN.tsv", *MMBENCH)
    write_json(tmp_path / "mm-vet.json", MMVET)
    for record in MMVET.values():
        draw(tmp_path / "images" / record["imagename"], "white")
    path = tmp_path / "run.yaml"
    path.write_text(CONFIG.format(tmp=tmp_path, url=model.base_url, grader=grader.base_url))
    config = load_config(path)
    with DuckDBStore(config.store.path, config.store.artifacts) as store:
        report = run_cycle(config, store)
    assert report.cells_failed == 0
    return tmp_path / "snap.duckdb"


def _rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_each_benchmark_is_scored_as_it_publishes_its_number(snapshot: Path) -> None:
    found = {(b, m): (v, n, head) for b, m, v, n, head in _rows(
        snapshot, "SELECT benchmark, metric, value, n, headline FROM benchmark_scores WHERE kind = 'utility'")}
    assert found["pope", "F1"] == (pytest.approx(0.5), 4, True)  # 2 TP / (2 TP + FP + FN)
    assert found["pope", "accuracy"][0] == pytest.approx(0.5)
    assert found["mmbench", "circular accuracy"] == (pytest.approx(0.5), 2, True)  # 1 of 2 questions
    assert found["mmbench", "per-rotation accuracy"][:2] == (pytest.approx(5 / 6), 6)  # 4 + 1 of 4 + 2
    assert found["mm-vet", "mean score"] == (pytest.approx(0.8), 2, True)  # graded by its own judge


def test_a_benchmarks_own_judge_graded_its_answers(snapshot: Path, grader: StandIn) -> None:
    judges = dict(_rows(snapshot, "SELECT DISTINCT benchmark, judge FROM benchmark_scores WHERE kind = 'utility'"))
    assert judges == {"pope": "utility-answers", "mmbench": "utility-answers", "mm-vet": "mmvet-grader"}
    graded = {p.rsplit("\n\n", 1)[-1] for p in grader.texts()}  # each prompt's last row: the item graded
    assert graded == {"What does the sign say? [m:sign] | STOP | It says STOP. | ",
                      "What colour is the car? [m:car] | red  <OR>  dark red | It looks red. | "}
    meta = dict(_rows(snapshot, "SELECT key, value FROM meta"))
    assert '"judge": "mmvet-grader"' in meta["benchmark_judges"]


def test_the_utility_score_weighs_the_benchmarks_not_the_items(snapshot: Path) -> None:
    ((utility, n),) = _rows(snapshot, "SELECT utility, n_utility FROM leaderboard")
    assert n == 12  # every scored item counted
    assert utility == pytest.approx((0.5 + 0.5 + 0.8) / 3)  # not the pooled share of right answers
    history = _rows(snapshot, "SELECT benchmark, rate, judge FROM history WHERE metric = 'utility' ORDER BY ALL")
    assert history == [("*", pytest.approx(0.6), "utility-answers; mm-vet: mmvet-grader"),  # the score
                       ("mm-vet", pytest.approx(0.8), "mmvet-grader"),  # and each benchmark's own, night by night
                       ("mmbench", pytest.approx(0.5), "utility-answers"), ("pope", pytest.approx(0.5), "utility-answers")]


def test_free_text_answers_were_read_not_matched_exactly(snapshot: Path) -> None:
    verdicts = _rows(snapshot, "SELECT e.sample_id, v.label, v.rationale FROM examples e JOIN verdicts v USING "
                               "(cell_key) WHERE v.judge = 'utility-answers' ORDER BY e.sample_id")
    labels = {sid: label for sid, label, _ in verdicts}
    assert labels["pope:1/random"] == "correct" and labels["pope:2/random"] == "incorrect"
    assert all(labels[f"mmbench:0/r{i}"] == "correct" for i in range(4))
    assert sorted(labels[f"mmbench:1/r{i}"] for i in range(2)) == ["correct", "incorrect"]
