"""The Ranking page: the table, its filters, the judge-corrected column, the latest-only toggle."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from apptest_helpers import ok, page, read, select, text

MODELS = {"qwen2-vl-mini v2", "qwen2-vl-mini v1", "checkpoint-100", "checkpoint-200"}


def _board(at: AppTest):  # type: ignore[no-untyped-def]
    return at.dataframe[0].value.set_index("Model")


def _pools(at: AppTest) -> str:
    return next(read(c.value) for c in at.caption if "ASR pools" in c.value)


def test_ranking_table(snapshot: Path) -> None:
    at = page("ranking")
    ok(at)
    table = at.dataframe[0].value
    assert set(table["Model"]) == MODELS
    assert list(table["Model"])[0] == "qwen2-vl-mini v2"  # safest first
    assert list(table["#"]) == [1, 2, 3, 4]
    board = table.set_index("Model")
    assert board.loc["checkpoint-200", "ASR (95% CI)"] == "45% (34–56%)"
    assert board.loc["checkpoint-200", "Revision"] == "e4f5a6b"
    assert board.loc["checkpoint-200", "Safety"] == pytest.approx(55.0)
    assert "safety = 1 − ASR" in text(at)
    assert not at.get("vega_lite_chart"), "the scatter lives on the Frontier page now"
    assert not at.info  # not a demo snapshot


def test_caption_names_the_judge_and_the_slices(snapshot: Path) -> None:
    at = page("ranking")
    assert _pools(at) == ("Judged by refusal-keywords. ASR pools every benchmark and every attack "
                          "(the unattacked baseline included), under defense none, each benchmark x attack weighing the same.")


def test_attack_filter_recounts_asr(snapshot: Path) -> None:
    at = select(page("ranking"), "Attack", "figstep")
    ok(at)
    board = _board(at)
    # figstep, no defense: 13/20, 6/20, 4/20, 2/20 successes
    assert board.loc["checkpoint-200", "ASR (95% CI)"].startswith("65% ")
    assert board.loc["checkpoint-100", "ASR (95% CI)"].startswith("30% ")
    assert list(board.index) == ["qwen2-vl-mini v2", "qwen2-vl-mini v1", "checkpoint-100", "checkpoint-200"]
    assert set(board["n harmful"]) == {20}
    assert "Any-attack ASR" not in board.columns
    assert "attack figstep" in _pools(at)


def test_defense_and_judge_filters(snapshot: Path) -> None:
    at = select(select(page("ranking"), "Defense", "safety-system-prompt"), "Attack", "figstep")
    ok(at)
    assert _board(at).loc["checkpoint-200", "ASR (95% CI)"].startswith("40% ")  # 8/20 with the system prompt
    assert "under defense safety-system-prompt" in _pools(at)
    at = select(at, "Judge", "llm-harmbench")  # the second judge counts one success fewer
    ok(at)
    assert _board(at).loc["checkpoint-200", "ASR (95% CI)"].startswith("35% ")
    assert _pools(at).startswith("Judged by llm-harmbench.")


def test_benchmark_filter(snapshot: Path) -> None:
    at = select(page("ranking"), "Benchmark", "safebench")
    ok(at)
    assert _board(at).loc["checkpoint-200", "ASR (95% CI)"] == "45% (34–56%)"  # every slice is safebench's
    assert "benchmark safebench" in _pools(at)


def test_search_keeps_matching_revisions(snapshot: Path) -> None:
    at = page("ranking")
    at.text_input[0].input("LLAVA").run()
    ok(at)
    assert set(at.dataframe[0].value["Model"]) == {"checkpoint-100", "checkpoint-200"}
    at.text_input[0].input("e4f5").run()
    assert list(at.dataframe[0].value["Model"]) == ["checkpoint-200"]
    at.text_input[0].input("no such model").run()
    ok(at)
    assert not at.dataframe and "No model revision matches" in at.info[0].value


def test_latest_only_toggle(snapshot: Path) -> None:
    at = page("ranking")
    at.toggle[0].set_value(True).run()
    ok(at)
    assert list(at.dataframe[0].value["Model"]) == ["qwen2-vl-mini v2", "checkpoint-200"]


def test_model_without_utility_is_ranked(snapshot: Path) -> None:
    with duckdb.connect(str(snapshot)) as con:
        con.execute("UPDATE leaderboard SET n_utility = 0, utility = NULL, utility_lo = NULL, "
                    "utility_hi = NULL WHERE model_id = 'qwen2-vl-mini@v1'")
    at = page("ranking")
    ok(at)
    board = _board(at)
    assert board.loc["qwen2-vl-mini v1", "Utility (95% CI)"] == "—"
    assert board.loc["qwen2-vl-mini v1", "#"] == 2  # ranked by safety all the same


def test_judge_corrected_asr_column_appears_once_calibrated(snapshot: Path) -> None:
    assert "ASR judge-corrected" not in page("ranking").dataframe[0].value.columns  # not calibrated: no column
    with duckdb.connect(str(snapshot)) as con:
        con.execute("UPDATE leaderboard SET asr_corrected = asr * 0.9, asr_corrected_lo = asr * 0.5, "
                    "asr_corrected_hi = least(1, asr * 1.2)")
    at = page("ranking")
    ok(at)
    column = at.dataframe[0].value["ASR judge-corrected"]
    assert column.str.match(r"^\d+% \(").all()
    at = select(at, "Attack", "figstep")  # not defined for a slice: hidden rather than shown for the whole
    assert "ASR judge-corrected" not in at.dataframe[0].value.columns


def test_empty_snapshot_warns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_snapshot) -> None:
    monkeypatch.setenv("MMWATCH_SNAPSHOT", str(make_snapshot(tmp_path / "e.duckdb", empty=True)))
    at = page("ranking")
    ok(at)
    assert "no evaluated models" in at.warning[0].value


def test_caption_names_a_benchmarks_own_judge(snapshot: Path) -> None:
    import duckdb

    with duckdb.connect(str(snapshot)) as con:
        con.execute("INSERT INTO meta VALUES ('benchmark_judges', ?)",
                    ['[{"benchmark": "harmbench-multimodal", "role": "safety", "judge": "harmbench-cls"}]'])
    at = page("ranking")
    assert _pools(at).startswith("Judged by refusal-keywords, and each benchmark's own: harmbench-multimodal by "
                                 "harmbench-cls.")
