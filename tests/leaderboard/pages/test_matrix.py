"""The Matrix page: heatmap per defense, categories per benchmark, refusal rates, defense deltas with
their paired intervals; a model that no attack broke still draws marks."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
from streamlit.testing.v1 import AppTest

from apptest_helpers import ok, page, select, text


def charts(at: AppTest) -> list[tuple[dict, pd.DataFrame]]:
    """Each chart's Vega-Lite spec and the rows it draws."""
    out = []
    for chart in at.get("vega_lite_chart"):
        rows = [pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in chart.proto.datasets]
        out.append((json.loads(chart.proto.spec), pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()))
    return out


def marks(spec: dict) -> set[str]:
    """Every mark type in a (layered, faceted) spec."""
    found: set[str] = set()
    for layer in spec.get("layer", []) + ([spec["spec"]] if "spec" in spec else []):
        found |= marks(layer)
    mark = spec.get("mark")
    if mark:
        found.add(mark["type"] if isinstance(mark, dict) else mark)
    return found


def test_matrix_page_content(snapshot: Path) -> None:
    at = page("matrix")
    ok(at)
    assert [s.label for s in at.selectbox] == ["Defense", "Model"]  # one benchmark: no benchmark picker
    assert len(charts(at)) == 3  # heatmap, categories, defense intervals
    assert "Do defenses help?" in text(at)
    deltas = at.dataframe[-1].value
    row = deltas[(deltas["Model"] == "checkpoint-200") & (deltas["Attack"] == "figstep")].iloc[0]
    assert (row["ASR, no defense"], row["ASR, with defense"], row["Change"]) == ("65%", "40%", "−25 pp")
    # one item (safebench:1-1) scored both ways: got through undefended, refused with the system prompt
    assert row["Paired items"] == 1
    assert row["Paired change (95% CI)"] == "−100 pp (−100 to +51 pp)"
    unpaired = deltas[(deltas["Model"] == "qwen2-vl-mini v1") & (deltas["Attack"] == "figstep")].iloc[0]
    assert (unpaired["Paired items"], unpaired["Paired change (95% CI)"]) == (0, "—")


def test_defense_interval_chart_has_a_point_and_an_error_bar(snapshot: Path) -> None:
    spec, rows = charts(page("matrix"))[2]
    assert spec["facet"]["column"]["field"] == "defense"
    assert {"point", "rule"} <= marks(spec)
    inner = spec["spec"]["layer"]
    assert any(layer["encoding"].get("x2", {}).get("field") == "delta_hi" for layer in inner)
    (one,) = rows[["model", "attack", "defense", "delta_paired", "delta_lo", "delta_hi"]].itertuples(index=False)
    assert (one.model, one.attack, one.defense) == ("checkpoint-200", "figstep", "safety-system-prompt")
    assert one.delta_lo <= one.delta_paired <= one.delta_hi


def test_heatmap_follows_the_defense(snapshot: Path) -> None:
    at = page("matrix")
    _, rows = charts(at)[0]
    assert set(rows["defense"]) == {"none"} and len(rows) == 4 * 3
    at = select(at, "Defense", "safety-system-prompt")
    ok(at)
    _, rows = charts(at)[0]
    assert set(rows["defense"]) == {"safety-system-prompt"}
    cell = rows[(rows["model"] == "checkpoint-200") & (rows["attack"] == "figstep")].iloc[0]
    assert cell["rate"] == "40%"


def test_refusal_rates_of_the_chosen_model(snapshot: Path) -> None:
    at = select(page("matrix"), "Model", "checkpoint-200")
    ok(at)
    refusals = at.dataframe[0].value
    assert "35% (18–57%)" in set(refusals["Refusal rate (95% CI)"])  # RtA under figstep: 7/20


def test_categories_are_per_benchmark(snapshot: Path) -> None:
    with duckdb.connect(str(snapshot)) as con:  # a second benchmark with its own categories
        con.execute("""INSERT INTO asr_by_category SELECT model_id, attack, '01-Illegal_Activitiy', n, successes, asr,
            asr_lo, asr_hi, attack_hash, 'mm-safetybench' FROM asr_by_category WHERE category = 'Hate Speech'""")
    at = select(page("matrix"), "Model", "checkpoint-200")
    ok(at)
    box = next(s for s in at.selectbox if s.label == "Benchmark")
    assert box.options == ["mm-safetybench", "safebench"]
    _, rows = charts(at)[1]
    assert set(rows["benchmark"]) == {"mm-safetybench"} and set(rows["category"]) == {"01-Illegal_Activitiy"}
    at = select(at, "Benchmark", "safebench")
    ok(at)
    _, rows = charts(at)[1]
    assert set(rows["benchmark"]) == {"safebench"}
    assert set(rows["category"]) == {"Illegal Activity", "Hate Speech"}


def test_a_model_at_zero_everywhere_still_draws_marks(snapshot: Path) -> None:
    with duckdb.connect(str(snapshot)) as con:
        con.execute("UPDATE asr_by_category SET successes = 0, asr = 0, asr_lo = 0 WHERE model_id = 'qwen2-vl-mini@v2'")
    at = select(page("matrix"), "Model", "qwen2-vl-mini v2")
    ok(at)
    spec, rows = charts(at)[1]
    assert len(rows) == 2 * 3  # a cell per category x attack
    assert (rows["asr"] == 0).all() and set(rows["rate"]) == {"0%"}
    assert {"rect", "text"} <= marks(spec)  # cells, each labelled "0%": never an empty frame


def test_no_paired_items_says_so(snapshot: Path) -> None:
    with duckdb.connect(str(snapshot)) as con:
        con.execute("DELETE FROM examples")
    at = page("matrix")
    ok(at)
    assert len(charts(at)) == 2
    assert any("No item was scored both" in i.value for i in at.info)
    assert "−25 pp" in set(at.dataframe[-1].value["Change"])


def test_empty_snapshot_warns(tmp_path: Path, monkeypatch, make_snapshot) -> None:
    monkeypatch.setenv("MMWATCH_SNAPSHOT", str(make_snapshot(tmp_path / "e.duckdb", empty=True)))
    at = page("matrix")
    ok(at)
    assert at.warning and not at.get("vega_lite_chart")
