"""The Benchmarks page: each benchmark's own number with its metric, by the judge that counted it."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from apptest_helpers import ok, page, read, text


def test_safety_benchmarks_show_each_ones_asr_by_its_judge(snapshot: Path) -> None:
    at = page("benchmarks")
    ok(at)
    safety = at.dataframe[0].value.set_index("Model")
    assert safety.loc["checkpoint-200", "harmbench-multimodal · ASR"] == "25% (10–50%)"
    assert safety.loc["checkpoint-100", "harmbench-multimodal · ASR"] == "—"  # not run on it: no number
    assert safety.loc["checkpoint-100", "safebench · ASR"] == "30% (15–50%)"
    caption = read(at.caption[1].value)
    assert "harmbench-multimodal: ASR by harmbench-cls" in caption.replace("*", "")
    assert "safebench: ASR by refusal-keywords" in caption.replace("*", "")


def test_utility_benchmarks_show_their_published_metric(snapshot: Path) -> None:
    at = page("benchmarks")
    utility = at.dataframe[1].value.set_index("Model")
    assert list(utility.columns) == ["pope · F1"]  # the headline only; the yes ratio is in the full table
    assert utility.loc["checkpoint-200", "pope · F1"] == "80% (70–88%)"
    every = at.dataframe[-1].value
    assert "yes ratio" in set(every["Metric"]) and "over-refusal" in set(every["Metric"])


def test_a_benchmark_counted_by_another_judge_than_its_papers_says_so(snapshot: Path) -> None:
    with duckdb.connect(str(snapshot)) as con:
        con.execute("UPDATE benchmark_scores SET judge = 'harm-rules' WHERE benchmark = 'harmbench-multimodal'")
    at = page("benchmarks")
    ok(at)
    assert "its paper counts with harmbench-cls" in read(text(at))


def test_an_older_snapshot_without_the_table_says_to_republish(snapshot: Path) -> None:
    with duckdb.connect(str(snapshot)) as con:
        con.execute("DROP TABLE benchmark_scores")
    at = page("benchmarks")
    ok(at)
    assert any("Publish it again" in i.value for i in at.info)


@pytest.mark.parametrize("table", ["harmful", "utility"])
def test_a_kind_with_no_benchmark_says_so(snapshot: Path, table: str) -> None:
    with duckdb.connect(str(snapshot)) as con:
        con.execute("DELETE FROM benchmark_scores WHERE kind = ?", [table])
    at = page("benchmarks")
    ok(at)
    assert any(f"No {table} benchmark was scored" in i.value for i in at.info)
