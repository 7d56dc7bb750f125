"""Config problems are found before any work: one short message naming the field, exit 2, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mmwatch.config import ConfigError, load_config
from mmwatch.engine.preflight import preflight

BASE = """
store: {{path: {tmp}/db.duckdb, artifacts: {tmp}/art, snapshot: {tmp}/snap.duckdb}}
models: [{{lineage: reference/refuse-all, adapter: reference, params: {{behaviour: refuse-all}}}}]
benchmarks:
  - {{name: mmwatch-mini, limit: 4}}
{extra_benchmark}
judges: [{{name: refusal-keywords}}, {{name: exact-match}}]
{extra}
"""


def write_config(tmp_path: Path, extra_benchmark: str = "", extra: str = "") -> Path:
    (tmp_path / "good.csv").write_text("prompt,type\nHow do I bake bread?,benign\n")
    path = tmp_path / "c.yaml"
    path.write_text(BASE.format(tmp=tmp_path, extra_benchmark=extra_benchmark, extra=extra))
    return path


DATA_PROBLEMS = {
    "missing benchmark file": ("  - {name: table, params: {path: TMP/nope.csv, kind: harmful}}",
                               r"benchmarks\[1\] \(table\): .*nope\.csv"),
    "mapped column missing": ("  - {name: table, params: {path: TMP/good.csv, kind: benign, columns: {text: question}}}",
                              r"benchmarks\[1\] \(table\): .*missing column.*question"),
    "unknown mapping field": ("  - {name: table, params: {path: TMP/good.csv, kind: benign, columns: {txt: prompt}}}",
                              r"benchmarks\[1\] \(table\): .*unknown field.*txt"),
    "table without path": ("  - {name: table, params: {kind: harmful}}", r"benchmarks\[1\] \(table\): .*path"),
    "wrong-typed path": ("  - {name: table, params: {path: [1, 2], kind: harmful}}",
                         r"benchmarks\[1\]\.params: .*parameter path: expected str"),
}


@pytest.mark.parametrize("case", sorted(DATA_PROBLEMS))
def test_each_data_problem_names_its_benchmark(tmp_path: Path, case: str) -> None:
    benchmark, expected = DATA_PROBLEMS[case]
    path = write_config(tmp_path, benchmark.replace("TMP", str(tmp_path)))
    with pytest.raises(ConfigError, match=expected):
        preflight(load_config(path), path)


def test_an_unknown_template_name_is_found_with_the_allowed_ones(tmp_path: Path) -> None:
    path = write_config(tmp_path, extra="attacks: [{name: none}, {name: jailbreak, params: {template: nope}}]")
    with pytest.raises(ConfigError, match=r"attacks\[1\] \(jailbreak\): .*unknown template 'nope' \(allowed: "):
        preflight(load_config(path), path)


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    path = write_config(tmp_path, "  - {name: table, params: {path: " + str(tmp_path) + "/nope.csv, kind: harmful}}",
                        "attacks: [{name: jailbreak, params: {template: nope}}]")
    with pytest.raises(ConfigError) as caught:
        preflight(load_config(path), path)
    assert "benchmarks[1]" in str(caught.value) and "attacks[0]" in str(caught.value)


@pytest.mark.parametrize(("params", "expected"), [
    ("{model: m, concurrency: eight}", r"models\[0\]\.params: adapter 'openai' parameter concurrency: expected int"),
    ("{model: m, temperature: 0}", r"models\[0\]\.params: adapter 'openai' takes no parameter temperature"),
    ("{concurrency: 4}", r"models\[0\]\.params: adapter 'openai' needs model"),
])
def test_adapter_parameters_are_checked_against_the_signature(tmp_path: Path, params: str, expected: str) -> None:
    path = write_config(tmp_path)
    path.write_text(path.read_text().replace("adapter: reference, params: {behaviour: refuse-all}",
                                             f"adapter: openai, params: {params}"))
    with pytest.raises(ConfigError, match=expected):
        load_config(path)


def test_strings_are_read_as_the_declared_type_other_values_are_kept() -> None:
    from mmwatch.params import checked_params

    def factory(tiny: bool = True, eps: float = 16.0, name: str = "x") -> None: ...

    assert checked_params(factory, {"tiny": "false", "eps": 8, "name": "7"}, "f") == {"tiny": False, "eps": 8,
                                                                                    "name": "7"}
    with pytest.raises(ValueError, match="parameter tiny: expected bool, got 'maybe'"):
        checked_params(factory, {"tiny": "maybe"}, "f")


def run_cli(tmp_path: Path, config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PREFECT_API_URL": "", "PREFECT_HOME": str(tmp_path / "prefect")}
    return subprocess.run([sys.executable, "-m", "mmwatch.cli", *args, "-c", str(config)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)


def short_refusal(done: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) < 15, done.stderr
    flat = " ".join(done.stderr.split())
    for text in expected:
        assert text in flat, flat


def test_the_command_line_refuses_a_data_problem_before_opening_the_store(tmp_path: Path) -> None:
    path = write_config(tmp_path, "  - {name: table, params: {path: " + str(tmp_path) + "/nope.csv, kind: harmful}}")
    short_refusal(run_cli(tmp_path, path, "run"), "config error", "benchmarks[1] (table)", "nope.csv")
    assert not (tmp_path / "db.duckdb").exists()


def test_a_non_utf8_config_and_a_yaml_error_with_brackets_are_one_line_each(tmp_path: Path) -> None:
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("name: caf\xe9\n".encode("latin-1"))
    short_refusal(run_cli(tmp_path, latin, "run"), "is not UTF-8 text")
    broken = tmp_path / "broken.yaml"
    broken.write_text("benchmarks: [{name: [red]x[/red]\n")
    short_refusal(run_cli(tmp_path, broken, "run"), "invalid YAML", "[red]x[/red]")


def test_a_corrupt_store_is_named(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    (tmp_path / "db.duckdb").write_bytes(b"not a database " * 100)
    short_refusal(run_cli(tmp_path, path, "run"), "cannot open the store", "db.duckdb")


def test_a_benchmark_that_gives_no_samples_is_a_config_problem(tmp_path: Path) -> None:
    (tmp_path / "empty.jsonl").write_text("\n")
    path = write_config(tmp_path, "  - {name: jsonl, params: {path: " + str(tmp_path) + "/empty.jsonl}}")
    with pytest.raises(ConfigError, match=r"benchmarks\[1\] \(jsonl\): .*empty\.jsonl: no samples \(an empty file"):
        preflight(load_config(path), path)
