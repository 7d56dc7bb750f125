"""Loader parameters are typed from the loader's signature, on the command line and in a config.

`-p tiny=false` must load the full set (a bool False, not the truthy string "false"), an int
given as "3" is an int, a list may be given as "a,b", and a value of the wrong type stops with a
message naming the parameter and the benchmark (exit code 2 on the command line), before any
sample is loaded or any store opened.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mmwatch import plugins
from mmwatch.cli import app
from mmwatch.config import ConfigError, load_config

runner = CliRunner()
TASKS = 7  # SafeBench-Tiny keeps task_id 1-5 of each category


@pytest.fixture()
def safebench(tmp_path: Path) -> Path:
    rows = ["dataset,category_id,task_id,category_name,question,instruction"]
    rows += [f"SafeBench,1,{t},Illegal Activity,How can I do thing {t}?,Steps to do thing {t}." for t in range(1, TASKS + 1)]
    path = tmp_path / "safebench.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture()
def moss(tmp_path: Path) -> Path:
    records = [{"image": f"images/{i}.png", "short description": "a toy knife", "description": "a playroom",
                "question": f"What game can a child play here ({i})?", "pid": str(i),
                "metadata": {"over": "type 1", "human": 0, "child": 1, "syn": 1, "ocr": 0, "harm": [7]}}
               for i in (1, 2)]
    path = tmp_path / "moss.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    return path


def show(name: str, *params: str) -> tuple[int, str]:
    result = runner.invoke(app, ["benchmarks", "show", name, *(a for p in params for a in ("-p", p))])
    return result.exit_code, " ".join(result.output.split())


def loaded(output: str, name: str) -> int:
    match = re.search(rf"{re.escape(name)}: (\d+) samples", output)
    assert match, output
    return int(match.group(1))


@pytest.mark.parametrize(("value", "expected"), [("false", TASKS), ("False", TASKS), ("0", TASKS), ("true", 5),
                                                 ("yes", 5)])
def test_a_bool_given_as_text_is_a_bool(safebench: Path, value: str, expected: int) -> None:
    code, output = show("figstep-safebench", f"path={safebench}", f"tiny={value}")
    assert code == 0, output
    assert loaded(output, "figstep-safebench") == expected


def test_contrast_false_loads_mossbench_as_benign(moss: Path) -> None:
    code, output = show("mossbench", f"path={moss}", "contrast=false")
    assert code == 0, output
    assert loaded(output, "mossbench") == 2 and "harmful" not in output
    assert "mossbench:1/text (benign, exaggerated_risk)" in output and "mossbench:2/text (benign," in output
    code, output = show("mossbench", f"path={moss}", "contrast=true")
    assert code == 0 and "mossbench:contrast/1/text (harmful," in output and "(benign" not in output, output


def test_an_int_given_as_text_is_an_int_and_a_list_is_comma_separated() -> None:
    full = list(plugins.benchmarks.build("mmwatch-mini", {"kinds": ["harmful"]}).obj)
    per_category = Counter(s.category for s in full)
    assert max(per_category.values()) > 1  # so that per_category=1 really cuts
    code, output = show("mmwatch-mini", "per_category=1", "kinds=harmful")
    assert code == 0, output
    assert loaded(output, "mmwatch-mini") == len(per_category)
    code, output = show("mmwatch-mini", "per_category=1", "kinds=harmful,benign")
    assert code == 0 and "benign" in output and "utility" not in output, output


@pytest.mark.parametrize(("name", "param", "expected"), [
    ("figstep-safebench", "tiny=maybe", "benchmark 'figstep-safebench' parameter tiny: expected bool, got 'maybe'"),
    ("mmwatch-mini", "per_category=three", "benchmark 'mmwatch-mini' parameter per_category: expected int | None, "
                                           "got 'three'"),
    ("mossbench", "contrast=2", "benchmark 'mossbench' parameter contrast: expected bool, got '2'"),
    ("figstep-safebench", "tiny", "benchmark 'figstep-safebench': parameter 'tiny' is not KEY=VALUE"),
    ("figstep-safebench", "tyni=false", "benchmark 'figstep-safebench' takes no parameter tyni"),
])
def test_a_wrong_value_is_refused_naming_parameter_and_benchmark(safebench: Path, name: str, param: str,
                                                                 expected: str) -> None:
    code, output = show(name, f"path={safebench}", param) if name != "mmwatch-mini" else show(name, param)
    assert code == 2, output
    assert expected in output and "Traceback" not in output


CONFIG = """
store: {{path: {tmp}/db.duckdb, artifacts: {tmp}/art, snapshot: {tmp}/snap.duckdb}}
models: [{{lineage: reference/refuse-all, adapter: reference, params: {{behaviour: refuse-all}}}}]
benchmarks:
  - {{name: mmwatch-mini, params: {{per_category: "1"}}}}
  - {{name: figstep-safebench, params: {{path: {csv}, tiny: {tiny}}}}}
judges: [{{name: refusal-keywords}}, {{name: exact-match}}]
"""


def write_config(tmp_path: Path, csv: Path, tiny: str) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(CONFIG.format(tmp=tmp_path, csv=csv, tiny=tiny), encoding="utf-8")
    return path


@pytest.mark.parametrize(("tiny", "expected"), [('"false"', TASKS), ("false", TASKS), ('"true"', 5), ("true", 5)])
def test_a_config_s_params_are_read_as_the_loader_s_types(tmp_path: Path, safebench: Path, tiny: str,
                                                          expected: int) -> None:
    config = load_config(write_config(tmp_path, safebench, tiny))
    mini, figstep = config.benchmarks
    assert len(list(plugins.benchmarks.build(figstep.name, figstep.params).obj)) == expected
    built = plugins.benchmarks.build(mini.name, mini.params)
    assert built.spec.params["per_category"] == 1  # recorded as the int it is
    assert max(Counter((s.kind, s.category) for s in built.obj).values()) == 1


def test_a_config_with_a_wrong_type_is_refused_naming_parameter_and_benchmark(tmp_path: Path, safebench: Path) -> None:
    path = write_config(tmp_path, safebench, "maybe")
    with pytest.raises(ConfigError, match=r"benchmarks\[1\]\.params: benchmark 'figstep-safebench' parameter tiny: "
                                          r"expected bool, got 'maybe'"):
        load_config(path)
    result = runner.invoke(app, ["run", "--config", str(path)])
    flat = " ".join(result.output.split())
    assert result.exit_code == 2 and "parameter tiny: expected bool, got 'maybe'" in flat, flat
    assert "Traceback" not in flat and not (tmp_path / "db.duckdb").exists()


def test_only_a_string_for_a_list_parameter_is_split() -> None:
    from mmwatch.params import checked_params

    def factory(ids: list[int] | None = None, name: str = "", pair: tuple[str, str] = ("a", "b")) -> None: ...

    assert checked_params(factory, {"ids": "1, 2,3", "name": "a,b", "pair": "x,y"}, "f") == {
        "ids": [1, 2, 3], "name": "a,b", "pair": ("x", "y")}
    given = [4]
    assert checked_params(factory, {"ids": given}, "f")["ids"] is given  # a config's own list is kept as given
    with pytest.raises(ValueError, match=r"f parameter ids: expected list\[int\] \| None, got '1,x'"):
        checked_params(factory, {"ids": "1,x"}, "f")
