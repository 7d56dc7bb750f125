"""The front door: exit codes and messages a user sees."""

from __future__ import annotations

from pathlib import Path

import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from mmwatch.cli import app, run

runner = CliRunner()


def test_bad_config_exits_non_zero_naming_file_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("benchmarks: [{name: mmwatch-mini}]\nattacks: [{name: figstpe}]\njudges: [{name: refusal-keywords}, {name: exact-match}]\n")
    result = runner.invoke(app, ["run", "--config", str(bad)])
    assert result.exit_code == 2
    assert "bad.yaml" in result.output and "attacks[0].name" in result.output and "figstep" in result.output
    assert not (tmp_path / "mmwatch.duckdb").exists()


def test_preview_writes_the_attack_image_and_prints_the_prompt(tmp_path: Path) -> None:
    result = runner.invoke(app, ["preview", "figstep", "--text", "Steps to pick a lock.", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "text prompt" in result.output and "numbered" in result.output
    assert list(tmp_path.glob("*.png"))


def test_preview_unknown_attack_suggests(tmp_path: Path) -> None:
    result = runner.invoke(app, ["preview", "typografy", "--text", "x", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "did you mean 'typography'" in result.output


def test_make_tiny_model(tmp_path: Path) -> None:
    result = runner.invoke(app, ["make-tiny-model", str(tmp_path / "m"), "--seed", "3"])
    assert result.exit_code == 0 and (tmp_path / "m" / "config.json").exists()


def small_config(tmp_path: Path) -> Path:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"""
store: {{path: {tmp_path}/db.duckdb, artifacts: {tmp_path}/art, snapshot: {tmp_path}/snap.duckdb}}
models: [{{lineage: reference/refuse-all, adapter: reference, params: {{behaviour: refuse-all}}}}]
benchmarks: [{{name: mmwatch-mini, limit: 6}}]
judges: [{{name: refusal-keywords}}, {{name: exact-match}}]
""")
    return cfg


def test_run_twice_says_nothing_new(prefect_harness: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = small_config(tmp_path)
    run(config=cfg)  # the command's function, called as typer calls it
    first = capsys.readouterr().out
    assert "6 new cells" in first and "refuse-all" in first and "No safety regression" in first
    run(config=cfg)
    assert "no new cell computed" in capsys.readouterr().out


@pytest.mark.slow
def test_console_script_runs_a_cycle_in_a_fresh_process(tmp_path: Path) -> None:
    """The installed `mmwatch` entry point, with Prefect's temporary local server (no harness)."""
    cfg = small_config(tmp_path)
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect")}
    exe = Path(sys.executable).with_name("mmwatch")
    done = subprocess.run([str(exe), "run", "--config", str(cfg)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "6 new cells" in done.stdout and (tmp_path / "snap.duckdb").exists()
