"""`mmwatch export-site DIR` and `mmwatch export DIR --format parquet|csv` through the real CLI: exit
codes, and one line naming the file on every refusal."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import get_args

import pytest
from typer.testing import CliRunner

from mmwatch.cli import app
from mmwatch.cli.site import FormatName

CONFIG = """
store: {{path: {tmp}/db.duckdb, artifacts: {tmp}/art, snapshot: {snapshot}}}
models:
  - {{lineage: acme/guard, revision: v1, adapter: reference, params: {{behaviour: refuse-all}}}}
benchmarks: [{{name: mmwatch-mini, limit: 2}}]
judges: [{{name: refusal-keywords}}, {{name: exact-match}}]
"""


def _builder():  # tests/leaderboard/conftest.py's snapshot builder (that folder is not a package)
    name = "leaderboard_conftest"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).parents[2] / "leaderboard" / "conftest.py")
        assert spec is not None and spec.loader is not None
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name].build_snapshot


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def snap(tmp_path: Path) -> Path:
    return _builder()(tmp_path / "leaderboard.duckdb")


def _one_line(output: str, *needles: str) -> None:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    for needle in needles:
        assert needle in lines[0], output


def test_export_site_and_rebuild(runner: CliRunner, tmp_path: Path, snap: Path) -> None:
    out = tmp_path / "site"
    first = runner.invoke(app, ["export-site", str(out), "--snapshot", str(snap)])
    assert first.exit_code == 0, first.output
    assert (out / "index.html").is_file() and "4 model pages" in first.output
    again = runner.invoke(app, ["export-site", str(out), "--snapshot", str(snap), "--max-samples", "1"])
    assert again.exit_code == 0, again.output  # a previous export: replaced


def test_export_site_reads_the_configs_snapshot(runner: CliRunner, tmp_path: Path, snap: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(CONFIG.format(tmp=tmp_path, snapshot=snap))
    result = runner.invoke(app, ["export-site", str(tmp_path / "site"), "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "site" / "alerts.html").is_file()


def test_export_site_refusals_exit_2(runner: CliRunner, tmp_path: Path, snap: Path) -> None:
    absent = tmp_path / "absent.duckdb"
    missing = runner.invoke(app, ["export-site", str(tmp_path / "a"), "--snapshot", str(absent)])
    assert missing.exit_code == 2
    _one_line(missing.output, "export-site:", str(absent.resolve()))
    operator = _builder()(tmp_path / "operator.duckdb", show_responses=True)
    refused = runner.invoke(app, ["export-site", str(tmp_path / "b"), "--snapshot", str(operator)])
    assert refused.exit_code == 2
    _one_line(refused.output, str(operator), "operator snapshot")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "mine.txt").write_text("x")
    foreign = runner.invoke(app, ["export-site", str(busy), "--snapshot", str(snap)])
    assert foreign.exit_code == 2
    _one_line(foreign.output, str(busy), "--force")
    forced = runner.invoke(app, ["export-site", str(busy), "--snapshot", str(snap), "--force"])
    assert forced.exit_code == 0 and (busy / "mine.txt").is_file() and (busy / "index.html").is_file()


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_export_tables(runner: CliRunner, tmp_path: Path, snap: Path, fmt: str) -> None:
    out = tmp_path / "tables"
    result = runner.invoke(app, ["export", str(out), "--snapshot", str(snap), "--format", fmt])
    assert result.exit_code == 0, result.output
    assert (out / f"examples.{fmt}").is_file() and (out / "manifest.json").is_file()
    assert "examples" in result.output
    again = runner.invoke(app, ["export", str(out), "--snapshot", str(snap), "--format", fmt])
    assert again.exit_code == 0, again.output
    site = runner.invoke(app, ["export-site", str(out), "--snapshot", str(snap)])  # a tables export is not a site
    assert site.exit_code == 2 and "tables export" in site.output


def test_export_refusals_exit_2(runner: CliRunner, tmp_path: Path, snap: Path) -> None:
    bad = runner.invoke(app, ["export", str(tmp_path / "o"), "--snapshot", str(snap), "--format", "xml"])
    assert bad.exit_code == 2 and "xml" in bad.output
    absent = tmp_path / "absent.duckdb"
    missing = runner.invoke(app, ["export", str(tmp_path / "o"), "--snapshot", str(absent)])
    assert missing.exit_code == 2 and not (tmp_path / "o").exists()
    _one_line(missing.output, "export:", str(absent.resolve()))


def test_operator_export_warns(runner: CliRunner, tmp_path: Path) -> None:
    operator = _builder()(tmp_path / "operator.duckdb", show_responses=True)
    result = runner.invoke(app, ["export", str(tmp_path / "o"), "--snapshot", str(operator)])
    assert result.exit_code == 0 and "do not publish" in result.output


def test_format_names_match_the_enum() -> None:
    from leaderboard.data import ExportFormat

    assert set(get_args(FormatName)) == {f.value for f in ExportFormat}
